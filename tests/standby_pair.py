"""A PostgreSQL primary and a synchronous streaming standby of one test's own (Debian's
PostgreSQL binaries), on free ports under a temporary directory: the primary can be SIGKILLed as
a lost node would be, and the standby promoted as Patroni or a managed service would."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.faults import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
# The servers refuse to run as root; the machine's `postgres` user owns their files.
OWNER = "postgres"
STANDBY_NAME = "standby"

# fsync off: a SIGKILLed server loses nothing the kernel already holds, and the test is faster.
COMMON_CONF = """
listen_addresses = '127.0.0.1'
max_connections = 60
shared_buffers = 32MB
fsync = off
full_page_writes = off
wal_level = replica
max_wal_senders = 4
hot_standby = on
"""
# Synchronous replication: a commit is acknowledged only once the standby holds it.
PRIMARY_CONF = f"""
synchronous_commit = on
synchronous_standby_names = '{STANDBY_NAME}'
"""
# Promoted, the standby has no standby of its own: it must not wait for one on each commit.
STANDBY_CONF = f"""
cluster_name = '{STANDBY_NAME}'
synchronous_standby_names = ''
"""


class Node:
    def __init__(self, root: Path, name: str) -> None:
        self.data = root / name
        self.log = root / f"{name}.log"
        self.socket_dir = root
        self.port = free_port()

    def pg_ctl(self, *args: str) -> None:
        run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", *args)

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once: the node is gone, not stopping."""
        postmaster = psutil.Process(int((self.data / "postmaster.pid").read_text().split()[0]))
        processes = [postmaster, *postmaster.children(recursive=True)]
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        psutil.wait_procs(processes, timeout=5)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.pg_ctl("stop", "-m", "immediate")


def run(program: str, *args: str) -> str:
    user = pwd.getpwnam(OWNER)

    def demote() -> None:
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return subprocess.run(
        [str(BIN / program), *args],
        check=True,
        capture_output=True,
        text=True,
        preexec_fn=demote if os.getuid() == 0 else None,
        timeout=60,
    ).stdout


class StandbyPair:
    def __init__(self, root: Path) -> None:
        self.primary = Node(root, "primary")
        self.standby = Node(root, "standby")

    def node_url(self, node: Node, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{node.port}/{database}"

    def url(self, database: str = "postgres") -> str:
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in (self.primary, self.standby))
        return f"postgresql://postgres@{hosts}/{database}?target_session_attrs=read-write"

    def start(self) -> None:
        primary, standby = self.primary, self.standby
        run("initdb", "-D", str(primary.data), "-U", "postgres", "--auth=trust", "-N")
        append(primary, COMMON_CONF + PRIMARY_CONF)
        primary.pg_ctl("start")
        run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
            "-D", str(standby.data), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        append(standby, STANDBY_CONF)
        standby.pg_ctl("start")
        self._wait_synchronous()

    def _wait_synchronous(self) -> None:
        """Until the standby streams as the synchronous one (it starts in catch-up, async)."""
        deadline = time.monotonic() + 30
        query = "SELECT sync_state FROM pg_stat_replication"
        while time.monotonic() < deadline:
            state = run(
                "psql", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
                "-tAc", query,
            )  # fmt: skip
            if state.strip() == "sync":
                return
            time.sleep(0.1)
        raise AssertionError("the standby never became synchronous")

    def promote(self) -> None:
        self.standby.pg_ctl("promote")

    def stop(self) -> None:
        self.standby.stop()
        self.primary.stop()


def append(node: Node, conf: str) -> None:
    local = f"port = {node.port}\nunix_socket_directories = '{node.socket_dir}'\n"
    with (node.data / "postgresql.conf").open("a") as file:
        file.write(conf + local)


@contextlib.contextmanager
def standby_pair() -> Iterator[StandbyPair]:
    if not (BIN / "initdb").exists():
        pytest.skip(f"needs Debian's PostgreSQL 15 in {BIN}")
    root = Path(tempfile.mkdtemp(prefix="brickyard-failover-"))
    if os.getuid() == 0:
        user = pwd.getpwnam(OWNER)
        os.chown(root, user.pw_uid, user.pw_gid)
    pair = StandbyPair(root)
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()
        shutil.rmtree(root, ignore_errors=True)
