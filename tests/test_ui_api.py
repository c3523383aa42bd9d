"""REST/SSE API tests with FastAPI's TestClient and the contract-following fake engine."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from test_ui_fakes import FakeAssistant, local_client, parse_sse, sign_in, start

from assistant.settings import Settings
from assistant.store import Store
from ui.api import create_app

AGENT = {"Authorization": "Bearer agent-demo-token"}


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, Any]:
    store = Store(f"sqlite:///{tmp_path / 'ui.db'}")
    store.upsert_customer("C0001", name="Ada Shopper", email="ada@example.com")
    store.upsert_customer("C0002", name="Bo Shopper", email="bo@example.com")
    fake = FakeAssistant(store)
    settings = Settings(data_dir=tmp_path, cors_origins=["http://127.0.0.1:9999"], demo_mode=True)
    app = create_app(settings, fake, store=store, with_ui=False)
    return {"client": local_client(app), "store": store, "fake": fake, "settings": settings}


def test_sse_streams_events_in_contract_order(env: dict[str, Any]) -> None:
    r = env["client"].post(
        "/api/chat",
        json={"message": "wireless headphones under $100"},
        headers={"Accept": "text/event-stream"},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    names = [n for n, _ in events]
    assert names[0] == "understood" and names[1] == "products" and names[-1] == "done"
    assert set(names[2:-1]) == {"text"} and len(names) > 3
    assert all(d["type"] == n for n, d in events)
    assert events[1][1]["cards"][0]["product_id"] == "P-HP1"
    streamed = "".join(d["text"] for n, d in events if n == "text").strip()
    assert streamed == events[-1][1]["text"]


def test_query_flag_streams_and_plain_post_collects(env: dict[str, Any]) -> None:
    c = env["client"]
    r = c.post("/api/chat?stream=1", json={"message": "headphones"})
    assert r.headers["content-type"].startswith("text/event-stream")
    sid = r.headers["x-session-id"]
    r = c.post("/api/chat", json={"session_id": sid, "message": "headphones"})
    body = r.json()
    assert r.status_code == 200 and body["done"]["session_id"] == sid == r.headers["x-session-id"]
    assert [p["product_id"] for p in body["products"]] == ["P-HP1", "P-HP2"]
    assert body["text"].startswith("Here are two picks")


def test_concurrent_sessions_never_see_each_other(env: dict[str, Any]) -> None:
    env["fake"].delay_s = 0.002  # interleave the two streams
    c, errors = env["client"], []
    sids = {name: start(c) for name in ("alice", "bob")}

    def shopper(name: str, word: str) -> None:
        sid = sids[name]
        for i in range(4):
            r = c.post(
                "/api/chat",
                json={"session_id": sid, "message": f"{word} {i}"},
                headers={"Accept": "text/event-stream"},
            )
            if r.status_code != 200 or f"{word} {i}" not in parse_sse(r.text)[-1][1]["text"]:
                errors.append((sid, i, r.status_code))

    threads = [threading.Thread(target=shopper, args=a) for a in (("alice", "kettle"), ("bob", "tent"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for name, mine, theirs in (("alice", "kettle", "tent"), ("bob", "tent", "kettle")):
        msgs = c.get(f"/api/sessions/{sids[name]}/messages").json()["messages"]
        assert len(msgs) == 8
        assert all(mine in m["text"] and theirs not in m["text"] for m in msgs)


def test_busy_engine_maps_to_503_with_retry_after(env: dict[str, Any]) -> None:
    env["fake"].busy = True
    r = env["client"].post("/api/chat", json={"message": "hi"}, headers={"Accept": "text/event-stream"})
    assert r.status_code == 503 and int(r.headers["retry-after"]) > 0
    assert "busy" in r.json()["detail"].lower()


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/api/chat", {}, 422),
        ("post", "/api/chat", {"message": ""}, 422),
        ("post", "/api/chat", {"session_id": "bad id <script>", "message": "hi"}, 400),
        ("post", "/api/chat", {"session_id": "0" * 65, "message": "hi"}, 422),
        ("post", "/api/chat", {"message": "x" * 5000}, 400),
        ("post", "/api/chat", {"message": "hi", "customer_id": "C0001"}, 403),
        ("post", "/api/events", {"kind": "hack"}, 422),
        ("get", "/api/products/NOPE", None, 404),
        ("get", "/api/search", None, 422),
        ("get", "/api/customers/C0001/export", None, 403),
        ("delete", "/api/customers/C0001", None, 403),
        ("get", "/api/agent/queue", None, 403),
        ("get", "/api/no-such-route", None, 404),
    ],
)
def test_bad_input_gets_clean_json_errors(
    env: dict[str, Any], method: str, path: str, body: Any, status: int
) -> None:
    kwargs = {"json": body} if body is not None else {}
    r = getattr(env["client"], method)(path, **kwargs)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")


def test_malformed_json_and_wrong_token(env: dict[str, Any]) -> None:
    c = env["client"]
    r = c.post("/api/chat", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert c.get("/api/agent/queue", headers={"Authorization": "Bearer wrong"}).status_code == 403


def test_agent_handoff_reply_and_takeover(env: dict[str, Any]) -> None:
    c = env["client"]
    sh = c.post("/api/chat", json={"message": "I want a human please"}).json()["done"]["session_id"]
    q = c.get("/api/agent/queue", headers=AGENT).json()
    assert [t["session_id"] for t in q["tickets"]] == [sh]
    view = c.get(f"/api/agent/sessions/{sh}", headers=AGENT).json()
    assert [m["role"] for m in view["messages"]] == ["user", "assistant"]
    assert view["sentiment"][0]["score"] == 0.0
    r = c.post(
        f"/api/agent/sessions/{sh}/messages", json={"text": "Hi, Sam from support here."}, headers=AGENT
    )
    assert r.status_code == 200
    last = c.get(f"/api/sessions/{sh}/messages?after=2").json()["messages"]
    assert [(m["role"], m["text"]) for m in last] == [("agent", "Hi, Sam from support here.")]
    assert c.post(f"/api/agent/sessions/{sh}/takeover", headers=AGENT).json()["paused"] is True
    body = c.post("/api/chat", json={"session_id": sh, "message": "thanks, my order is late"}).json()
    assert body["text"] == "" and "paused" in body["done"]["actions"]
    roles = [m["role"] for m in c.get(f"/api/sessions/{sh}/messages").json()["messages"]]
    assert roles == ["user", "assistant", "agent", "user"]  # the bot stayed silent
    c.post(f"/api/agent/sessions/{sh}/release", headers=AGENT)
    assert c.post("/api/chat", json={"session_id": sh, "message": "ok"}).json()["text"]
    assert c.post("/api/agent/sessions/nope/messages", json={"text": "x"}, headers=AGENT).status_code == 404


def test_privacy_export_opt_out_and_delete(env: dict[str, Any]) -> None:
    c = env["client"]
    hdr = sign_in(c, "C0001")
    sp = c.post("/api/chat", json={"message": "hello", "customer_id": "C0001"}, headers=hdr).json()["done"][
        "session_id"
    ]
    assert (
        c.post(
            "/api/events",
            json={
                "kind": "thumbs",
                "session_id": sp,
                "customer_id": "C0001",
                "product_id": "P-HP1",
                "value": 1,
            },
            headers=hdr,
        ).status_code
        == 200
    )
    data = c.get("/api/customers/C0001/export", headers=hdr).json()
    assert data["customer"]["email"] == "ada@example.com"
    assert len(data["messages"]) == 2 and data["events"][0]["kind"] == "feedback"
    assert c.post("/api/customers/C0001/opt-out", headers=hdr).json()["personalization"] is False
    assert env["store"].personalization_allowed("C0001") is False
    other = sign_in(c, "C0002")
    assert c.get("/api/customers/C0001/export", headers=other).status_code == 403
    assert c.delete("/api/customers/C0001", headers=hdr).json() == {"deleted": "C0001"}
    assert c.get("/api/customers/C0001/export", headers=hdr).status_code == 403  # her token died with her
    assert env["store"].messages(sp) == []


def test_cors_allow_list(env: dict[str, Any]) -> None:
    c = env["client"]
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = c.options("/api/chat", headers={"Origin": "http://127.0.0.1:9999", **pre})
    assert ok.headers.get("access-control-allow-origin") == "http://127.0.0.1:9999"
    bad = c.options("/api/chat", headers={"Origin": "http://evil.example", **pre})
    assert "access-control-allow-origin" not in bad.headers


def test_assets_openapi_and_product_image(env: dict[str, Any]) -> None:
    c = env["client"]
    js, css = c.get("/widget.js"), c.get("/widget.css")
    assert js.status_code == css.status_code == 200 and "javascript" in js.headers["content-type"]
    assert len(js.content) + len(css.content) < 30 * 1024
    assert "innerHTML" not in js.text  # network data only ever goes through textContent
    assert c.get("/favicon.ico").content[:4] == b"\x00\x00\x01\x00"
    assert "/widget.js" in c.get("/widget-demo").text
    paths = c.get("/api/openapi.json").json()["paths"]
    assert {
        "/api/chat",
        "/api/search",
        "/api/recommendations",
        "/api/agent/queue",
        "/api/customers/{customer_id}/export",
    } <= set(paths)
    svg = c.get("/api/products/%3Cscript%3E/image.svg").text
    assert "<script>" not in svg and "&lt;script&gt;" in svg
