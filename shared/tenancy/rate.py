"""Requests per second per principal: one token bucket per principal in Redis, shared by every
gateway process and replica, taken from in one round trip (a Lua script that Redis runs
atomically).

The limit protects the service; it must never take a route down. Reads that need only
PostgreSQL keep answering while Redis is down, and a job start still records its job before
Redis is asked to queue it (the reconciler queues it later). So the bucket fails open: when Redis
does not answer within ``CHECK_TIMEOUT_S``, or refuses, the request goes on unlimited, and the
limit is not asked again for ``SKIP_AFTER_FAILURE_S`` (one slow answer per second at most).
"""

from __future__ import annotations

import asyncio
import math
import time

import structlog
from redis.asyncio import Redis

from shared.errors import TooManyRequests
from shared.observability.metrics import count_throttled, principal_bucket
from shared.outages import is_outage

log = structlog.get_logger(__name__)

RATE_LIMIT = "requests_per_second"
CHECK_TIMEOUT_S = 0.25
SKIP_AFTER_FAILURE_S = 1.0

# The bucket holds up to ``burst`` tokens and refills at ``rate`` a second on Redis's own clock
# (so gateways with skewed clocks agree); a request takes one token or is told how long until
# there is one. A bucket left alone long enough to be full again expires: it would start full.
TAKE_TOKEN = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RequestRate:
    """Each principal's requests per second, one bucket per principal per queue (deployment)."""

    def __init__(self, redis: Redis, queue_name: str, per_second: int) -> None:
        self._take = redis.register_script(TAKE_TOKEN)
        self._prefix = f"{queue_name}:rate:"
        self.per_second = per_second
        self._skip_until = 0.0

    async def take(self, principal_id: int) -> None:
        """One request's token; :class:`TooManyRequests` with the wait when there is none."""
        if time.monotonic() < self._skip_until:
            return
        try:
            # A burst of one second's worth: a client may spend its second's requests at once.
            async with asyncio.timeout(CHECK_TIMEOUT_S):
                waited = await self._take(
                    keys=[f"{self._prefix}{principal_id}"],
                    args=[self.per_second, self.per_second],
                )
        except Exception as exc:
            if not (isinstance(exc, TimeoutError) or is_outage(exc)):
                raise
            self._skip_until = time.monotonic() + SKIP_AFTER_FAILURE_S
            log.warning("request limit not checked: Redis did not answer", error=repr(exc))
            return
        wait_s = float(waited)
        if wait_s > 0:
            count_throttled(principal_id, RATE_LIMIT)
            log.info(
                "request over a principal's limit",
                principal_id=principal_id,
                principal_bucket=principal_bucket(principal_id),
                limit=RATE_LIMIT,
            )
            raise TooManyRequests(
                f"At most {self.per_second} requests per second per principal; "
                f"try again in {wait_s:.2f} seconds",
                retry_after_s=max(1, math.ceil(wait_s)),
            )
