"""Security suite, erasure (issue 15). A real data dir (`aisle ingest --demo`, `aisle train recsys`),
the real engine behind the real API; a customer chats anonymously and signed in, discloses her
email, order, tracking number and address, exports her data; then she deletes herself and every
file of the data dir (database and WAL, indexes, catalog snapshot, recommender, exports) is
searched for each of her identifiers. The probes: "an anonymous chat where she typed her email
still holds her name, order id, tracking number and city; exported files stay on disk; her reviews
keep her id; her old token gets an HTTP 500"."""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DemoShop
from test_ui_fakes import local_client, sign_in

ADDRESS = "12 Elm Street, Springfield, IL 62704"


def _cli(data: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}
    env.update(
        {"AISLE_DATA_DIR": str(data), "AISLE_EMBEDDER": "hashing", "AISLE_CONFIG": str(data / "none.toml")}
    )
    subprocess.run(
        [sys.executable, "-m", "aisle", *args],
        env=env,
        cwd=data.parent,
        check=True,
        capture_output=True,
        timeout=600,
    )


def _engine(settings: Any, demo_shop: DemoShop) -> Any:
    """The real engine (template generator, packaged parser, lexical retrieval) over the data dir's
    database and its fitted recommender."""
    from assistant.fakes import demo_assistant
    from assistant.recsys import ShopRecommender

    return demo_assistant(
        f"sqlite:///{settings.data_dir / 'aisle.db'}",
        history=True,
        recommender=ShopRecommender.load(settings.data_dir / "recommender"),
        reader=demo_shop.reader(),
    )


def _pick(demo: Any) -> dict[str, Any]:
    """A customer with a unique name, reviews, a tracked order and a fitted history."""
    reviews = collections.Counter(r.customer_id for r in demo.reviews)
    names = collections.Counter(c["name"] for c in demo.customers)
    orders = collections.defaultdict(list)
    for o in demo.orders:
        orders[o["customer_id"]].append(o)
    return next(
        c
        for c in demo.customers[40:]
        if reviews[c["id"]]
        and names[c["name"]] == 1
        and any(o.get("tracking_number") and o.get("tracking") for o in orders[c["id"]])
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, demo_shop: DemoShop) -> Iterator[dict[str, Any]]:
    from assistant.settings import Settings
    from knowledge.demo import load_demo
    from ui.api import create_app

    data = tmp_path_factory.mktemp("erase") / "data"
    data.mkdir()
    _cli(data, "ingest", "--demo", "--no-progress")
    _cli(data, "train", "recsys")
    settings = Settings(
        data_dir=data,
        demo_mode=True,
        generator_backend="template",
        embedder="hashing",
        rate_limit_per_minute=10_000,
        rate_limit_api_per_minute=10_000,
    )
    engine = _engine(settings, demo_shop)
    app = create_app(settings, engine, store=engine.store, with_ui=False)
    demo = load_demo()
    her = _pick(demo)
    order = next(o for o in demo.orders if o["customer_id"] == her["id"] and o.get("tracking_number"))
    other = next(o for o in demo.orders if o["customer_id"] != her["id"] and o.get("tracking_number"))
    yield {
        "c": local_client(app),
        "app": app,
        "data": data,
        "her": her,
        "order": order,
        "other": other,
        "engine": engine,
        "demo": demo,
    }
    engine.store.close()


def _say(
    w: dict[str, Any], text: str, sid: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    body = {"message": text, **({"session_id": sid} if sid else {})}
    r = w["c"].post("/api/chat", json=body, headers=headers or {})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _files(data: Path) -> Iterator[tuple[Path, bytes]]:
    for f in data.rglob("*"):
        if f.is_file():
            yield f, f.read_bytes().lower()


def test_deleting_a_customer_leaves_no_trace_in_the_data_dir(world: dict[str, Any]) -> None:
    w, her, order = world, world["her"], world["order"]
    # Anonymous: she looks up her order with her email, gives her name and address, asks for a person.
    first = _say(w, f"where is my order {order['id']}? my email is {her['email']}")
    anon = first["done"]["session_id"]
    assert order["tracking_number"] in first["text"]  # the answer quotes her tracking number
    _say(w, f"I am {her['name']}, please ship the next one to {ADDRESS}", anon)
    _say(w, "I want to talk to a human", anon)
    # Someone else's conversation, which must survive her deletion untouched.
    other = _say(w, f"where is my order {w['other']['id']}? my email is {w['other']['email']}")["done"][
        "session_id"
    ]
    # Signed in: a conversation, a cart event, and a 'download my data' file left undownloaded.
    h = w["token"] = sign_in(w["c"], her["id"])
    mine = _say(w, "wireless headphones under $100", headers=h)
    pid = mine["products"][0]["product_id"] if mine["products"] else "P0001"
    assert (
        w["c"]
        .post(
            "/api/events",
            json={"kind": "cart", "session_id": mine["done"]["session_id"], "product_id": pid},
            headers=h,
        )
        .status_code
        == 200
    )
    backend = w["app"].state.backend
    name = backend.export_file(backend.identify(authorization=h["Authorization"]), her["id"])
    assert (w["data"] / "exports" / name).is_file()

    assert w["c"].delete(f"/api/customers/{her['id']}", headers=h).json() == {"deleted": her["id"]}

    needles = [her["id"], her["email"], her["name"], order["id"], order["tracking_number"], "12 elm street"]
    # Whole tokens only: a content hash such as "...dc0043315e" is not customer C0043.
    pats = {
        n: re.compile(rb"(?<![0-9a-z])" + re.escape(n.lower().encode()) + rb"(?![0-9a-z])") for n in needles
    }
    for f, raw in _files(w["data"]):
        for needle, rx in pats.items():
            assert not rx.search(raw), f"{needle!r} still in {f.relative_to(w['data'])}"
    store = w["engine"].store
    places = {e["location"] for e in order["tracking"] if "," in e["location"]}
    anon_text = " ".join(m["text"] + json.dumps(m["meta"]) for m in store.messages(anon))
    assert anon_text and not any(p in anon_text for p in places)  # the city it went to, in her conversation
    assert not list((w["data"] / "exports").glob("*.json"))
    assert w["other"]["tracking_number"] in " ".join(m["text"] for m in store.messages(other))


def test_her_reviews_stay_under_a_pseudonym(world: dict[str, Any]) -> None:
    from knowledge.snapshot import load_catalog

    theirs = [r for r in world["demo"].reviews if r.customer_id == world["her"]["id"]]
    kept = {r.id: r for r in load_catalog(world["data"]).reviews}
    assert theirs and all(r.id in kept and kept[r.id].text == r.text for r in theirs)
    assert all(kept[r.id].customer_id.startswith("former-customer-") for r in theirs)
    engine = world["engine"]
    live = [r for rs in engine.shop.reviews.values() for r in rs if r.id == theirs[0].id]
    assert live and live[0].customer_id != world["her"]["id"]


def test_the_fitted_recommender_forgot_her_on_disk(world: dict[str, Any]) -> None:
    from assistant.recsys import ShopRecommender

    cid = world["her"]["id"]
    assert world["engine"].recommender.customer_history(cid) == []
    assert ShopRecommender.load(world["data"] / "recommender").customer_history(cid) == []


def test_her_old_token_and_unknown_customers_get_403_or_404(world: dict[str, Any]) -> None:
    c, cid = world["c"], world["her"]["id"]
    backend = world["app"].state.backend
    old = world["token"]  # signed in before the deletion (the first test)
    assert c.post(f"/api/customers/{cid}/login").status_code == 404  # no such customer any more
    for method, path in (
        ("GET", f"/api/customers/{cid}/export"),
        ("DELETE", f"/api/customers/{cid}"),
        ("POST", "/api/chat"),
        ("GET", "/api/recommendations"),
    ):
        r = c.request(method, path, headers=old, json={"message": "hi"} if method == "POST" else None)
        assert r.status_code == 403 and "revoked" in r.text, (path, r.status_code, r.text)
    ghost = {"Authorization": f"Bearer {backend.authority.issue('C9999')}"}
    assert c.get("/api/customers/C9999/export", headers=ghost).status_code == 404
