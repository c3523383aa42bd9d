"""Privacy rights over the API and the real engine: export everything, opt-out at once, delete
everywhere (then search the database file, its WAL and the data dir for the id and the email)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import DemoShop
from test_ui_fakes import local_client, sign_in

from assistant.settings import Settings
from ui.api import create_app


@pytest.fixture(scope="module")
def recommender() -> Any:
    from assistant.recsys import ShopRecommender

    return ShopRecommender.fit(embedder="hashing")  # the real hybrid, fast embedder: ~5 s


@pytest.fixture()
def env(tmp_path: Path, demo_shop: DemoShop, recommender: Any) -> dict[str, Any]:
    bot = demo_shop.assistant(tmp_path / "aisle.db", history=True, recommender=recommender)
    settings = Settings(data_dir=tmp_path, rate_limit_per_minute=10_000, demo_mode=True)
    client = local_client(create_app(settings, bot, store=bot.store, with_ui=False))
    order = next(o for o in bot.store.orders_for_customer("C0187"))
    cust = bot.store.get_customer("C0187")
    return {
        "bot": bot,
        "client": client,
        "order": order,
        "cust": cust,
        "h": sign_in(client, "C0187"),
        "dir": tmp_path,
        "sids": {},
    }


def _chat(env: dict[str, Any], name: str, text: str, customer: bool = True) -> dict[str, Any]:
    """A turn in the conversation called ``name`` (its server-issued id is remembered)."""
    sid = env["sids"].get(name)
    body = {
        "message": text,
        **({"customer_id": "C0187"} if customer else {}),
        **({"session_id": sid} if sid else {}),
    }
    r = env["client"].post("/api/chat", json=body, headers=env["h"] if customer else {})
    assert r.status_code == 200, r.text
    env["sids"][name] = r.json()["done"]["session_id"]
    return r.json()


def test_export_returns_everything(env: dict[str, Any]) -> None:
    _chat(env, "p-1", "wireless headphones under $100")
    env["client"].post(
        "/api/events",
        json={
            "kind": "click",
            "session_id": env["sids"]["p-1"],
            "customer_id": "C0187",
            "product_id": "P0007",
        },
        headers=env["h"],
    )
    r = env["client"].get("/api/customers/C0187/export", headers=env["h"])
    assert r.status_code == 200
    data, store = r.json(), env["bot"].store
    assert data["customer"]["email"] == env["cust"]["email"]
    assert {o["id"] for o in data["orders"]} == {o["id"] for o in store.orders_for_customer("C0187")}
    assert len(data["events"]) == len(store.events(customer_id="C0187")) > 0
    assert [m["text"] for m in data["messages"]] == [m["text"] for m in store.messages(env["sids"]["p-1"])]
    assert {s["id"] for s in data["sessions"]} == {env["sids"]["p-1"]}
    assert env["client"].get("/api/customers/C0187/export").status_code == 403  # no token, no data


def test_opt_out_is_honoured_at_once(env: dict[str, Any]) -> None:
    from assistant.profile import build_profile

    bot = env["bot"]
    assert build_profile(bot.store, "C0187", bot.shop).personalized
    r = env["client"].post("/api/customers/C0187/opt-out", headers=env["h"])
    assert r.status_code == 200 and r.json()["personalization"] is False
    assert not build_profile(bot.store, "C0187", bot.shop).personalized
    mine = _chat(env, "p-2", "show me headphones")
    anon = _chat(env, "p-3", "show me headphones", customer=False)
    assert [c["product_id"] for c in mine["products"]] == [c["product_id"] for c in anon["products"]]
    rec = env["client"].get("/api/recommendations?customer_id=C0187&k=5", headers=env["h"]).json()["results"]
    anon_rec = env["client"].get("/api/recommendations?k=5").json()["results"]
    assert [p.get("product_id") or p.get("id") for p in rec] == [
        p.get("product_id") or p.get("id") for p in anon_rec
    ]


def test_delete_removes_the_customer_everywhere(env: dict[str, Any]) -> None:
    email, oid = env["cust"]["email"], env["order"]["id"]
    _chat(env, "p-4", "wireless headphones under $100")
    # An anonymous session where they looked up their order: the dialogue state keeps the email.
    _chat(env, "p-5", f"where is my order {oid}? my email is {email}", customer=False)
    env["bot"].store.open_ticket(
        "handoff", f"C0187 ({email}) wants a call back", session_id=env["sids"]["p-5"]
    )
    r = env["client"].delete("/api/customers/C0187", headers=env["h"])
    assert r.status_code == 200 and r.json() == {"deleted": "C0187"}
    rec = env["bot"].recommender
    assert rec.customer_history("C0187") == [] and "C0187" not in set(rec.hybrid.data.user_ids)
    store = env["bot"].store
    assert store.get_customer("C0187") is None and store.orders_for_customer("C0187") == []
    assert store.events(customer_id="C0187") == [] and store.messages(env["sids"]["p-4"]) == []
    # Search every byte Aisle keeps: the SQL dump, the raw database file and its WAL, the data dir.
    import sqlite3

    con = sqlite3.connect(env["dir"] / "aisle.db")
    dump = "\n".join(con.iterdump()).lower()
    con.close()
    assert "c0187" not in dump and email.lower() not in dump
    for f in env["dir"].rglob("*"):
        if f.is_file():
            raw = f.read_bytes().lower()
            assert b"c0187" not in raw and email.lower().encode() not in raw, f
    assert env["client"].get("/api/customers/C0187/export", headers=env["h"]).status_code == 403  # revoked
    # The anonymous conversation goes on without the deleted data.
    assert _chat(env, "p-5", "thanks", customer=False)["text"]
