"""Rate limits counted in the shop database: two processes (two Stores on one database) share a quota."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.ratelimit import ApiLimits, ChatLimits, SharedRateLimiter
from assistant.settings import Settings
from assistant.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def two_stores(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    a, b = Store(url), Store(url)
    yield a, b
    a.close()
    b.close()


def test_two_processes_share_one_window_and_it_slides(two_stores: tuple[Store, Store]) -> None:
    a, b = two_stores
    clock = Clock()
    la = SharedRateLimiter(lambda: a, "chat-session", 3, clock=clock)
    lb = SharedRateLimiter(lambda: b, "chat-session", 3, clock=clock)
    assert la.hit("s1").allowed and lb.hit("s1").allowed
    clock.now += 10
    assert la.hit("s1").allowed
    refused = lb.hit("s1")
    assert not refused.allowed and refused.retry_after_s == 50  # the first hit leaves the window at +60 s
    assert not la.peek("s1").allowed and lb.peek("s2").allowed  # keys are separate
    clock.now += 50.5
    assert lb.peek("s1").allowed and lb.hit("s1").allowed  # the first two hits have left the window


def test_refused_hits_cost_no_quota_and_rows_hold_no_key(two_stores: tuple[Store, Store]) -> None:
    a, _ = two_stores
    clock = Clock()
    lim = SharedRateLimiter(lambda: a, "api-login", 1, clock=clock)
    assert lim.hit("10.0.0.7").allowed
    assert not any(lim.hit("10.0.0.7").allowed for _ in range(5))
    with a.engine.connect() as con:
        rows = con.exec_driver_sql("SELECT scope, key FROM rate_hits").fetchall()
    assert len(rows) == 1 and "10.0.0.7" not in rows[0][1]  # one admission, its key hashed
    clock.now += 61
    assert lim.hit("10.0.0.7").allowed


def test_simultaneous_requests_never_exceed_the_limit(two_stores: tuple[Store, Store]) -> None:
    a, b = two_stores
    limiters = [SharedRateLimiter(lambda s=s: s, "chat-address", 5) for s in (a, b) for _ in range(3)]
    admitted: list[bool] = []
    barrier = threading.Barrier(12)

    def go(i: int) -> None:
        barrier.wait()
        admitted.append(limiters[i % len(limiters)].hit("203.0.113.9").allowed)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Never more than the limit; a burst may be refused as a whole (each then retries after 1 s).
    assert len(admitted) == 12 and sum(admitted) <= 5


def test_settings_choose_the_database_window(tmp_path: Path, two_stores: tuple[Store, Store]) -> None:
    a, b = two_stores
    s = Settings(data_dir=tmp_path, rate_limit_store="database", rate_limit_per_minute=2)
    one, two = ChatLimits.from_settings(s, lambda: a), ChatLimits.from_settings(s, lambda: b)
    assert one.check("sess", "127.0.0.1").allowed and two.check("sess", "127.0.0.1").allowed
    third = one.check("sess", "127.0.0.1")
    assert not third.allowed and third.scope == "session"
    api_a, api_b = ApiLimits.from_settings(s, lambda: a), ApiLimits.from_settings(s, lambda: b)
    assert all(api_a.check("login", "10.1.1.1").allowed for _ in range(5))
    assert sum(api_b.check("login", "10.1.1.1").allowed for _ in range(10)) == 5  # 10 a minute in all
    with pytest.raises(ValueError, match="pass the store"):
        ChatLimits.from_settings(s)
