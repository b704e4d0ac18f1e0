"""A fair share of a worker process for each principal's batches.

A worker takes as many jobs as it has slots (100), so a principal that queues twenty 10000-item
batches has all twenty running in every worker at once, each working on two chunks: another
principal's one small batch then shares the process with forty chunk loops and waits seconds for
its turn on the event loop and the connection pool. Instead, each process lets a principal's
batches work on at most ``per_principal`` chunks at once, whatever the number of its batches;
batches over the share wait here (not in PostgreSQL) for one of the principal's loops to end.
Another principal's batch finds its share free and starts at once.

One loop per principal by default (``BRICKYARD_CHUNK_LOOPS_PER_PRINCIPAL``). A second one
overlaps a batch's validation with its SQL, about 20% for a lone batch in a single worker
process, but beside a flood it doubles what the flood takes from the CPU and the WAL that other
principals' synchronous calls wait on (their p99 1.5-2x better with one; docs/jobs.md,
"Fairness between principals"). With two or more worker processes a lone batch's chunk helpers
run in the others, so its rate does not change.
"""

from __future__ import annotations

import asyncio
from collections import Counter

# A batch waiting for its principal's share looks at its own state (cancel, chunks finished by
# other processes) this often.
WAIT_FOR_SHARE_S = 0.5


class FairShare:
    """Chunk loops per principal in this process."""

    def __init__(self, per_principal: int) -> None:
        self.per_principal = per_principal
        self._loops: Counter[int] = Counter()
        self._freed: asyncio.Condition | None = None

    def running(self, principal_id: int) -> int:
        return self._loops[principal_id]

    async def take(self, principal_id: int, wanted: int, wait_s: float = WAIT_FOR_SHARE_S) -> int:
        """Up to ``wanted`` loops of the principal's share; waits up to ``wait_s`` for one to
        free when none is, and answers 0 if none did."""
        if wanted <= 0:
            return 0
        if self._freed is None:
            self._freed = asyncio.Condition()
        granted = self._grant(principal_id, wanted)
        if granted:
            return granted
        async with self._freed:
            try:
                await asyncio.wait_for(
                    self._freed.wait_for(lambda: self._free(principal_id) > 0), wait_s
                )
            except TimeoutError:
                return 0
            return self._grant(principal_id, wanted)

    async def give_back(self, principal_id: int, loops: int) -> None:
        self._loops[principal_id] -= loops
        if self._loops[principal_id] <= 0:
            del self._loops[principal_id]
        if self._freed is not None:
            async with self._freed:
                self._freed.notify_all()

    def _free(self, principal_id: int) -> int:
        return self.per_principal - self._loops[principal_id]

    def _grant(self, principal_id: int, wanted: int) -> int:
        granted = max(0, min(wanted, self._free(principal_id)))
        self._loops[principal_id] += granted
        return granted
