"""The deployment files, checked without a cluster or a Docker daemon: every Kubernetes manifest
loads, is listed by its kustomization and (core kinds) validates against the Kubernetes schemas
bundled with kubernetes-validate; compose.yaml names its services; the Dockerfile is multi-stage
and non-root; the systemd units run as a dedicated user, sandboxed."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared.settings import Settings, declared

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES = "1.33.0"
CUSTOM_KINDS = {"ScaledObject", "Kustomization", "Component", "ServiceMonitor", "PrometheusRule"}


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def manifests() -> list[Path]:
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def test_every_manifest_is_listed_by_its_kustomization() -> None:
    listed: set[Path] = set()
    for kustomization in kustomizations():
        (spec,) = documents(kustomization)
        for name in spec.get("resources", []):
            path = (kustomization.parent / name).resolve()
            assert path.is_file(), f"{kustomization} lists {name}, which does not exist"
            listed.add(path)
    assert listed == {p.resolve() for p in manifests()}


@pytest.mark.parametrize("path", manifests(), ids=lambda p: str(p.relative_to(K8S)))
def test_core_kinds_validate_against_the_kubernetes_schemas(path: Path) -> None:
    for doc in documents(path):
        assert doc["metadata"]["name"].startswith("brickyard")
        if doc["kind"] not in CUSTOM_KINDS:
            # strict: a misspelt or misplaced field is an error, not silently ignored.
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def by_kind() -> dict[tuple[str, str], dict[str, Any]]:
    base = [doc for path in manifests() if path.parent == K8S for doc in documents(path)]
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in base}


def test_deployments_probe_limit_and_run_as_a_user() -> None:
    docs = by_kind()
    gateway = docs["Deployment", "brickyard-gateway"]["spec"]["template"]["spec"]
    (container,) = gateway["containers"]
    assert container["args"] == ["gateway"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    refs = [next(iter(source.values()))["name"] for source in container["envFrom"]]
    assert refs == ["brickyard-settings", "brickyard-secrets"]
    assert ("ConfigMap", "brickyard-settings") in docs and ("Secret", "brickyard-secrets") in docs
    for name, args in [("brickyard-gateway", "gateway"), ("brickyard-worker", "worker")]:
        pod = docs["Deployment", name]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        (container,) = pod["containers"]
        assert container["args"] == [args]
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
    job = docs["Job", "brickyard-migrate"]["spec"]["template"]["spec"]
    assert job["containers"][0]["args"] == ["migrate"]
    service = docs["Service", "brickyard-gateway"]["spec"]
    assert (
        service["selector"]
        == docs["Deployment", "brickyard-gateway"]["spec"]["selector"]["matchLabels"]
    )
    for name in ("brickyard-gateway", "brickyard-worker"):
        budget = docs["PodDisruptionBudget", name]["spec"]["selector"]
        assert budget == docs["Deployment", name]["spec"]["selector"]


def test_keda_scales_the_workers_on_queue_depth() -> None:
    scaled = by_kind()["ScaledObject", "brickyard-worker"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == "brickyard-worker"
    # At least one worker always runs: workers run the reconciler.
    assert scaled["spec"]["minReplicaCount"] >= 1
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    query = trigger["metadata"]["query"]
    assert "brickyard_queue_depth" in query
    exported = (DEPLOY.parent / "shared" / "observability" / "exposition.py").read_text()
    for metric in re.findall(r"brickyard_\w+", query):
        assert f'"{metric}"' in exported, f"the query reads {metric}, which no gateway exports"
    hpa = documents(K8S / "hpa-example" / "hpa.yaml")[0]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "brickyard-worker"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (for kustomize) not found")
def test_kustomize_builds_the_base_and_the_hpa_variant(tmp_path: Path) -> None:
    def kinds(directory: Path) -> list[str]:
        built = subprocess.run(
            ["kubectl", "kustomize", str(directory)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return sorted(doc["kind"] for doc in yaml.safe_load_all(built.stdout) if doc)

    assert "ScaledObject" in kinds(K8S)
    # Kustomize wants relative paths, and an overlay outside the base.
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    base = os.path.relpath(K8S, overlay)
    (overlay / "kustomization.yaml").write_text(
        f"resources: [{base}]\ncomponents: [{base}/hpa-example]\n"
    )
    variant = kinds(overlay)
    assert "ScaledObject" not in variant and "HorizontalPodAutoscaler" in variant


def test_compose_names_its_services() -> None:
    (compose,) = documents(DEPLOY / "compose.yaml")
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "gateway", "worker"}
    for name in ("migrate", "gateway", "worker"):
        assert services[name]["command"] == [name]
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["worker"].get("ports") is None  # `--scale worker=N` needs no port each
    waits_for = services["gateway"]["depends_on"]
    assert waits_for["migrate"]["condition"] == "service_completed_successfully"
    settings = services["gateway"]["environment"]
    assert settings["BRICKYARD_DATABASE_URL"].startswith("postgresql://")
    assert settings["BRICKYARD_REDIS_URL"].startswith("redis://redis:")


def test_every_shipped_setting_is_valid() -> None:
    """The settings the deployment files give pass the same check as at start-up."""
    docs = by_kind()
    configured = {
        **docs["ConfigMap", "brickyard-settings"]["data"],
        **docs["Secret", "brickyard-secrets"]["stringData"],
    }
    (compose,) = documents(DEPLOY / "compose.yaml")
    env_file = (DEPLOY / "brickyard.env.example").read_text().splitlines()
    for environment in (
        configured,
        compose["services"]["gateway"]["environment"],
        dict(line.split("=", 1) for line in env_file if line and not line.startswith("#")),
    ):
        assert set(environment) <= {item.metadata["env"] for item in declared()}
        Settings.from_env(environment)


def test_dockerfile_is_multi_stage_non_root_and_runs_brickyard() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+\S+(?:\s+AS\s+(\S+))?", text, re.MULTILINE | re.IGNORECASE)
    assert len(stages) >= 2 and stages[0] == "build"
    assert "COPY --from=build" in text
    assert re.search(r"pip install \.$", text, re.MULTILINE)
    user = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0"))
    assert re.search(r'^ENTRYPOINT \["brickyard"\]', text, re.MULTILINE)
    # What `pip install .` needs is in the build context; the rest stays out.
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE)
    for source in " ".join(copied).split():
        assert f"!{source}" in ignore


@pytest.mark.parametrize("unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=str)
def test_systemd_units_are_hardened(unit: Path) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text())
    service = parser["Service"]
    assert service["User"] == "brickyard" and service["ExecStart"].split()[-1] in (
        "gateway",
        "worker",
    )
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[key] == value, key
    if shutil.which("systemd-analyze"):
        analysis = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", "--threshold=20", str(unit)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        # Exposure on its 0-100 scale (shown as 0.0-10.0): at most "2.0 OK".
        assert analysis.returncode == 0, analysis.stdout[-2000:]


def first_token_commands() -> dict[str, list[str]]:
    """deploy/README.md's first-token commands, by the tool that runs them (continued lines
    joined)."""
    text = (DEPLOY / "README.md").read_text().split("## The first token", 1)[1]
    block = text.split("```sh", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in block.splitlines():
        if "token create" in line:
            words = line.split("$(", 1)[1].rstrip(")").split()
            found[words[1] if words[0] == "sudo" else words[0]] = words
    return found


def test_the_first_token_commands_name_real_services_and_parse() -> None:
    from shared.auth import SCOPES
    from shared.cli import build_parser

    commands = first_token_commands()
    assert set(commands) == {"docker", "kubectl", "systemd-run"}
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    docker = commands["docker"]
    assert docker[:5] == ["docker", "compose", "-f", "deploy/compose.yaml", "exec"]
    service = docker[6] if docker[5] == "-T" else docker[5]
    assert compose["services"][service]["command"] == ["gateway"]
    assert "BRICKYARD_DATABASE_URL" in compose["services"][service]["environment"]
    kubectl = commands["kubectl"]
    kind, name = kubectl[2].split("/")
    assert (kind, name) in {("deploy", "brickyard-gateway")}
    assert by_kind()[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "gateway"
    ]
    for words in commands.values():
        at = next(
            i
            for i, word in enumerate(words)
            if word.split("/")[-1] == "brickyard" and "=" not in word
        )
        args = build_parser().parse_args(words[at + 1 :])
        assert (args.command, args.token_command) == ("token", "create")
        assert set(args.scope) <= SCOPES and "operator" in args.scope
