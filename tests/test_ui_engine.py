"""The API over the real engine (tools, shop index, store, template generator) on the demo shop.

Only understanding is the engine's keyword stand-in (assistant.fakes), so this stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import DemoShop
from fastapi.testclient import TestClient
from test_ui_fakes import local_client, parse_sse, sign_in, start

from assistant.settings import Settings
from ui.api import create_app

AGENT = {"Authorization": "Bearer agent-demo-token"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, demo_shop: DemoShop) -> TestClient:
    folder = tmp_path_factory.mktemp("ui-engine")
    engine = demo_shop.assistant(folder / "aisle.db", history=True)
    settings = Settings(data_dir=folder, generator_backend="template", embedder="hashing", demo_mode=True)
    return local_client(create_app(settings, engine, with_ui=False))


def test_streamed_turn_on_the_demo_shop(client: TestClient) -> None:
    r = client.post("/api/chat?stream=1", json={"message": "wireless headphones under $100"})
    events = parse_sse(r.text)
    assert [n for n, _ in events][:2] == ["understood", "products"] and events[-1][0] == "done"
    cards = events[1][1]["cards"]
    assert cards and all(c["price"] is not None and c["price"] <= 100 for c in cards)
    assert all(c["reason"] for c in cards)
    pid = cards[0]["product_id"]
    assert client.get(f"/api/products/{pid}").json()["title"] == cards[0]["title"]


def test_search_and_recommendations_use_the_engine_tools(client: TestClient) -> None:
    hits = client.get("/api/search", params={"q": "coffee maker", "k": 3}).json()["results"]
    assert hits and all("Coffee" in h["category"] for h in hits)
    recs = client.get(
        "/api/recommendations", params={"customer_id": "C0001", "k": 4}, headers=sign_in(client, "C0001")
    ).json()["results"]
    assert len(recs) == 4 and len({r["product_id"] for r in recs}) == 4


def test_agent_draft_keeps_the_conversation_untouched(client: TestClient) -> None:
    e2 = start(client)
    client.post("/api/chat", json={"session_id": e2, "message": "wireless headphones under $100"})
    client.post("/api/chat", json={"session_id": e2, "message": "I want to talk to a human"})
    tickets = client.get("/api/agent/queue", headers=AGENT).json()["tickets"]
    assert any(t["session_id"] == e2 and t["kind"] == "handoff" for t in tickets)
    before = client.get(f"/api/sessions/{e2}/messages").json()["messages"]
    sug = client.get(f"/api/agent/sessions/{e2}/suggest", headers=AGENT).json()
    assert sug["text"].startswith("Hi") and len(sug["text"]) > 40
    assert sug["products"] and sug["policies"]
    assert client.get(f"/api/sessions/{e2}/messages").json()["messages"] == before
    after = client.get("/api/agent/queue", headers=AGENT).json()
    assert len(after["tickets"]) == len(tickets)  # replaying the draft opened no ticket
    assert all(not s["id"].startswith("agent-draft-") for s in after["sessions"])


def test_takeover_silences_the_real_engine(client: TestClient) -> None:
    e3 = start(client)
    client.post("/api/chat", json={"session_id": e3, "message": "hello"})
    client.post(f"/api/agent/sessions/{e3}/takeover", headers=AGENT)
    body: dict[str, Any] = client.post(
        "/api/chat", json={"session_id": e3, "message": "anyone there?"}
    ).json()
    assert body["text"] == "" and body["products"] == []
    client.post(f"/api/agent/sessions/{e3}/release", headers=AGENT)
    assert client.post("/api/chat", json={"session_id": e3, "message": "headphones"}).json()["text"]


def test_insights_count_real_turns(client: TestClient, tmp_path: Path) -> None:
    data = client.get("/api/agent/insights", headers=AGENT).json()
    assert data["intents"].get("recommend", 0) >= 1
    assert sum(v["impressions"] for v in data["ctr_by_variant"].values()) >= 3
