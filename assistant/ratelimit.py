"""Rate limits for chat turns: per session and per client address, sliding one-minute windows.

The server keeps one ``ChatLimits`` per app (no global state). A refused turn gets a clear
"slow down" reply with the seconds to wait, never a silent drop. Memory stays bounded under a
flood of fresh keys: the least recently seen keys are forgotten first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from assistant.settings import Settings

__all__ = [
    "ADDRESS_FACTOR",
    "API_KINDS",
    "ApiLimits",
    "ChatLimits",
    "Decision",
    "Limiter",
    "RateLimiter",
    "SharedRateLimiter",
    "slow_down_message",
]

# Many shoppers can share one address (an office, a phone carrier's NAT): the address allows
# this many times the per-session rate.
ADDRESS_FACTOR = 10


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int = 0
    scope: str = ""  # "session" | "address" when refused


API_KINDS = {
    "login": "sign-ins",
    "events": "events",
    "search": "searches",
    "recommendations": "recommendation requests",
    "sessions": "new conversations",
}


def slow_down_message(d: Decision) -> str:
    who = "this conversation" if d.scope == "session" else "your network address"
    what = API_KINDS.get(d.scope, "messages")
    return f"Slow down: too many {what} from {who}. Please wait {d.retry_after_s} s and try again."


class RateLimiter:
    """At most ``limit`` hits per ``window_s`` per key (exact sliding window of timestamps)."""

    def __init__(
        self,
        limit: int,
        window_s: float = 60.0,
        *,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1 (AISLE_RATE_LIMIT_PER_MINUTE)")
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _prune(self, q: deque[float], now: float) -> None:
        while q and q[0] <= now - self.window_s:
            q.popleft()

    def peek(self, key: str) -> Decision:
        """Whether one more hit would be allowed, without recording it."""
        with self._lock:
            now = self._clock()
            q = self._hits.get(key)
            if q is None:
                return Decision(True)
            self._prune(q, now)
            return self._decide(q, now)

    def _decide(self, q: deque[float], now: float) -> Decision:
        if len(q) < self.limit:
            return Decision(True)
        wait = q[0] + self.window_s - now
        return Decision(False, max(1, int(wait + 0.999)))

    def hit(self, key: str) -> Decision:
        """Record one hit for ``key`` if allowed; refused hits are not counted."""
        with self._lock:
            now = self._clock()
            q = self._hits.get(key)
            if q is None:
                q = self._hits[key] = deque()
                while len(self._hits) > self.max_keys:
                    self._hits.popitem(last=False)
            else:
                self._hits.move_to_end(key)
            self._prune(q, now)
            d = self._decide(q, now)
            if d.allowed:
                q.append(now)
            return d


class Limiter(Protocol):
    """A sliding window per key: ``RateLimiter`` in memory, ``SharedRateLimiter`` in the database."""

    def peek(self, key: str) -> Decision: ...

    def hit(self, key: str) -> Decision: ...


# (limit, scope) -> a limiter; scope names the window ("chat-session", "api-login", ...).
MakeLimiter = Callable[[int, str], Limiter]


def limiter_factory(settings: Settings, store: Callable[[], Any] | None) -> MakeLimiter | None:
    """Database windows when the settings ask for them (several processes), else None (memory)."""
    if settings.rate_limit_store != "database":
        return None
    if store is None:
        raise ValueError("rate_limit_store='database' needs the shop database: pass the store")
    return lambda limit, scope: SharedRateLimiter(store, scope, limit)


class ChatLimits:
    """Per-session and per-address limits checked together: a turn counts only if both allow it."""

    def __init__(
        self,
        per_minute: int,
        *,
        address_factor: int = ADDRESS_FACTOR,
        clock: Callable[[], float] = time.monotonic,
        make: MakeLimiter | None = None,
    ) -> None:
        self.session: Limiter = (
            make(per_minute, "chat-session") if make else RateLimiter(per_minute, clock=clock)
        )
        self.address: Limiter = (
            make(per_minute * address_factor, "chat-address")
            if make
            else RateLimiter(per_minute * address_factor, clock=clock)
        )
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, store: Callable[[], Any] | None = None) -> ChatLimits:
        return cls(settings.rate_limit_per_minute, make=limiter_factory(settings, store))

    def check(self, session_id: str, address: str | None) -> Decision:
        with self._lock:  # check both, then record both, so a refusal costs no quota
            s = self.session.peek(session_id)
            if not s.allowed:
                return Decision(False, s.retry_after_s, "session")
            if address:
                a = self.address.peek(address)
                if not a.allowed:
                    return Decision(False, a.retry_after_s, "address")
                self.address.hit(address)
            self.session.hit(session_id)
            return Decision(True)


class ApiLimits:
    """Per-address limits for the routes around the chat (API_KINDS): sign-in has its own, lower rate
    (it is what an attacker enumerating customers would hammer); the others share one setting."""

    def __init__(
        self,
        login_per_minute: int,
        api_per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        make: MakeLimiter | None = None,
    ) -> None:
        def one(kind: str) -> Limiter:
            limit = login_per_minute if kind == "login" else api_per_minute
            return make(limit, f"api-{kind}") if make else RateLimiter(limit, clock=clock)

        self._limiters = {k: one(k) for k in API_KINDS}

    @classmethod
    def from_settings(cls, settings: Settings, store: Callable[[], Any] | None = None) -> ApiLimits:
        return cls(
            settings.rate_limit_login_per_minute,
            settings.rate_limit_api_per_minute,
            make=limiter_factory(settings, store),
        )

    def check(self, kind: str, address: str | None) -> Decision:
        d = self._limiters[kind].hit(address or "unknown")
        return d if d.allowed else Decision(False, d.retry_after_s, kind)


# --- windows in the shop database (rate_limit_store = "database") -------------------------------
# Behind one address, N Aisle processes that each count in memory would grant a client N times its
# quota; counted in the database they share one window. Costs one or two short transactions per
# request, which is why memory stays the default for a single process.


class RateWindows(Protocol):
    """What the limiter needs of the store (assistant.store_limits)."""

    def rate_window(self, scope: str, key: str, since: float) -> tuple[int, float | None]: ...

    def rate_admit(
        self, scope: str, key: str, now: float, window_s: float, limit: int
    ) -> tuple[bool, float | None]: ...


class SharedRateLimiter:
    """At most ``limit`` admissions per ``window_s`` per key, across every process on the database."""

    def __init__(
        self,
        store: Callable[[], RateWindows],
        scope: str,
        limit: int,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.time,  # wall time: processes share it, not a monotonic clock
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be >= 1 (AISLE_RATE_LIMIT_PER_MINUTE)")
        self._store, self.scope, self.limit, self.window_s = store, scope, limit, window_s
        self._clock = clock

    def _refused(self, oldest: float | None, now: float) -> Decision:
        wait = (oldest if oldest is not None else now) + self.window_s - now
        return Decision(False, max(1, math.ceil(wait)))

    def peek(self, key: str) -> Decision:
        now = self._clock()
        count, oldest = self._store().rate_window(self.scope, key, now - self.window_s)
        return Decision(True) if count < self.limit else self._refused(oldest, now)

    def hit(self, key: str) -> Decision:
        now = self._clock()
        admitted, oldest = self._store().rate_admit(self.scope, key, now, self.window_s, self.limit)
        return Decision(True) if admitted else self._refused(oldest, now)
