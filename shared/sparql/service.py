"""The SPARQL endpoint's scheduling: which query process takes a query, how many queries one
principal may run at once, and the work that goes on when a client leaves.

A query holds its process from the moment it is taken to its answer (or its kill at the time
limit), so at most ``sparql_processes`` queries run at a time, each on its own process; a
principal may hold ``sparql_queries_per_principal`` of them (then 429). With the defaults (3
and 2), one principal's slow queries always leave a process to everybody else.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.errors import BadRequest, ServiceUnavailable, TooManyRequests
from shared.settings import Settings
from shared.sparql import query
from shared.sparql.graphs import Graphs
from shared.sparql.processes import QueryProcess

RETRY_AFTER_S = 1


@dataclass(frozen=True, slots=True)
class Query:
    principal: str
    collection_id: str
    schema_collection_id: str
    text: str
    prefixes: dict[str, str]
    timeout_s: float
    result_format: str


class SparqlService:
    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self._per_principal = settings.sparql_queries_per_principal
        self._processes = [
            QueryProcess(settings.sparql_memory_mb) for _ in range(settings.sparql_processes)
        ]
        self._free = list(self._processes)
        self._freed = asyncio.Condition()
        self._running: Counter[str] = Counter()
        self._executor = ThreadPoolExecutor(len(self._processes), thread_name_prefix="sparql")
        self._graphs = Graphs(pool)
        self._tasks: set[asyncio.Task[tuple[str, str]]] = set()

    async def answer(self, asked: Query) -> tuple[str, str]:
        """The query's body and media type. The work is a task of its own, so a client that
        goes away leaves it to finish (within its limit) and free its process."""
        query.check(asked.text)
        if self._running[asked.principal] >= self._per_principal:
            raise TooManyRequests(
                f"At most {self._per_principal} SPARQL queries run at once per principal; "
                f"try again in {RETRY_AFTER_S} s",
                retry_after_s=RETRY_AFTER_S,
            )
        self._running[asked.principal] += 1
        task = asyncio.create_task(self._run(asked))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(task)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(self._executor, self._stop_all)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _stop_all(self) -> None:
        for process in self._processes:
            process.stop()

    async def _run(self, asked: Query) -> tuple[str, str]:
        try:
            process = await self._take(asked.collection_id, asked.timeout_s)
            try:
                return await self._evaluate(process, asked)
            finally:
                await self._give_back(process)
        finally:
            self._running[asked.principal] -= 1
            if self._running[asked.principal] <= 0:
                del self._running[asked.principal]

    async def _evaluate(self, process: QueryProcess, asked: Query) -> tuple[str, str]:
        async def send(request: tuple[Any, ...], timeout_s: float) -> dict[str, Any]:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, process.call, request, timeout_s)

        dataset = await self._graphs.prepare(
            process.held, send, asked.collection_id, asked.schema_collection_id
        )
        request = ("query", asked.text, dataset, asked.prefixes, asked.timeout_s,
                   query.MAX_RESULTS, asked.result_format)  # fmt: skip
        found = await send(request, asked.timeout_s)
        if found.get("error") == "limit":
            raise query.LimitExceeded(str(found.get("message")))
        if "error" in found:
            raise BadRequest(str(found.get("message")))
        return str(found["body"]), str(found["contentType"])

    async def _take(self, collection_id: str, timeout_s: float) -> QueryProcess:
        """A free process, one that holds the collection's graph if any does."""
        async with self._freed:
            try:
                await asyncio.wait_for(self._freed.wait_for(lambda: bool(self._free)), timeout_s)
            except TimeoutError:
                raise ServiceUnavailable(
                    "Every SPARQL query process is busy; try again in a few seconds"
                ) from None
            warm = [p for p in self._free if collection_id in p.held.applied]
            process = (warm or self._free)[0]
            self._free.remove(process)
            return process

    async def _give_back(self, process: QueryProcess) -> None:
        if not process.alive:  # killed at a limit: its successor starts before the next query
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(self._executor, process.start)
            except ServiceUnavailable:
                pass  # the next query that takes it says so
        async with self._freed:
            self._free.append(process)
            self._freed.notify()
