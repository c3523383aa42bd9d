"""Security suite, object-level access and resource limits (issue 15): sessions, transcripts, events,
the agent queue, rate limits and the body cap, each probe of the issue as a named test."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_ui_fakes import FakeAssistant, local_client, parse_sse, sign_in, start

from assistant.settings import Settings
from assistant.store import Store
from ui.api import create_app

AGENT = {"Authorization": "Bearer agent-demo-token"}
ADMIN = {"Authorization": "Bearer admin-demo-token"}
ORDER = {
    "id": "ORD-555001",
    "customer_id": "C0001",
    "email": "ada@example.com",
    "status": "shipped",
    "created_at": "2026-07-01T10:00:00Z",
    "total": 79.0,
    "carrier": "UPS",
    "tracking_number": "1Z999AA10123456784",
    "tracking": [{"location": "Reno, NV", "status": "Picked up", "ts": "2026-07-02T10:00:00Z"}],
}


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, Any]:
    store = Store(f"sqlite:///{tmp_path / 'acc.db'}")
    store.upsert_customer("C0001", name="Ada Shopper", email="ada@example.com")
    store.upsert_customer("C0002", name="Bo Shopper", email="bo@example.com")
    store.upsert_order(ORDER)
    fake = FakeAssistant(store)
    app = create_app(
        Settings(data_dir=tmp_path, demo_mode=True, max_body_bytes=64 * 1024),
        fake,
        store=store,
        with_ui=False,
    )
    c = local_client(app)
    return {
        "c": c,
        "app": app,
        "store": store,
        "fake": fake,
        "ada": sign_in(c, "C0001"),
        "bo": sign_in(c, "C0002"),
    }


# --- the probe: "session ids are chosen by the client (one character is accepted)" ----------------
@pytest.mark.parametrize("sid", ["x", "s-1", "A" * 32, "0" * 31, "../../etc/passwd", "g" * 32])
def test_client_chosen_session_ids_are_refused(env: dict[str, Any], sid: str) -> None:
    r = env["c"].post("/api/chat", json={"session_id": sid, "message": "hi"})
    assert r.status_code in (400, 422) and "issued by the server" in r.text
    assert env["store"].get_session(sid) is None and env["fake"].turns == []


def test_server_issues_128_bit_session_ids(env: dict[str, Any]) -> None:
    c = env["c"]
    ids = {start(c) for _ in range(20)} | {
        c.post("/api/chat", json={"message": "hi"}).headers["x-session-id"]
    }
    assert len(ids) == 21 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    unknown = "0123456789abcdef" * 2  # well-formed, never issued
    assert c.post("/api/chat", json={"session_id": unknown, "message": "hi"}).status_code == 404
    assert env["store"].get_session(unknown) is None


# --- the probe: "whoever knows a session id reads the transcript with tracking numbers" ------------
def _order_conversation(env: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    sid = start(env["c"], headers)
    store = env["store"]
    store.add_message(sid, "user", "where is my order ORD-555001? my email is [email]")
    store.add_message(
        sid,
        "assistant",
        "Order ORD-555001 is shipped with UPS (tracking 1Z999AA10123456784). "
        "Last update: Picked up in Reno, NV. Ship to 12 Elm Street, Springfield, IL 62704.",
        meta={"citations": ["ORD-555001"]},
    )
    return sid


def test_transcript_is_redacted_for_anyone_but_its_customer_or_staff(env: dict[str, Any]) -> None:
    c = env["c"]
    anon = _order_conversation(env)
    text = " ".join(m["text"] for m in c.get(f"/api/sessions/{anon}/messages").json()["messages"])
    assert "1Z999AA10123456784" not in text and "Reno" not in text and "Elm Street" not in text
    assert "ORD-555001" in text  # the conversation stays readable
    staff = " ".join(
        m["text"] for m in c.get(f"/api/sessions/{anon}/messages", headers=AGENT).json()["messages"]
    )
    assert "1Z999AA10123456784" in staff and "Reno, NV" in staff
    mine = _order_conversation(env, env["ada"])
    whole = " ".join(
        m["text"] for m in c.get(f"/api/sessions/{mine}/messages", headers=env["ada"]).json()["messages"]
    )
    assert "1Z999AA10123456784" in whole
    assert all(
        set(m) == {"id", "role", "text", "created_at"}
        for m in c.get(f"/api/sessions/{anon}/messages").json()["messages"]
    )  # no meta: no order facts


def test_a_customers_conversation_is_closed_to_everyone_else(env: dict[str, Any]) -> None:
    c = env["c"]
    sid = _order_conversation(env, env["ada"])
    for headers in ({}, env["bo"]):  # anonymous replay of the id, another customer's token
        assert c.get(f"/api/sessions/{sid}/messages", headers=headers).status_code == 403
        assert (
            c.post("/api/chat", json={"session_id": sid, "message": "cancel it"}, headers=headers).status_code
            == 403
        )
        assert (
            c.post(
                "/api/events", json={"kind": "click", "session_id": sid, "product_id": "P1"}, headers=headers
            ).status_code
            == 403
        )
    assert env["fake"].turns == []  # the engine never saw the replayed turns


def test_a_replayed_session_reaches_the_engine_as_another_client(env: dict[str, Any]) -> None:
    """Order facts a session remembers need the email again from another client (the engine's rule):
    every path tells the engine which client it is, and a replay is not the same client."""
    c, fake = env["c"], env["fake"]
    sid = c.post(
        "/api/chat", json={"message": "hi"}, headers={"X-Aisle-Client": "browser-one-key-0001"}
    ).json()
    sid = sid["done"]["session_id"]
    c.post(
        "/api/chat",
        json={"session_id": sid, "message": "where is it now?"},
        headers={"X-Aisle-Client": "browser-one-key-0001", "Accept": "text/event-stream"},
    )
    TestClient(env["app"], client=("198.51.100.4", 1)).post(
        "/api/chat", json={"session_id": sid, "message": "and now?"}
    )
    first, same, replay = (t[2] for t in fake.turns)
    assert first and first == same and replay and replay != first
    assert "browser-one-key" not in first  # opaque: a keyed hash, not the raw key
    c.post("/api/chat", json={"message": "hi"}, headers=env["ada"])
    c.post("/api/chat", json={"message": "hi"}, headers=env["bo"])
    assert len({t[2] for t in fake.turns}) == 4


# --- the probe: "POST /api/events writes purchases into any customer's history with no token" -------
def test_events_naming_a_customer_need_that_customers_token(env: dict[str, Any]) -> None:
    c, store = env["c"], env["store"]
    sid = start(c)
    ev = {"kind": "cart", "session_id": sid, "customer_id": "C0001", "product_id": "P1"}
    assert c.post("/api/events", json=ev).status_code == 403
    assert c.post("/api/events", json=ev, headers=env["bo"]).status_code == 403
    mine = start(c, env["ada"])
    assert c.post("/api/events", json={**ev, "session_id": mine}, headers=env["ada"]).status_code == 200
    assert [e["customer_id"] for e in store.events(kinds=["cart"])] == ["C0001"]


def test_purchase_events_come_only_from_the_shop_backend(env: dict[str, Any]) -> None:
    c, store = env["c"], env["store"]
    ev = {"kind": "purchase", "customer_id": "C0001", "product_id": "P1"}
    for headers in ({}, env["ada"], env["bo"]):
        assert c.post("/api/events", json=ev, headers=headers).status_code == 403
    assert c.post("/api/events", json=ev, headers=ADMIN).status_code == 200
    assert len(store.events(customer_id="C0001", kinds=["purchase"])) == 1


def test_anonymous_events_need_an_issued_conversation(env: dict[str, Any]) -> None:
    c = env["c"]
    assert c.post("/api/events", json={"kind": "click", "product_id": "P1"}).status_code == 400
    assert (
        c.post("/api/events", json={"kind": "click", "session_id": "f" * 32, "product_id": "P1"}).status_code
        == 404
    )
    assert env["store"].get_session("f" * 32) is None  # an event never creates a conversation


# --- the probe: "500 anonymous events pushed every real conversation out of the agent queue" -------
def test_an_event_and_session_flood_keeps_real_conversations_in_the_queue(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    app = create_app(
        Settings(data_dir=tmp_path, rate_limit_api_per_minute=10_000),
        FakeAssistant(store),
        store=store,
        with_ui=False,
    )
    c = TestClient(app)
    real = c.post("/api/chat", json={"message": "I want a human please"}).json()["done"]["session_id"]
    for _ in range(60):  # empty conversations and their events
        sid = start(c)
        c.post("/api/events", json={"kind": "click", "session_id": sid, "product_id": "P1"})
    queue = c.get("/api/agent/queue", headers=AGENT).json()
    assert [s["id"] for s in queue["sessions"]] == [real]


# --- the probe: "search, recommendations, login and events have no rate limit" -----------------------
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/search?q=headphones", None),
        ("GET", "/api/recommendations?k=3", None),
        ("POST", "/api/events", "event"),
        ("POST", "/api/sessions", None),
    ],
)
def test_api_routes_are_rate_limited_per_address(tmp_path: Path, method: str, path: str, body: Any) -> None:
    store = Store(f"sqlite:///{tmp_path / 'rl.db'}")
    app = create_app(
        Settings(data_dir=tmp_path, rate_limit_api_per_minute=5),
        FakeAssistant(store),
        store=store,
        with_ui=False,
    )
    c = TestClient(app)
    sid = c.post("/api/chat", json={"message": "hi"}).json()["done"]["session_id"]
    payload = {"kind": "click", "session_id": sid, "product_id": "P1"} if body else None
    codes = [c.request(method, path, json=payload).status_code for _ in range(7)]
    assert codes[:4].count(200) >= 4 and codes[-1] == 429, codes
    other = TestClient(app, client=("198.51.100.20", 1))  # another address keeps its own quota
    assert other.request(method, path, json=payload).status_code in (200, 403)


# --- the probe: "a 50 MB request body is accepted" ---------------------------------------------------
def test_oversized_bodies_get_413(env: dict[str, Any]) -> None:
    c = env["c"]
    big = b'{"message": "' + b"x" * 200_000 + b'"}'
    r = c.post("/api/chat", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "max_body_bytes" in r.json()["detail"]

    def chunks() -> Any:  # no Content-Length: buffered up to the cap, then refused
        for _ in range(100):
            yield b"x" * 4096

    r = c.post("/api/events", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert c.post("/api/chat", json={"message": "still fine"}).status_code == 200
    assert env["fake"].turns and env["fake"].turns[-1][0]  # the server is up and answering


def test_every_ui_path_passes_a_client_id_to_the_engine(env: dict[str, Any]) -> None:
    from ui.app import chat_turn
    from ui.privacy_panel import Visit

    c, fake = env["c"], env["fake"]
    c.post("/api/chat", json={"message": "json"})
    r = c.post("/api/chat", json={"message": "sse"}, headers={"Accept": "text/event-stream"})
    assert parse_sse(r.text)[-1][0] == "done"
    backend = env["app"].state.backend
    list(chat_turn(backend, "gradio", [], None, None, 0, Visit(address="127.0.0.1", client_key="k" * 32)))
    assert len(fake.turns) == 3 and all(t[2] and t[2].startswith("c-") for t in fake.turns)
