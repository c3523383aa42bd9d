"""Load: `aisle bench load` machinery against a real server; 'busy' and 'slow down' are explicit."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from test_reliability_kit import Server
from test_ui_fakes import FakeAssistant

from aisle.bench.load import percentile, run_load, transcript_leaks
from assistant.settings import Settings
from assistant.store import Store
from ui.api import create_app


def test_leak_check_sees_foreign_and_missing_messages() -> None:
    own = [
        {"id": 1, "session_id": "s", "role": "user", "text": "hi (shopper zqbb)"},
        {"id": 2, "session_id": "s", "role": "assistant", "text": "hello"},
    ]
    assert transcript_leaks(own, "s", "zqbb", ["hi (shopper zqbb)"]) == []
    foreign = own + [{"id": 3, "session_id": "s", "role": "user", "text": "tents (shopper zqbc)"}]
    assert len(transcript_leaks(foreign, "s", "zqbb", ["hi (shopper zqbb)"])) == 2
    other_sid = [{**own[0], "session_id": "t"}]
    assert transcript_leaks(other_sid, "s", "zqbb", ["hi (shopper zqbb)"])
    assert transcript_leaks(own, "s", "zqbb", ["hi (shopper zqbb)", "lost turn (shopper zqbb)"])


def test_percentile() -> None:
    assert percentile([], 95) is None and percentile([5.0], 50) == 5.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0


def test_concurrent_shoppers_against_a_real_server(tmp_path: Path) -> None:
    with Server(tmp_path) as srv:
        res = run_load(srv.url, users=8, turns=3, think_s=0.0, timeout_s=30)
    assert res["errors"] == 0, res["error_samples"]
    assert res["leaks"] == 0, res["leak_samples"]
    assert res["busy"] == 0 and res["turns_completed"] == 24
    assert 0 < res["latency_ms"]["p50"] <= res["latency_ms"]["p95"]
    json.dumps(res)  # the --out payload is plain JSON
    assert {"users", "turns", "errors", "busy", "leaks", "latency_ms"} <= set(res)


def test_full_generation_queue_answers_busy_never_hangs(tmp_path: Path) -> None:
    # One slow model, one waiting slot: most shoppers are told 'busy' and retry; none hang or fail.
    with Server(tmp_path, T_DELAY="0.02", T_QUEUE="1") as srv:
        res = run_load(srv.url, users=5, turns=1, think_s=0.0, timeout_s=30)
    assert res["errors"] == 0, res["error_samples"]
    assert res["busy"] > 0 and res["turns_completed"] == 5 and res["leaks"] == 0


def _client(tmp_path: Path, per_minute: int) -> TestClient:
    store = Store(f"sqlite:///{tmp_path / 'rl.db'}")
    settings = Settings(data_dir=tmp_path, rate_limit_per_minute=per_minute)
    return TestClient(create_app(settings, FakeAssistant(store), store=store, with_ui=False))


def test_rate_limit_per_session_says_slow_down(tmp_path: Path) -> None:
    c = _client(tmp_path, 3)
    rl1 = c.post("/api/chat", json={"message": "headphones"}).json()["done"]["session_id"]
    for i in range(2):
        assert c.post("/api/chat", json={"session_id": rl1, "message": f"headphones {i}"}).status_code == 200
    r = c.post("/api/chat", json={"session_id": rl1, "message": "again"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    body = r.json()
    assert body["error"] == "slow down" and "Slow down" in body["detail"] and body["scope"] == "session"
    assert c.post("/api/chat", json={"message": "hi"}).status_code == 200  # another conversation


def test_rate_limit_per_address_covers_fresh_sessions(tmp_path: Path) -> None:
    c = _client(tmp_path, 1)  # 1 per session, 10 per address
    codes = [c.post("/api/chat", json={"message": "hi"}).status_code for _ in range(12)]
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
    assert c.post("/api/chat", json={"message": "hi"}).json()["scope"] == "address"
