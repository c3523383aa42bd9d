"""Rate limits: sliding windows per session and per client address, with a clear 'slow down'."""

from __future__ import annotations

import pytest

from assistant.ratelimit import ChatLimits, RateLimiter, slow_down_message


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_window_slides() -> None:
    clock = Clock()
    rl = RateLimiter(3, 60, clock=clock)
    assert all(rl.hit("s").allowed for _ in range(3))
    d = rl.hit("s")
    assert not d.allowed and d.retry_after_s == 60
    clock.t += 30
    assert not rl.hit("s").allowed  # refused hits do not extend the ban
    clock.t += 30.5
    assert rl.hit("s").allowed
    assert rl.hit("other").allowed  # keys are independent


def test_memory_stays_bounded() -> None:
    rl = RateLimiter(1, 60, max_keys=100)
    for i in range(1000):
        rl.hit(f"k{i}")
    assert len(rl._hits) == 100


def test_session_and_address_limits() -> None:
    clock = Clock()
    limits = ChatLimits(2, address_factor=2, clock=clock)  # 2 per session, 4 per address
    assert limits.check("a", "1.2.3.4").allowed and limits.check("a", "1.2.3.4").allowed
    d = limits.check("a", "1.2.3.4")
    assert not d.allowed and d.scope == "session" and "Slow down" in slow_down_message(d)
    # A fresh session id does not escape the address limit.
    assert limits.check("b", "1.2.3.4").allowed and limits.check("b", "1.2.3.4").allowed
    d = limits.check("c", "1.2.3.4")
    assert not d.allowed and d.scope == "address" and "network address" in slow_down_message(d)
    assert limits.check("c", "5.6.7.8").allowed  # another address is unaffected


def test_refusal_costs_no_quota() -> None:
    clock = Clock()
    limits = ChatLimits(1, address_factor=3, clock=clock)
    assert limits.check("a", "ip").allowed
    for _ in range(10):
        assert not limits.check("a", "ip").allowed
    # Session 'a' was refused ten times but the address still has room for two more sessions.
    assert limits.check("b", "ip").allowed and limits.check("c", "ip").allowed


def test_bad_limit_names_the_setting() -> None:
    with pytest.raises(ValueError, match="AISLE_RATE_LIMIT_PER_MINUTE"):
        RateLimiter(0)
