from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from assistant.store import Store


@pytest.fixture
def store(settings):
    s = Store.from_settings(settings)
    yield s
    s.close()


def test_schema_created_on_first_use_in_wal_mode(store, settings) -> None:
    db = settings.data_dir / "aisle.db"
    assert db.is_file()
    con = sqlite3.connect(db)
    try:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        assert {"customers", "sessions", "messages", "events", "orders", "tickets", "consent"} <= tables
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()


def test_messages_are_per_session(store) -> None:
    store.ensure_session("s1")
    store.ensure_session("s2")
    store.add_message("s1", "user", "hello from one")
    store.add_message("s2", "user", "hello from two")
    assert [m["text"] for m in store.messages("s1")] == ["hello from one"]
    assert [m["text"] for m in store.messages("s2")] == ["hello from two"]


def test_state_roundtrip_and_pause(store) -> None:
    store.ensure_session("s1")
    store.save_state("s1", {"constraints": {"price_max": 50.0}, "shown": ["P1", "P2"]})
    assert store.load_state("s1")["shown"] == ["P1", "P2"]
    store.set_paused("s1", True)
    assert store.get_session("s1")["paused"] is True


def _shop():
    return SimpleNamespace(
        customers=[
            {
                "id": "C1",
                "name": "Ana Diaz",
                "email": "ana.diaz@example.com",
                "created_at": "2025-01-02T10:00:00",
            },
            {"id": "C2", "name": "Bo Li", "email": "bo.li@example.com", "created_at": "2025-02-02T10:00:00"},
        ],
        interactions=[
            {
                "customer_id": "C1",
                "product_id": "P1",
                "event": "purchase",
                "rating": None,
                "ts": "2025-03-01T10:00:00",
            },
            {
                "customer_id": "C2",
                "product_id": "P2",
                "event": "rate",
                "rating": 4,
                "ts": "2025-03-02T10:00:00",
            },
        ],
        orders=[
            {
                "id": "ORD-100001",
                "customer_id": "C1",
                "email": "ana.diaz@example.com",
                "status": "shipped",
                "created_at": "2025-03-01T10:00:00",
                "items": [{"product_id": "P1", "qty": 1, "price": 20.0}],
                "total": 20.0,
                "carrier": "UPS",
                "tracking_number": "1Z",
                "tracking": [],
            }
        ],
    )


def test_demo_load_is_idempotent(store) -> None:
    assert store.load_demo(_shop()) == {"customers": 2, "events": 2, "orders": 1}
    assert store.load_demo(_shop()) == {"customers": 0, "events": 0, "orders": 0}
    assert store.get_order("ORD-100001")["status"] == "shipped"
    assert [e["product_id"] for e in store.events(customer_id="C1")] == ["P1"]


def test_export_then_delete_removes_everything(store) -> None:
    store.load_demo(_shop())
    store.ensure_session("s1", "C1")
    store.add_message("s1", "user", "where is ORD-100001")
    store.add_event("click", session_id="s1", customer_id="C1", product_id="P9")
    store.open_ticket("handoff", "wants a human", session_id="s1", customer_id="C1")
    store.set_personalization("C1", False)
    exported = store.export_customer("C1")
    assert exported["customer"]["email"] == "ana.diaz@example.com"
    assert len(exported["messages"]) == 1 and len(exported["orders"]) == 1 and len(exported["tickets"]) == 1
    assert exported["consent"]["personalization"] is False
    assert store.delete_customer("C1") is True
    assert store.delete_customer("C1") is False
    after = store.export_customer("C1")
    assert after["customer"] is None and not any(
        after[k] for k in ("messages", "events", "orders", "tickets", "sessions")
    )
    # the other customer is untouched
    assert store.get_customer("C2") is not None and len(store.events(customer_id="C2")) == 1


def test_consent_defaults_to_allowed_for_known_and_off_for_anonymous(store) -> None:
    store.upsert_customer("C9", "X", "x@example.com")
    assert store.personalization_allowed("C9") is True
    assert store.personalization_allowed(None) is False
    store.set_personalization("C9", False)
    assert store.personalization_allowed("C9") is False
