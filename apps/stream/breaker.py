"""A circuit breaker per provider, kept in Redis so every worker shares it.

Closed: calls go through and consecutive failures are counted. After
``threshold`` of them it opens: calls fail at once, without reaching the
provider, for ``timeout`` seconds. Then it is half-open: one call (the probe)
goes through; its success closes the breaker, its failure opens it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from apps.stream.ratelimit import _client

# KEYS[1]: the breaker. ARGV: action ("allow" | "success" | "failure"),
# threshold, timeout (s). "allow" returns "closed", "probe" or the seconds
# until the breaker half-opens.
_BREAKER = """
local key = KEYS[1]
local action = ARGV[1]
local threshold = tonumber(ARGV[2])
local timeout = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local opened_until = tonumber(redis.call('HGET', key, 'opened_until') or '0')
if action == 'allow' then
  if opened_until == 0 then return 'closed' end
  if now < opened_until then return tostring(opened_until - now) end
  -- Half-open: one probe at a time; a probe that never reports back (a
  -- killed worker) frees the slot after another timeout.
  if redis.call('HSETNX', key, 'probe', now) == 1 then return 'probe' end
  local probe = tonumber(redis.call('HGET', key, 'probe'))
  if now - probe > timeout then
    redis.call('HSET', key, 'probe', now)
    return 'probe'
  end
  return tostring(timeout)
elseif action == 'success' then
  redis.call('DEL', key)
  return 'closed'
else
  local failures = redis.call('HINCRBY', key, 'failures', 1)
  if failures >= threshold or opened_until > 0 then
    redis.call('HSET', key, 'opened_until', now + timeout)
    redis.call('HDEL', key, 'probe')
  end
  redis.call('EXPIRE', key, math.ceil(timeout) + 3600)
  return tostring(failures)
end
"""


class CircuitOpen(Exception):
    """The provider failed too often lately; calls are held back for a while."""

    def __init__(self, name: str, retry_in: float) -> None:
        super().__init__(
            f"{name} failed repeatedly; calls paused for another {retry_in:.0f} s (circuit open)"
        )
        self.retry_in = retry_in


@dataclass(frozen=True, slots=True)
class CircuitBreaker:
    name: str
    threshold: int
    timeout: float  # seconds open before a probe call is let through

    @property
    def key(self) -> str:
        return f"datapunk:breaker:{self.name}"

    def _call(self, action: str) -> str:
        result = _client().eval(_BREAKER, 1, self.key, action, self.threshold, self.timeout)
        return result.decode() if isinstance(result, bytes) else str(result)

    def allow(self) -> None:
        """Return if a call may go out now; raise CircuitOpen otherwise."""
        state = self._call("allow")
        if state not in ("closed", "probe"):
            raise CircuitOpen(self.name, float(state))

    def success(self) -> None:
        self._call("success")

    def failure(self) -> None:
        self._call("failure")

    def state(self) -> str:
        """Closed, open or half-open, for pages and tests (reads only)."""
        raw: dict[bytes, bytes] = _client().hgetall(self.key)  # type: ignore[assignment]
        opened_until = float(raw.get(b"opened_until", 0))
        if not opened_until:
            return "closed"
        now_s, now_us = _client().time()  # type: ignore[misc]
        return "open" if now_s + now_us / 1e6 < opened_until else "half-open"
