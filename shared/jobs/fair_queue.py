"""Fair order in the arq queue, and each principal's limit on running jobs (docs/jobs.md,
"Fairness between principals").

The queue stays arq's sorted set of job tokens; only its scores change meaning. A job's score is
its principal's virtual finish time, ``max(now, the principal's last score) + cost`` (cost: the
job's items, 1 for any other job), set in one Lua script that also writes arq's job key, so a
principal that queued much waits behind one that queued little. "Now" is the queue's virtual
time, the highest score claimed so far, not the wall clock: a principal whose backlog the workers
have fallen behind never pushes a newcomer behind all of it. Workers claim by rank (lowest score
first, whatever its value), so a score says nothing of when a job is due: a job that must wait
(leased elsewhere, held back) sits in a sorted set of its own by due time and rejoins the queue
at the virtual now once due.

A principal at its running-jobs limit is skipped by the claim: its jobs move to a parked set of
that principal, in their order, and move back when the principal has room again, so a flood at
its limit never fills the front of the queue that every claim scans. Running jobs are counted
from their in-progress keys (the claims workers renew while they hold a job), so a worker that
dies leaves no count behind; a principal's set of claimed tokens is only looked through when its
size reaches the limit. Every step is in the claim's one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from arq.constants import in_progress_key_prefix, job_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from shared.jobs.channels import WAKE_TOKENS_MAX, wake_channel

# arq's default: a queued job's key outlives a day of waiting (the queue entry is what counts).
JOB_KEY_TTL_MS = 86_400_000
# Jobs that were due but waited for their turn, promoted per claim; the rest at the next one.
PROMOTE_PER_CLAIM = 1000
# Queue entries whose claims (and principals) the claim script looks up in one command each.
LOOKUP_CHUNK = 128
# Handoff entries (one per enqueue that named its jobs) kept for a worker to take, and how long:
# an entry no worker took in time is only a lease attempt that finds nothing, since every named
# job is still in the queue, where a poll claims it (docs/jobs.md, "Speed").
HANDOFF_MAX = 64
HANDOFF_TTL_MS = 5000


@dataclass(frozen=True, slots=True)
class QueuedJob:
    kind: str
    token: str
    principal_id: int
    cost: int = 1
    # Jobs of one principal are fair between their groups too (an ER batch's: its collection).
    group: str = ""


@dataclass(frozen=True, slots=True)
class Claim:
    tokens: list[str]
    # Jobs left queued because their principal was at its limit, per principal.
    held_back: dict[int, int]


@dataclass(frozen=True, slots=True)
class Keys:
    """The Redis keys of one queue's fair order, beside arq's own."""

    queue: str

    @property
    def deferred(self) -> str:
        return f"{self.queue}:deferred"

    @property
    def owners(self) -> str:
        return f"{self.queue}:owners"

    @property
    def clocks(self) -> str:
        return f"{self.queue}:clocks"

    @property
    def now(self) -> str:
        return f"{self.queue}:vnow"

    @property
    def parked(self) -> str:
        return f"{self.queue}:parked"

    @property
    def running_prefix(self) -> str:
        return f"{self.queue}:running:"

    @property
    def parked_prefix(self) -> str:
        return f"{self.queue}:parked:"

    @property
    def handoff(self) -> str:
        """The list of named jobs that idle workers block on: each entry reaches one worker."""
        return f"{self.queue}:handoff"

    def all(self) -> list[str]:
        return [
            self.queue, self.deferred, self.owners, self.clocks, self.now, self.parked,
            self.handoff,
        ]  # fmt: skip


# KEYS: Keys.all(). ARGV: job key prefix, its TTL, the wake channel, how many jobs a wake may
# name (0: none), the in-progress prefix, the running limit (0: none), the running-set prefix,
# then per job its token, arq payload, principal, group (its ER collection, or '') and cost.
# The jobs are named (pushed, space-separated, onto the handoff list, where exactly one idle
# worker pops them and leases them straight in PostgreSQL, skipping the claim script; no wake
# is published, so the other idle workers sleep on) only when fair order cannot tell: every job already in the queue is claimed, and each
# principal stays within its limit counting these; those jobs count as running at once. A principal's
# clock is one per group, in a sorted set of that principal's groups; a group whose clock the
# queue's virtual now has passed has nothing queued ahead and is dropped. Each job's cost counts
# once per group of its principal that has work queued, so two busy collections of one
# principal each move at half its pace, and the principal as a whole at the pace of any other.
ENQUEUE = """
local now = tonumber(redis.call('GET', KEYS[5]) or '0')
local name_max, limit = tonumber(ARGV[4]), tonumber(ARGV[6])
local jobs = (#ARGV - 7) / 5
local named = jobs <= name_max and redis.call('ZCARD', KEYS[1]) <= name_max
if named then
  for _, token in ipairs(redis.call('ZRANGE', KEYS[1], 0, name_max)) do
    if redis.call('EXISTS', ARGV[5] .. token) == 0 then named = false break end
  end
end
if named and limit > 0 then
  local adding = {}
  for i = 8, #ARGV, 5 do adding[ARGV[i + 2]] = (adding[ARGV[i + 2]] or 0) + 1 end
  for principal, n in pairs(adding) do
    if redis.call('SCARD', ARGV[7] .. principal) + n > limit then named = false end
  end
end
local top, tokens = now, {}
for i = 8, #ARGV, 5 do
  local token, principal, group = ARGV[i], ARGV[i + 2], ARGV[i + 3]
  local clocks = KEYS[4] .. ':' .. principal
  redis.call('ZREMRANGEBYSCORE', clocks, '-inf', now)
  local mine = tonumber(redis.call('ZSCORE', clocks, group) or '0')
  local busy = redis.call('ZCARD', clocks)
  if mine <= now then busy = busy + 1 end
  local score = math.max(now, mine) + tonumber(ARGV[i + 4]) * busy
  redis.call('ZADD', clocks, score, group)
  redis.call('PEXPIRE', clocks, ARGV[2])
  redis.call('SET', ARGV[1] .. token, ARGV[i + 1], 'PX', ARGV[2])
  redis.call('ZADD', KEYS[1], score, token)
  redis.call('ZREM', KEYS[2], token)
  redis.call('HSET', KEYS[3], token, principal)
  if score > top then top = score end
  tokens[#tokens + 1] = token
  if named and limit > 0 then
    redis.call('SADD', ARGV[7] .. principal, token)
    redis.call('PEXPIRE', ARGV[7] .. principal, ARGV[2])
  end
end
if named then
  -- They are the queue's front: the claim script would have moved its virtual now to them.
  if top > now then redis.call('SET', KEYS[5], top) end
  redis.call('RPUSH', KEYS[7], table.concat(tokens, ' '))
  redis.call('LTRIM', KEYS[7], -HANDOFF_MAX, -1)
  redis.call('PEXPIRE', KEYS[7], HANDOFF_TTL_MS)
else
  redis.call('PUBLISH', ARGV[3], '')
end
return #ARGV
""".replace("HANDOFF_MAX", str(HANDOFF_MAX)).replace("HANDOFF_TTL_MS", str(HANDOFF_TTL_MS))

# KEYS: Keys.all(). ARGV: now (ms), slots wanted, claim (ms), in-progress prefix, how far to
# scan, the running limit (0: none), the running-set prefix, the parked-set prefix.
# Returns the claimed tokens, then principal and count pairs of the jobs held back.
CLAIM = """
local now_ms, wanted, lease = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local claiming, scan, limit = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local vnow = tonumber(redis.call('GET', KEYS[5]) or '0')
local running = {}
-- The set's size bounds the count from above (members whose claim is gone stay until looked
-- at): only a principal that may be at its limit has its members looked at, and cleared.
local function count_running(principal)
  if running[principal] == nil then
    local key = ARGV[7] .. principal
    local n = redis.call('SCARD', key)
    if n >= limit then
      n = 0
      local members = redis.call('SMEMBERS', key)
      for first = 1, #members, LOOKUP_CHUNK do
        local keys, gone = {}, {}
        local last = math.min(#members, first + LOOKUP_CHUNK - 1)
        for i = first, last do keys[#keys + 1] = claiming .. members[i] end
        local claims = redis.call('MGET', unpack(keys))
        for j = 1, #claims do
          if claims[j] then n = n + 1 else gone[#gone + 1] = members[first + j - 1] end
        end
        if #gone > 0 then redis.call('SREM', key, unpack(gone)) end
      end
    end
    running[principal] = n
  end
  return running[principal]
end
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now_ms, 'LIMIT', 0, PROMOTE_PER_CLAIM)
if #due > 0 then
  local back = {}
  for i, token in ipairs(due) do back[2 * i - 1] = vnow back[2 * i] = token end
  redis.call('ZREM', KEYS[2], unpack(due))
  redis.call('ZADD', KEYS[1], unpack(back))
end
if limit > 0 then
  for _, principal in ipairs(redis.call('SMEMBERS', KEYS[6])) do
    local room, parked = limit - count_running(principal), ARGV[8] .. principal
    if room > 0 then
      local back = redis.call('ZPOPMIN', parked, room)
      for i = 1, #back, 2 do redis.call('ZADD', KEYS[1], back[i + 1], back[i]) end
    end
    if redis.call('EXISTS', parked) == 0 then redis.call('SREM', KEYS[6], principal) end
  end
end
-- The queue's front is mostly jobs already claimed (this worker's and others'): look their
-- claims and principals up a chunk at a time (one MGET, one HMGET) rather than one command
-- per entry, and add the started ones to their principals' sets once per principal.
local claimed, held, started, top = {}, {}, {}, vnow
local entries = redis.call('ZRANGE', KEYS[1], 0, scan - 1, 'WITHSCORES')
for first = 1, #entries, 2 * LOOKUP_CHUNK do
  if #claimed >= wanted then break end
  local last = math.min(#entries, first + 2 * LOOKUP_CHUNK - 1)
  local keys = {}
  for i = first, last, 2 do keys[#keys + 1] = claiming .. entries[i] end
  local claims = redis.call('MGET', unpack(keys))
  local free = {}
  for j = 1, #claims do
    if not claims[j] then free[#free + 1] = first + 2 * (j - 1) end
  end
  local owners = {}
  if #free > 0 then
    local tokens = {}
    for j, i in ipairs(free) do tokens[j] = entries[i] end
    owners = redis.call('HMGET', KEYS[3], unpack(tokens))
  end
  for j, i in ipairs(free) do
    if #claimed >= wanted then break end
    local token, score = entries[i], tonumber(entries[i + 1])
    local principal = owners[j]
    if principal and limit > 0 and count_running(principal) >= limit then
      redis.call('ZREM', KEYS[1], token)
      redis.call('ZADD', ARGV[8] .. principal, score, token)
      redis.call('SADD', KEYS[6], principal)
      held[principal] = (held[principal] or 0) + 1
    else
      redis.call('SET', claiming .. token, '1', 'PX', lease)
      claimed[#claimed + 1] = token
      if score > top then top = score end
      if principal and limit > 0 then
        running[principal] = count_running(principal) + 1
        local mine = started[principal] or {}
        mine[#mine + 1] = token
        started[principal] = mine
      end
    end
  end
end
for principal, tokens in pairs(started) do
  redis.call('SADD', ARGV[7] .. principal, unpack(tokens))
  redis.call('PEXPIRE', ARGV[7] .. principal, JOB_KEY_TTL_MS)
end
if top > vnow then redis.call('SET', KEYS[5], top) end
local answer = {claimed}
for principal, n in pairs(held) do
  answer[#answer + 1] = principal
  answer[#answer + 1] = n
end
return answer
"""
for _name, _value in (
    ("PROMOTE_PER_CLAIM", PROMOTE_PER_CLAIM),
    ("JOB_KEY_TTL_MS", JOB_KEY_TTL_MS),
    ("LOOKUP_CHUNK", LOOKUP_CHUNK),
):
    CLAIM = CLAIM.replace(_name, str(_value))

# KEYS: Keys.all(). ARGV: due (ms), the wake channel, the parked-set prefix, the in-progress
# prefix, then tokens. Jobs leave the queue (or their principal's parked set) and wait until
# due, claimed by no one; a token no longer queued is left alone.
DEFER = """
for i = 5, #ARGV do
  local token = ARGV[i]
  redis.call('DEL', ARGV[4] .. token)
  local principal = redis.call('HGET', KEYS[3], token)
  local queued = redis.call('ZREM', KEYS[1], token) + redis.call('ZREM', KEYS[2], token)
  if principal then queued = queued + redis.call('ZREM', ARGV[3] .. principal, token) end
  if queued > 0 then redis.call('ZADD', KEYS[2], ARGV[1], token) end
end
redis.call('PUBLISH', ARGV[2], '')
return 1
"""

# KEYS: Keys.all(). ARGV: the in-progress prefix, the parked-set prefix, then tokens. Which of
# them Redis holds nowhere: not queued, deferred, parked nor claimed (1 each, else 0).
MISSING = """
local answer = {}
for i = 3, #ARGV do
  local token, found = ARGV[i], 0
  if redis.call('ZSCORE', KEYS[1], token) or redis.call('ZSCORE', KEYS[2], token)
     or redis.call('EXISTS', ARGV[1] .. token) == 1 then found = 1
  else
    local principal = redis.call('HGET', KEYS[3], token)
    if principal and redis.call('ZSCORE', ARGV[2] .. principal, token) then found = 1 end
  end
  answer[#answer + 1] = 1 - found
end
return answer
"""

# KEYS: Keys.all(). Jobs waiting in the queue (running ones included), deferred, and parked.
COUNTS = """
local parked = 0
for _, principal in ipairs(redis.call('SMEMBERS', KEYS[6])) do
  parked = parked + redis.call('ZCARD', KEYS[1] .. ':parked:' .. principal)
end
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), parked}
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def enqueue(
    redis: Redis, queue_name: str, jobs: list[QueuedJob], *, running_limit: int | None
) -> None:
    """Queue each job under its token, in its principal's fair order, and either hand the
    jobs to one idle worker, when it may lease them at once, or wake every idle worker to
    claim from the queue (see ENQUEUE); ``running_limit``:
    each principal's limit on running jobs (0: none), or None never to name them (jobs
    re-queued after Redis lost them: their claims are the reconciler's business)."""
    if not jobs:
        return
    now = timestamp_ms()
    keys = Keys(queue_name)
    name_max = 0 if running_limit is None else WAKE_TOKENS_MAX
    args: list[str | bytes | int] = [job_key_prefix, JOB_KEY_TTL_MS, wake_channel(queue_name)]
    args += [name_max, in_progress_key_prefix, running_limit or 0, keys.running_prefix]
    for job in jobs:
        payload = serialize_job(job.kind, (job.token,), {}, None, now, serializer=None)
        args += [job.token, payload, job.principal_id, job.group, max(1, job.cost)]
    await redis.register_script(ENQUEUE)(keys=keys.all(), args=args)


class FairQueue:
    """A worker's claims on one queue: the scripts registered once, run by their digest."""

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self.keys = Keys(queue_name)
        self._claim = redis.register_script(CLAIM)
        self._defer = redis.register_script(DEFER)

    async def claim(self, wanted: int, claim_ms: int, scan: int, running_limit: int) -> Claim:
        """Up to ``wanted`` queued jobs, lowest score first, each claimed for ``claim_ms``;
        ``scan``: how many entries from the queue's front to look at (running jobs among them)."""
        keys = self.keys
        raw = await self._claim(
            keys=keys.all(),
            args=[
                timestamp_ms(), wanted, claim_ms, in_progress_key_prefix, scan, running_limit,
                keys.running_prefix, keys.parked_prefix,
            ],
        )  # fmt: skip
        held = {int(_text(raw[i])): int(raw[i + 1]) for i in range(1, len(raw) - 1, 2)}
        return Claim([_text(token) for token in raw[0]], held)

    async def defer(self, tokens: list[str], due_ms: int) -> None:
        """Take queued jobs out of the claims' way until ``due_ms`` (Unix ms), and let go
        of any claim on them."""
        if tokens:
            channel = wake_channel(self.keys.queue)
            args: list[str | int] = [due_ms, channel, self.keys.parked_prefix]
            args += [in_progress_key_prefix, *tokens]
            await self._defer(keys=self.keys.all(), args=args)


async def defer(redis: Redis, queue_name: str, tokens: list[str], due_ms: int) -> None:
    """:meth:`FairQueue.defer` without a worker: a test's or a tool's hold on queued jobs."""
    await FairQueue(redis, queue_name).defer(tokens, due_ms)


async def missing(redis: Redis, queue_name: str, tokens: list[str]) -> set[str]:
    """The tokens Redis holds nowhere: not queued, deferred, parked nor claimed."""
    if not tokens:
        return set()
    keys = Keys(queue_name)
    args = [in_progress_key_prefix, keys.parked_prefix, *tokens]
    answers = await redis.register_script(MISSING)(keys=keys.all(), args=args)
    return {token for token, lost in zip(tokens, answers, strict=True) if lost}


async def waiting_counts(redis: Redis, queue_name: str) -> tuple[int, int, int]:
    """Jobs in the queue (running ones included), deferred, and parked at a principal's limit."""
    keys = Keys(queue_name)
    queued, deferred, parked = await redis.register_script(COUNTS)(keys=keys.all())
    return int(queued), int(deferred), int(parked)


def forget_in(pipe: Pipeline, queue_name: str, tokens: list[str]) -> None:
    """Add to a clean-up pipeline what fair order keeps of finished jobs."""
    keys = Keys(queue_name)
    pipe.zrem(keys.deferred, *tokens)
    pipe.hdel(keys.owners, *tokens)
