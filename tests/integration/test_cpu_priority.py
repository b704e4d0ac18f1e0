"""A niced worker's PostgreSQL backends give way with it (shared/cpu_priority.py, issue 23)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from shared.settings import Settings
from tests.processes import command_env

# A child process (this one must keep its priority) nices itself, connects as the worker does,
# and prints its backend's niceness.
CHILD = """
import asyncio, os, sys
from shared.cpu_priority import lower_own_priority
from shared.db import connect
from shared.settings import Settings

async def main() -> None:
    lower_own_priority(int(sys.argv[1]))
    conn = await connect(Settings.from_env())
    print(conn.get_server_pid(), os.getpriority(os.PRIO_PROCESS, conn.get_server_pid()))
    await conn.close()

asyncio.run(main())
"""


async def backend_niceness(settings: Settings, niceness: int) -> tuple[int, int]:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(niceness),
        env=command_env(settings), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await child.communicate()
    assert child.returncode == 0
    pid, nice = out.split()
    return int(pid), int(nice)


def changeable(pid: int) -> bool:
    """Whether this process may raise the niceness of the server's processes: root, or their
    user (the embedded server); a server of another user or host is left alone by design."""
    return os.geteuid() == 0 or Path(f"/proc/{pid}").stat().st_uid == os.geteuid()


@pytest.mark.skipif(not Path("/proc/self/comm").exists(), reason="backends are found in /proc")
async def test_a_niced_clients_backend_gets_its_niceness(settings: Settings) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    pid, plain = await backend_niceness(settings, 0)
    pid, niced = await backend_niceness(settings, 7)
    if not changeable(pid):
        pytest.skip("the PostgreSQL server's processes are another user's")
    assert niced == own + 7
    assert plain < own + 7  # a process that is not niced (the gateway) changes nothing
