"""Workers give way on the CPU to the gateway, and so do their PostgreSQL backends.

A synchronous call runs in the gateway (``JobService.run_here``), not in a worker's queue, so on a
machine whose cores a flood of async batches keeps busy it waits for the CPU, not for a slot.
A worker process raises its own niceness (``BRICKYARD_WORKER_NICENESS``). Half of a flood's CPU
is the PostgreSQL backends serving the workers' connections (docs/jobs.md, "Fairness between
principals"), which no SQL can deprioritise; where the server runs on this host under a user
allowed to (the embedded server of ``brickyard run``, the same user; root), each new
connection's backend gets its client's niceness too. Elsewhere (a remote server, another user
without privilege) nothing changes but the worker's own priority.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def lower_own_priority(niceness: int) -> None:
    """Raise this process's niceness by ``niceness``; needs no privilege. Where the platform has
    no ``os.nice`` (Windows), nothing changes."""
    if niceness and hasattr(os, "nice"):
        os.nice(niceness)


def _server_is_local(conn: asyncpg.Connection) -> bool:
    address = getattr(conn, "_addr", None)  # a socket path, or (host, port)
    if isinstance(address, str):
        return True
    return isinstance(address, tuple) and bool(address) and address[0] in _LOOPBACK


def match_backend_priority(conn: asyncpg.Connection) -> bool:
    """Give ``conn``'s backend this process's niceness when this process is niced, the server is
    on this host and the process there is a PostgreSQL backend. True when it was changed."""
    if not hasattr(os, "getpriority"):
        return False
    own = os.getpriority(os.PRIO_PROCESS, 0)
    if own <= 0 or not _server_is_local(conn):
        return False
    pid = conn.get_server_pid()
    try:
        # A pid from a server in another pid namespace could name any process here.
        if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
            return False
        if os.getpriority(os.PRIO_PROCESS, pid) >= own:
            return False
        os.setpriority(os.PRIO_PROCESS, pid, own)
    except OSError:  # no /proc (not Linux), the backend gone, or not ours to change
        return False
    return True
