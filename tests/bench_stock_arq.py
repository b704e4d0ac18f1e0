"""Stock arq, untouched, as the anchor for the job-core figures of ``make bench``.

Run as a process: ``python -m tests.bench_stock_arq REDIS_URL QUEUE [--burst]``. Every arq setting
is left at its default (0.5 s poll delay, max_jobs 10, results kept an hour) so the figures
compare Brickyard with arq as a user gets it.
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
    args = parser.parse_args()
    Worker(
        functions=[noop],
        redis_settings=redis_settings(args.redis_url),
        queue_name=args.queue_name,
        burst=args.burst,
    ).run()


if __name__ == "__main__":
    main()
