"""Peer job queues beside Brickyard's job core in ``make bench``: saq, pgqueuer, procrastinate,
and stock arq at its best settings (poll_delay 0.01, max_jobs 100).

The peers are never product dependencies: the bench creates ``.venv-bench-peers/`` (pinned
versions below, ``python -m venv`` + pip) and runs each peer's driver
(tests/bench_peers/<peer>_driver.py) as a subprocess with that venv's python, against the same
PostgreSQL and Redis, in a schema and queue of its own that the driver drops afterwards. A peer
that cannot be installed or run is reported as ``skipped: <reason>``; it never fails the bench.
Every ratio is Brickyard / peer: above 1 is Brickyard ahead for rates, behind for latencies.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from shared.auth import Principal
from shared.services import Services
from shared.settings import Settings
from tests.bench_jobs import (
    ARQ_BEST,
    MEASURED,
    ROUND_TRIPS,
    brickyard_drain,
    brickyard_round_trips,
    stock_drain,
    stock_round_trips,
)
from tests.bench_support import percentile, scenario

PEER_VENV = Path(".venv-bench-peers")
DRIVERS = Path(__file__).parent / "bench_peers"
PEER_PINS: dict[str, list[str]] = {
    # saq 0.26.4 imports typing_extensions without declaring it.
    "saq": ["saq[redis]==0.26.4", "redis==7.4.1", "typing_extensions==4.16.0"],
    "pgqueuer": ["pgqueuer==1.6.0", "asyncpg==0.32.0"],
    "procrastinate": ["procrastinate==3.10.0", "psycopg[binary]==3.3.9"],
}
PEER_JOBS = 5000
PEER_WORKERS = (1, 2)
INSTALL_TIMEOUT_S = 600.0
DRIVER_TIMEOUT_S = 900.0


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """Brickyard / peer, two decimals; None when either figure is missing or zero."""
    if not ours or not theirs:
        return None
    return round(ours / theirs, 2)


def parse_driver_output(stdout: str) -> dict[str, Any]:
    """The driver's figures: the last stdout line that is a JSON object (libraries may log)."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            figures = json.loads(line)
        except ValueError:
            continue
        if isinstance(figures, dict):
            return figures
    raise ValueError("the driver printed no JSON line of figures")


def trip_figures(times_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times_ms), 2),
        "p99_ms": round(percentile(times_ms, 0.99), 2),
    }


def run_quietly(argv: list[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)


def tail(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1][:200] if lines else "no output"


def install_peer(peer: str) -> str:
    """The peers' venv python with ``peer`` installed at its pins; raises RuntimeError with why.

    A marker per peer (a hash of its pins) skips pip on later runs.
    """
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        made = run_quietly([sys.executable, "-m", "venv", str(PEER_VENV)], INSTALL_TIMEOUT_S)
        if made.returncode:
            raise RuntimeError(f"python -m venv failed: {tail(made.stderr)}")
    pins = PEER_PINS[peer]
    marker = (
        PEER_VENV / f".installed-{peer}-{hashlib.sha256(' '.join(pins).encode()).hexdigest()[:12]}"
    )
    if not marker.exists():
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        pip += ["--timeout", "30", "--retries", "1"]  # no network: skipped soon, not in 10 min
        installed = run_quietly([*pip, *pins], INSTALL_TIMEOUT_S)
        if installed.returncode:
            raise RuntimeError(f"pip install {' '.join(pins)} failed: {tail(installed.stderr)}")
        marker.touch()
    return str(python)


def run_driver(peer: str, settings: Settings) -> dict[str, Any]:
    """One peer's figures, or ``{"skipped": reason}``: nothing a peer does fails the bench."""
    try:
        python = install_peer(peer)
        assert settings.redis_url
        argv = [
            python,
            str(DRIVERS / f"{peer}_driver.py"),
            "bench",
            "--pg",
            settings.database_url,
            "--redis",
            settings.redis_url,
            "--name",
            f"bench_peer_{peer}_{secrets.token_hex(4)}",
            "--jobs",
            str(PEER_JOBS),
            "--trips",
            str(ROUND_TRIPS),
            "--workers",
            ",".join(map(str, PEER_WORKERS)),
        ]
        ran = run_quietly(argv, DRIVER_TIMEOUT_S)
        if ran.returncode:
            raise RuntimeError(f"driver exited {ran.returncode}: {tail(ran.stderr)}")
        return parse_driver_output(ran.stdout)
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        return {"skipped": f"{type(exc).__name__}: {exc}"}


def report(name: str, figures: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """The peer's figures with Brickyard's beside them and the ratios, also printed."""
    if "skipped" in figures:
        print(f"  {name}: skipped: {figures['skipped']}", file=sys.stderr, flush=True)
        return figures
    row: dict[str, Any] = {"settings": figures.get("settings", {})}
    parts = []
    for workers in PEER_WORKERS:
        theirs = figures.get(f"drain_{workers}", {}).get("per_s")
        mine = ours[f"drain_{workers}"]
        row[f"{workers}w_per_s"] = theirs
        row[f"{workers}w_ratio"] = ratio(mine, theirs)
        parts.append(f"{workers}w {theirs}/s (Brickyard {mine}/s, x{row[f'{workers}w_ratio']})")
    trip = figures.get("round_trip", {})
    for key in ("p50_ms", "p99_ms"):
        row[key] = trip.get(key)
        row[f"{key}_ratio"] = ratio(ours[key], trip.get(key))
        parts.append(f"{key} {trip.get(key)} (Brickyard {ours[key]}, x{row[f'{key}_ratio']})")
    print(f"  {name}: " + "; ".join(parts), file=sys.stderr, flush=True)
    return row


async def arq_best(settings: Settings) -> dict[str, Any]:
    figures: dict[str, Any] = {"settings": {"poll_delay": 0.01, "max_jobs": 100}}
    for workers in PEER_WORKERS:
        figures[f"drain_{workers}"] = await stock_drain(settings, workers, ARQ_BEST)
    trips = await stock_round_trips(settings, ROUND_TRIPS, ARQ_BEST)
    figures["round_trip"] = trip_figures(trips)
    return figures


@scenario("jobs: peers, saq / pgqueuer / procrastinate / arq at its best beside Brickyard")
async def job_peers(services: Services, principal: Principal) -> dict[str, Any]:
    settings = services.settings
    ours: dict[str, Any] = {}
    # What the job-core scenarios already measured this run, else measured now.
    for workers in PEER_WORKERS:
        key = f"brickyard_drain_{workers}"
        if key not in MEASURED:
            MEASURED[key] = (await brickyard_drain(settings, workers))["per_s"]
        ours[f"drain_{workers}"] = MEASURED[key]
    if "brickyard_trips" not in MEASURED:
        MEASURED["brickyard_trips"] = await brickyard_round_trips(settings)
    ours.update(trip_figures(MEASURED["brickyard_trips"]))
    print(f"  Brickyard: {ours}", file=sys.stderr, flush=True)
    results: dict[str, Any] = {"brickyard": ours}
    results["arq_best"] = report("arq poll 0.01, max_jobs 100", await arq_best(settings), ours)
    for peer in PEER_PINS:
        # The drivers block on their own subprocess; keep this loop free meanwhile.
        figures = await asyncio.to_thread(run_driver, peer, settings)
        results[peer] = report(peer, figures, ours)
    return results
