"""deploy/k8s/monitoring: the Grafana dashboard, the alert rules and the ServiceMonitor refer only
to what Brickyard really exports (read from a real scrape), and are well-formed. promtool is not
available here, so the rules' structure is checked in Python."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from shared.observability.metrics import FAMILIES
from tests.conftest import bearer

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "monitoring"
K8S = MONITORING.parent
METRIC = re.compile(r"\bbrickyard_[a-z0-9_]+\b")
DURATION = re.compile(r"^\d+[smhd]$")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def load(name: str) -> Any:
    return yaml.safe_load((MONITORING / name).read_text())


def rules() -> list[dict[str, Any]]:
    return [
        rule for group in load("prometheus-rules.yaml")["spec"]["groups"] for rule in group["rules"]
    ]


def dashboard() -> dict[str, Any]:
    return json.loads((MONITORING / "grafana-dashboard.json").read_text())  # type: ignore[no-any-return]


def panel_exprs() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


async def exported_series(client: TestClient) -> dict[str, set[str]]:
    """Series name -> label names, from the families of a real scrape (empty ones included)."""
    text = await (await client.get("/metrics")).text()
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        labels = {label for sample in family.samples for label in sample.labels}
        # A counter nothing has added to yet has no sample to read its labels from.
        labels |= set(FAMILIES[family.name].labels) if family.name in FAMILIES else set()
        for suffix in SUFFIXES[family.type]:
            names[family.name + suffix] = labels
    return names


async def test_every_metric_the_dashboard_and_the_alerts_use_is_exported(
    client: TestClient, make_token, run_jobs
) -> None:
    token = await make_token("alice", "view")
    for body in ({}, {"fail": "on purpose"}):
        await client.post("/selftest/async/start", json=body, headers=bearer(token))
    await run_jobs()  # so that the job families have series and labels to check against
    exported = await exported_series(client)
    used = {
        name
        for expr in [*panel_exprs(), *(r["expr"] for r in rules())]
        for name in METRIC.findall(expr)
    }
    assert len(used) >= 12, used
    assert used <= set(exported), f"not exported: {sorted(used - set(exported))}"
    # Grouping labels (by (...)) are labels the metric has (or le, of a histogram's buckets).
    for expr in [*panel_exprs(), *(r["expr"] for r in rules())]:
        grouped = {
            label.strip()
            for group in re.findall(r"by \(([^)]*)\)", expr)
            for label in group.split(",")
        }
        have = set().union(*(exported[name] for name in METRIC.findall(expr)))
        assert grouped <= have | {"le"}, (expr, grouped - have)


def test_alert_rules_are_well_formed() -> None:
    document = load("prometheus-rules.yaml")
    assert (
        document["kind"] == "PrometheusRule"
        and document["apiVersion"] == "monitoring.coreos.com/v1"
    )
    found = rules()
    names = [rule["alert"] for rule in found]
    assert len(names) == len(set(names)) and len(names) >= 6
    for rule in found:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert "for" not in rule or DURATION.match(rule["for"]), rule["for"]
        expr = rule["expr"]
        for opening, closing in ("()", "{}", "[]"):
            assert expr.count(opening) == expr.count(closing), expr
        assert re.search(r"(>|<|==|absent\()", expr), f"{rule['alert']} compares nothing"


def test_the_grafana_dashboard_is_well_formed() -> None:
    board = dashboard()
    assert board["uid"] == "brickyard" and board["schemaVersion"] >= 36
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}"
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs)) and all(t["expr"] for t in panel["targets"])
    titles = " ".join(panel["title"] for panel in board["panels"]).lower()
    for needed in ("throughput", "items per second", "queue depth", "queue latency", "p50 / p95"):
        assert needed in titles


def test_the_service_monitor_scrapes_the_gateway_service() -> None:
    monitor = load("servicemonitor.yaml")
    service = yaml.safe_load((K8S / "gateway-service.yaml").read_text())
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    ports = {port["name"] for port in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in ports and endpoint["path"] == "/metrics"
        assert DURATION.match(endpoint["interval"]) and DURATION.match(endpoint["scrapeTimeout"])
    component = load("kustomization.yaml")
    assert component["kind"] == "Component"
    assert sorted(component["resources"]) == sorted(
        p.name for p in MONITORING.glob("*.yaml") if p.name != "kustomization.yaml"
    )


def test_kustomize_builds_the_base_with_the_monitoring_component(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    base = os.path.relpath(K8S, overlay)
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{base}]\ncomponents: [{base}/monitoring]\n"
    )
    built = subprocess.run(
        ["kubectl", "kustomize", str(overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    kinds = [doc["kind"] for doc in yaml.safe_load_all(built.stdout) if doc]
    assert {"ServiceMonitor", "PrometheusRule", "Deployment"} <= set(kinds)
