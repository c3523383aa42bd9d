"""Gradio handlers, HTML rendering and insights, without a browser."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_ui_fakes import FakeAssistant

from assistant.settings import Settings
from assistant.store import Store
from ui.insights import compute, sentiment_series, variant_for
from ui.privacy_panel import Visit
from ui.render import card_html, cards_html, transcript_html
from ui.service import Backend


@pytest.fixture()
def backend(tmp_path: Path) -> Backend:
    store = Store(f"sqlite:///{tmp_path / 'app.db'}")
    store.upsert_customer("C0001", name="Ada")
    return Backend(Settings(data_dir=tmp_path), assistant=FakeAssistant(store), store=store)


def test_flatten_handles_gradio6_parts() -> None:
    from ui.app import clean_history, flatten

    assert flatten([{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]) == "ab"
    assert clean_history([{"role": "user", "content": [{"type": "text", "text": "hi"}]}]) == [
        {"role": "user", "content": "hi"}
    ]


def test_cards_escape_everything() -> None:
    evil = {
        "product_id": 'X"><script>alert(1)</script>',
        "title": "<img src=x onerror=alert(1)>",
        "price": 9.5,
        "currency": "USD",
        "rating": 4.0,
        "reason": "<b>bold</b>",
    }
    out = card_html(evil) + cards_html([evil])
    assert "<script>" not in out and "<img src=x" not in out and "<b>bold" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert 'alt="&lt;img src=x onerror=alert(1)&gt;"' in out  # images always carry alt text
    msgs = transcript_html([{"role": "user", "text": "<script>x()</script>", "created_at": ""}])
    assert "<script>" not in msgs


def _sid() -> str:
    from assistant.access import new_session_id

    return new_session_id()


def test_chat_turn_streams_and_sessions_stay_isolated(backend: Backend) -> None:
    from ui.app import chat_turn

    sa, sb = _sid(), _sid()
    a = list(chat_turn(backend, "wireless headphones", [], sa, None, 0))
    b = list(chat_turn(backend, "camping stove", [], sb, None, 0))
    hist_a, cards_a = a[-1][0], a[-1][1]
    hist_b = b[-1][0]
    assert "P-HP1" in cards_a and "&lt;b&gt;X1" in cards_a
    assert [m["role"] for m in hist_a] == ["user", "assistant"]
    assert "headphones" in hist_a[1]["content"] and "stove" not in str(hist_a)
    assert "headphones" not in str(hist_b)
    assert len(a) >= 4  # user echo, products, several text deltas, final
    assert a[-1][3] == sa and a[-1][5] == backend.store.messages(sa)[-1]["id"]
    # The engine is told which tab the turn came from, never the same for two tabs.
    fake = backend.assistant
    clients = {c for s, _, c in fake.turns}
    assert len(clients) == 1 and all(c and c.startswith("c-") for c in clients)
    list(chat_turn(backend, "hi", [], sa, None, 0, Visit(client_key="tab-two-key-0123456789")))
    assert fake.turns[-1][2] not in clients


def test_gradio_chat_is_rate_limited_like_the_api(tmp_path: Path) -> None:
    from ui.app import chat_turn

    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    backend = Backend(
        Settings(data_dir=tmp_path, rate_limit_per_minute=2), assistant=FakeAssistant(store), store=store
    )
    sid, visit = _sid(), Visit(address="10.0.0.9")
    for i in range(2):
        last = list(chat_turn(backend, f"hi {i}", [], sid, None, 0, visit))[-1]
        assert "Slow down" not in last[6]
    hist, _cards, box, _sid_, _tok, _last, status = list(
        chat_turn(backend, "one more", [], sid, None, 0, visit)
    )[-1]
    assert "Slow down" in status and "wait" in status
    assert box == "one more" and hist == []  # refused: nothing sent, the typed text stays in the box
    assert len(backend.store.messages(sid)) == 4  # two turns, no third


def test_agent_message_reaches_only_its_shopper(backend: Backend) -> None:
    from ui.app import chat_turn, poll_agent

    sa, sb = _sid(), _sid()
    last_a = list(chat_turn(backend, "hi", [], sa, None, 0))[-1]
    last_b = list(chat_turn(backend, "hi", [], sb, None, 0))[-1]
    backend.store.add_message(sa, "agent", "Hello from support <script> ![x](http://evil.example/p.png)")
    hist, new_last = poll_agent(backend, last_a[0], sa, None, last_a[5])
    assert "Support agent" in hist[-1]["content"] and "&lt;script&gt;" in hist[-1]["content"]
    assert "](http" not in hist[-1]["content"] and "evil.example" not in hist[-1]["content"]
    assert new_last > last_a[5]
    hist_b, _ = poll_agent(backend, last_b[0], sb, None, last_b[5])
    assert not isinstance(hist_b, list)  # gr.skip(): nothing new for B


def test_privacy_panel_handlers(backend: Backend) -> None:
    from ui import privacy_panel as pp

    tok = backend.authority.issue("C0001")
    who = backend.identify(customer_token=tok)
    sid = backend.open_session(who, None)
    list(backend.stream(sid, "hello", "C0001"))
    assert "2 messages" in pp.privacy_summary(backend, who)
    assert "anonymous" in pp.privacy_summary(backend, backend.identify()).lower()
    link = pp.privacy_export(backend, who)
    name = link.split("/api/exports/")[1].split('"')[0]
    assert backend.take_export(name).decode().count("C0001") >= 2  # type: ignore[union-attr]
    assert backend.take_export(name) is None  # one download only
    pp.privacy_opt(backend, who, True)
    assert backend.store.personalization_allowed("C0001") is False
    assert "confirmation" in pp.privacy_delete(backend, who, False)
    assert "Deleted" in pp.privacy_delete(backend, who, True)
    assert backend.store.get_customer("C0001") is None
    assert pp.resolve(backend, tok, Visit())[1] is None  # her token is revoked


def test_variant_assignment_is_deterministic_and_balanced() -> None:
    assert variant_for("C0042") == variant_for("C0042")
    counts = Counter(variant_for(f"C{i:04d}") for i in range(2000))
    assert set(counts) == {"A", "B"} and abs(counts["A"] - counts["B"]) < 200


def test_insights_aggregate_the_store(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'i.db'}")
    store.ensure_session("s1")
    store.add_message(
        "s1", "user", "where is my parcel", meta={"intents": ["order_status"], "sentiment": "negative"}
    )
    store.add_message("s1", "assistant", "sorry", meta={"actions": ["out_of_scope"]})
    store.add_message("s1", "user", "thanks", meta={"intents": ["goodbye"], "sentiment": "positive"})
    for kind, arm in (("impression", "A"), ("impression", "A"), ("click", "A"), ("impression", "B")):
        store.add_event(kind, session_id="s1", product_id="P1", variant=arm)
    data: dict[str, Any] = compute(store)
    assert data["intents"] == {"order_status": 1, "goodbye": 1}
    assert data["ctr_by_variant"]["A"]["ctr"] == 0.5 and data["ctr_by_variant"]["B"]["ctr"] == 0.0
    assert data["unanswered"] == [{"question": "where is my parcel", "count": 1}]
    assert [p["score"] for p in sentiment_series(store.messages("s1"))] == [-1.0, 1.0]
    from ui.insights import charts

    assert set(charts(data)) == {"intents", "sentiment", "ctr", "unanswered"}


def test_run_seeds_demo_customers_only_for_the_demo_catalog(tmp_path: Path) -> None:
    from knowledge.catalog import Catalog, load_demo_catalog
    from knowledge.snapshot import save_catalog
    from ui.serve import _seed_demo_customers

    settings = Settings(data_dir=tmp_path / "demo")
    save_catalog(settings.data_dir, load_demo_catalog())
    _seed_demo_customers(settings)
    assert len(Store.from_settings(settings).list_customers()) >= 500
    own = Settings(data_dir=tmp_path / "own")  # a shop's own catalog: no demo people appear
    demo = load_demo_catalog()
    from dataclasses import replace

    save_catalog(own.data_dir, Catalog([replace(demo.products[0], id="MY-1")], [], []))
    _seed_demo_customers(own)
    assert Store.from_settings(own).list_customers() == []


def test_gradio_mounted_at_root_beside_the_api(backend: Backend) -> None:
    from ui.api import create_app

    c = TestClient(create_app(backend.settings, backend.assistant, store=backend.store))
    page = c.get("/")
    assert page.status_code == 200 and "gradio" in page.text.lower()
    assert c.get("/widget.js").headers["content-type"].startswith("application/javascript")
    assert c.get("/api/no-such").status_code == 404 and c.get("/api/health").json()["ok"] is True
    assert c.get("/favicon.ico").status_code == 200


def test_web_chat_and_api_share_one_quota(tmp_path: Path) -> None:
    from ui.api import create_app
    from ui.app import chat_turn

    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    app = create_app(
        Settings(data_dir=tmp_path, rate_limit_per_minute=1), FakeAssistant(store), store=store, with_ui=False
    )
    backend = app.state.backend
    sid = _sid()
    last = list(chat_turn(backend, "hi", [], sid, None, 0, Visit(address="testclient")))[-1]
    assert "Slow down" not in last[6]
    # The API turn in the same conversation is the second one this minute: refused.
    r = TestClient(app).post("/api/chat", json={"session_id": sid, "message": "hello again"})
    assert r.status_code == 429
