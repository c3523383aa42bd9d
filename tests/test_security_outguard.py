"""Security suite, untrusted text (issue 15): reviews, catalog text, template text and model text
pass one render guard before any renderer. Unit rules here; the real browser in
tests/test_security_browser.py."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import DemoShop
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ui_fakes import FakeAssistant, local_client, parse_sse

from assistant.outguard import RenderGuard
from assistant.settings import Settings
from assistant.store import Store
from ui.api import create_app

PIXEL = "![t](http://tracker.example/p.png)"
GUARD = RenderGuard(["shop.example.com"])


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"Great sound {PIXEL} really", "Great sound t really"),
        ("[click me](https://evil.example/x)", "click me"),
        ("[returns](https://shop.example.com/returns)", "[returns](https://shop.example.com/returns)"),
        ("[sub](https://www.shop.example.com/a)", "[sub](https://www.shop.example.com/a)"),
        ("[lookalike](https://shop.example.com.evil.example/a)", "lookalike"),
        ("[js](javascript:alert(1))", "js"),
        ("[![i](http://e.example/a.png)](http://e.example)", "i"),
        ("![a [b] c](//evil.example/a.png)", "a [b] c"),
        ("![x](</evil.example/a b.png>)", "x"),
        (
            "[ok](https://shop.example.com/a)https://evil.example/b",
            "[ok](https://shop.example.com/a)evil[.]example/b",
        ),
        ("![a][r]\n[r]: http://evil.example/p.png", "a\n"),
        ("see https://evil.example/a.png, ok", "see evil[.]example/a[.]png, ok"),
        ("visit www.evil.example today", "visit www[.]evil[.]example today"),
        ("<http://evil.example>", "<evil[.]example>"),
        ("mail bob@evil.example.com", "mail bob@evil[.]example[.]com"),
        (
            "Costs $4.50. Order ORD-104110 ships in 2.5 days.",
            "Costs $4.50. Order ORD-104110 ships in 2.5 days.",
        ),
    ],
)
def test_render_guard_rules(raw: str, shown: str) -> None:
    assert GUARD.clean(raw) == shown
    assert GUARD.clean(shown) == shown  # idempotent


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "![x](",
                "[y](",
                ")",
                "](",
                "http://evil.example/a.png",
                "https://shop.example.com/ok",
                "www.evil.example",
                " ",
                "\n",
                "text",
                "bob@evil.example",
                "[r]: ",
                "<",
                ">",
                "!",
            ]
        ),
        max_size=14,
    ).map("".join)
)
def test_render_guard_leaves_nothing_linkable(raw: str) -> None:
    out = GUARD.clean(raw)
    assert GUARD.clean(out) == out
    # Whatever is left outside links to the shop names no other host a renderer could link or fetch.
    rest = re.sub(r"https?://(?:[\w-]+\.)*shop\.example\.com(?:/[^\s()\[\]]*)?", " ", out)
    assert "evil.example" not in rest
    assert not re.search(r"!\[[^\]]*\]\(\s*<?\w+:[^)\s]*\)", out)  # no image a browser would fetch


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="![]()<> htpswx.:/@ev", max_size=60), st.integers(1, 7))
def test_streamed_text_is_guarded_like_the_whole(raw: str, step: int) -> None:
    sg = GUARD.stream()
    out = "".join(sg.feed(raw[i : i + step]) for i in range(0, len(raw), step)) + sg.flush()
    whole = GUARD.clean(raw)
    assert whole.startswith(out) or out == whole  # never more than the cleaned answer (Done carries it all)
    assert "evil" not in out or "evil" in whole


@pytest.fixture()
def poisoned(tmp_path: Path) -> dict[str, Any]:
    from knowledge.catalog import Catalog, load_demo_catalog

    demo = load_demo_catalog()
    p0 = replace(
        demo.products[0], title=f"Bad Title {PIXEL}", description="Buy at https://evil.example/deal now"
    )
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    fake = FakeAssistant(store)
    fake.reply_extra = f" Reviewers say {PIXEL} and [see](https://evil.example) www.evil.example"
    fake.catalog = Catalog([p0, *demo.products[1:]], demo.reviews, demo.policies)  # type: ignore[attr-defined]
    app = create_app(
        Settings(data_dir=tmp_path, shop_hosts=["shop.example.com"]), fake, store=store, with_ui=False
    )
    return {"c": local_client(app), "pid": p0.id, "app": app}


def _no_foreign(text: str) -> None:
    assert "evil.example" not in text and "tracker.example" not in text, text
    assert not re.search(r"!\[[^\]]*\]\(", text)


def test_model_and_template_text_is_guarded_on_every_api_path(poisoned: dict[str, Any]) -> None:
    c = poisoned["c"]
    body = c.post("/api/chat", json={"message": "headphones"}).json()
    _no_foreign(body["text"])
    r = c.post("/api/chat", json={"message": "headphones"}, headers={"Accept": "text/event-stream"})
    events = parse_sse(r.text)
    _no_foreign("".join(d["text"] for n, d in events if n == "text"))
    _no_foreign(events[-1][1]["text"])
    sid = body["done"]["session_id"]
    _no_foreign(str(c.get(f"/api/sessions/{sid}/messages").json()))  # stored raw, shown guarded


def test_catalog_text_is_guarded_in_product_and_search_results(poisoned: dict[str, Any]) -> None:
    c, pid = poisoned["c"], poisoned["pid"]
    p = c.get(f"/api/products/{pid}").json()
    _no_foreign(p["title"] + p["description"])
    assert p["title"].startswith("Bad Title")
    _no_foreign(str(c.get("/api/search", params={"q": "bad title"}).json()))


def test_gradio_chat_and_cards_show_guarded_text(poisoned: dict[str, Any]) -> None:
    from assistant.events import ProductCard, Products
    from ui.app import chat_turn

    backend = poisoned["app"].state.backend
    last = list(chat_turn(backend, f"look {PIXEL}", [], None, None, 0))[-1]
    _no_foreign(str(last[0]))  # the shopper's echo and the answer
    card = ProductCard("P1", f"T {PIXEL}", 1.0, "USD", None, "reason https://evil.example/x")
    from assistant.outguard import guard_events

    (shown,) = list(guard_events(iter([Products([card])]), backend.guard))
    _no_foreign(str(shown))


def test_template_text_quoting_a_poisoned_review_is_guarded(tmp_path: Path, demo_shop: DemoShop) -> None:
    """The real engine (template generator) quotes a review holding a Markdown image and a URL."""
    from knowledge.records import Review

    bot = demo_shop.assistant(tmp_path / "t.db")
    pid = "P0007"
    bad = Review(
        "R-POISON", pid, 5, f"Battery lasts two days {PIXEL} details at https://evil.example/more", "Great"
    )
    bot.shop.reviews[pid] = [bad]
    app = create_app(Settings(data_dir=tmp_path), bot, store=bot.store, with_ui=False)
    c = local_client(app)
    title = bot.shop.products[pid].title
    r = c.post(
        "/api/chat",
        json={"message": f"what do reviews say about the battery of the {title}?"},
        headers={"Accept": "text/event-stream"},
    )
    assert r.status_code == 200, r.text
    events = parse_sse(r.text)
    shown = "".join(d["text"] for n, d in events if n == "text") + events[-1][1]["text"]
    _no_foreign(shown)
