"""Stock arq, untouched, as the anchor for the job-core figures of ``make bench``.

Run as a process: ``python -m tests.bench_stock_arq REDIS_URL QUEUE [--burst]``. Every arq setting
is left at its default (0.5 s poll delay, max_jobs 10, results kept an hour) so the figures
compare Brickyard with arq as a user gets it; ``--poll-delay 0.01 --max-jobs 100`` is arq at its
best, the peers' comparison (tests/bench_peer_jobs.py).
"""

from __future__ import annotations

import argparse
from typing import Any

from arq.worker import Worker

from shared.redis_url import redis_settings


async def noop(ctx: dict[str, Any]) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("redis_url")
    parser.add_argument("queue_name")
    parser.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    parser.add_argument("--poll-delay", type=float, help="arq's poll_delay (default 0.5 s)")
    parser.add_argument("--max-jobs", type=int, help="arq's max_jobs (default 10)")
    args = parser.parse_args()
    tuned: dict[str, Any] = {}
    if args.poll_delay is not None:
        tuned["poll_delay"] = args.poll_delay
    if args.max_jobs is not None:
        tuned["max_jobs"] = args.max_jobs
    Worker(
        functions=[noop],
        redis_settings=redis_settings(args.redis_url),
        queue_name=args.queue_name,
        burst=args.burst,
        **tuned,
    ).run()


if __name__ == "__main__":
    main()
