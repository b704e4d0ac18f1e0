"""The gateway's SPARQL query processes: a few sandboxed children that evaluate queries, each
with a replica of the graphs it was asked about, and the limits that keep any one query or any
one principal from taking the endpoint, or the gateway, down.

pyoxigraph cannot be interrupted inside a solution, can recurse on a query until its stack
overflows, and fetches URLs for SERVICE. A query therefore runs in a child process
(:mod:`shared.sparql.replica`) that the gateway kills when the query passes its time or memory
limit, and replaces; a query that crashes its process costs that process, never the gateway.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

import structlog

from shared.errors import BadRequest, ServiceUnavailable
from shared.sparql import query
from shared.sparql.graphs import Replicated

log = structlog.get_logger("sparql")

POLL_S = 0.02  # how often a waiting call looks at its process's clock and memory
START_TIMEOUT_S = 30.0
MAX_ANSWER_BYTES = 256 * 1024 * 1024
CRASHED = "The query could not be evaluated: it stopped the process evaluating it"
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class QueryCrashed(BadRequest):
    """The process died under a query: the query crashed it (a 400, as any query it cannot
    evaluate); the process is replaced."""


def _overrun(verb: str, query_error: BadRequest) -> Exception:
    """A query's overrun is the query's fault (400); filling a store is ours (503)."""
    if verb == "query":
        return query_error
    return ServiceUnavailable(
        f"The SPARQL query process could not take the collection's graphs ({query_error.message})"
    )


class QueryProcess:
    """One child and the pipes to it; every call blocks, so it is made on a thread."""

    def __init__(self, memory_limit_mb: int) -> None:
        self.memory_limit_mb = memory_limit_mb
        self.held = Replicated()
        self._child: subprocess.Popen[bytes] | None = None
        self._requests: Connection | None = None
        self._answers: Connection | None = None

    @property
    def alive(self) -> bool:
        return self._child is not None and self._child.poll() is None

    def start(self) -> None:
        self.stop()
        to_child, from_gateway = os.pipe()
        from_child, to_gateway = os.pipe()
        command = [sys.executable, "-m", "shared.sparql.replica", str(to_child), str(to_gateway)]
        self._child = subprocess.Popen(
            command, pass_fds=(to_child, to_gateway), stdin=subprocess.DEVNULL
        )
        os.close(to_child)
        os.close(to_gateway)
        self._requests = Connection(from_gateway, readable=False)
        self._answers = Connection(from_child, writable=False)
        ready = self._wait(START_TIMEOUT_S, "start")
        if ready.get("error") == "sandbox":
            self.stop()
            log.error("sparql sandbox unavailable", reason=ready.get("message"))
            raise ServiceUnavailable(
                "SPARQL queries are not run here: the query sandbox is unavailable "
                f"({ready.get('message')})"
            )
        log.info("sparql query process started", pid=self._child.pid)

    def stop(self) -> None:
        """Kill the child at once: what it was doing is abandoned, and its store with it."""
        if self._child is not None:
            self._child.kill()
            self._child.wait()
        for channel in (self._requests, self._answers):
            if channel is not None:
                channel.close()
        self._child = self._requests = self._answers = None
        self.held.clear()

    def call(self, request: tuple[Any, ...], timeout_s: float) -> dict[str, Any]:
        """Send ``request`` and wait for its answer for at most ``timeout_s``, watching the
        child's memory; past either limit the child is killed."""
        if not self.alive:
            self.start()
        assert self._requests is not None
        try:
            self._requests.send_bytes(pickle.dumps(request, pickle.HIGHEST_PROTOCOL))
        except OSError:
            self.stop()
            raise _overrun(request[0], QueryCrashed(CRASHED)) from None
        return self._wait(timeout_s, request[0])

    def _wait(self, timeout_s: float, verb: str) -> dict[str, Any]:
        assert self._answers is not None and self._child is not None
        deadline = time.monotonic() + timeout_s
        limit = self.memory_limit_mb * 1024 * 1024
        while not self._answers.poll(POLL_S):
            problem: BadRequest | None = None
            if self._child.poll() is not None:
                problem = QueryCrashed(CRASHED)
            elif time.monotonic() > deadline:
                problem = query.LimitExceeded(query.time_limit_message(timeout_s))
            elif self._resident_bytes() > limit:
                problem = query.LimitExceeded(
                    f"The query used more than its memory limit of {self.memory_limit_mb} MB; "
                    "narrow it, or add LIMIT"
                )
            if problem is not None:
                self.stop()
                raise _overrun(verb, problem)
        try:
            answer: dict[str, Any] = json.loads(self._answers.recv_bytes(MAX_ANSWER_BYTES))
        except (EOFError, OSError, ValueError):
            self.stop()
            raise _overrun(verb, QueryCrashed(CRASHED)) from None
        return answer

    def _resident_bytes(self) -> int:
        assert self._child is not None
        try:
            with open(f"/proc/{self._child.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * PAGE_BYTES
        except (OSError, IndexError, ValueError):  # not Linux, or just gone
            return 0
