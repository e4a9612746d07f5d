"""Token buckets in Redis: how fast Datapunk may call a provider.

One bucket per provider (the provider's limit is per app, shared by every
worker) and one per connection (so one busy account cannot starve the
others). A call takes a token from every bucket it names, atomically, in one
Lua script: either all buckets have a token or none is touched. Redis's own
clock is used, so workers on several machines agree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings

# KEYS: bucket keys. ARGV: for each key, rate (tokens/s) then capacity; then a
# pause in seconds (0 = take a token). Returns 0 when the tokens were taken, or
# the seconds to wait until every bucket has one (as a string: Lua numbers are
# truncated to integers on the way back to Redis).
_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1e6
local pause = tonumber(ARGV[#ARGV])
local wait = 0
local states = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local capacity = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(state[1]) or capacity
  local at = tonumber(state[2]) or now
  if now > at then
    tokens = math.min(capacity, tokens + (now - at) * rate)
    at = now
  end
  if pause > 0 then
    -- The provider said "slow down": empty the bucket until now + pause.
    tokens = 0
    at = math.max(at, now + pause)
  elseif tokens < 1 or at > now then
    wait = math.max(wait, (at - now) + (1 - math.min(tokens, 1)) / rate)
  end
  states[i] = {tokens, at, rate, capacity}
end
for i, key in ipairs(KEYS) do
  local tokens, at, rate, capacity = unpack(states[i])
  if pause == 0 and wait == 0 then tokens = tokens - 1 end
  redis.call('HSET', key, 'tokens', tokens, 'at', at)
  redis.call('EXPIRE', key, math.ceil(capacity / rate + pause) + 60)
end
return tostring(wait)
"""


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str
    rate: float  # tokens per second
    capacity: float  # the burst allowed after a quiet spell


class RateLimited(Exception):
    """Waiting for a token would take longer than the caller allows."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limit: next call allowed in {wait:.1f} s")
        self.wait = wait


@cache
def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _client() -> redis.Redis:
    return redis_client(settings.REDIS_URL)


def _run(buckets: list[Bucket], pause: float) -> float:
    args: list[float] = []
    for bucket in buckets:
        args += [bucket.rate, bucket.capacity]
    result = _client().eval(_TAKE, len(buckets), *[b.key for b in buckets], *args, pause)
    return float(result)  # type: ignore[arg-type]  # a sync client returns str


def take(buckets: list[Bucket], *, max_wait: float, sleep=time.sleep) -> None:
    """Take one token from every bucket, sleeping until they have one.

    Raises RateLimited if that would take longer than ``max_wait`` seconds.
    """
    waited = 0.0
    while True:
        wait = _run(buckets, 0)
        if wait <= 0:
            return
        if waited + wait > max_wait:
            raise RateLimited(wait)
        sleep(wait)
        waited += wait


def pause(buckets: list[Bucket], seconds: float) -> None:
    """Give no token from these buckets for ``seconds`` (a provider's Retry-After)."""
    _run(buckets, max(seconds, 0.001))
