"""The whole turn pipeline on the real path: the packaged parser and resolver read typed messages, then
state, policy, tools, the template writer and the store, on the demo shop.

The parser is retrained from time to time: these tests state what the shopper sees ("the cards are
headphones under $150"), never confidences or exact command lists. Engine behaviour that needs a
particular reading is tested with scripted commands in test_engine_turns.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import DemoShop

from assistant.engine import Assistant
from assistant.events import Done, Products, TextDelta, Understood
from knowledge.demo import load_demo


@pytest.fixture(scope="module")
def reader(demo_shop: DemoShop) -> Any:
    """The packaged parser and resolver (the parser is loaded once a session: MiniLM on the CPU)."""
    return demo_shop.reader()


@pytest.fixture
def bot(tmp_path: Path, demo_shop: DemoShop, reader: Any) -> Assistant:
    return demo_shop.assistant(tmp_path / "a.db", reader=reader)


def shown(bot: Assistant, session: str) -> list[str]:
    return [s["id"] for s in bot.store.load_state(session)["dialogue"]["shown"]]


def test_a_typed_request_gets_matching_cards_then_a_grounded_answer(bot: Assistant) -> None:
    evs = list(bot.stream("s1", "wireless headphones under $150"))
    und, prods, done = evs[0], evs[1], evs[-1]
    assert isinstance(und, Understood) and und.action == "recommend" and "recommend" in und.intents
    assert und.entities["categories"] == ["Headphones"] and und.entities["price_max"] == 150.0
    assert isinstance(prods, Products) and 1 <= len(prods.cards) <= 3
    for c in prods.cards:
        p = bot.shop.products[c.product_id]
        assert p.leaf_category == "Headphones" and p.price is not None and p.price <= 150
        assert p.attributes.get("connectivity") == "wireless"
    assert isinstance(done, Done) and done.grounded and done.actions == ["recommend"]
    assert "".join(e.text for e in evs if isinstance(e, TextDelta)) == done.text
    assert shown(bot, "s1") == [c.product_id for c in prods.cards]
    assert bot.store.messages("s1")[0]["meta"]["path"] in ("fast", "llm")


def test_follow_ups_about_the_list_on_screen(bot: Assistant) -> None:
    first = bot.respond("s2", "running shoes under $120")
    listed = shown(bot, "s2")
    assert first.actions == ["recommend"] and len(listed) >= 2
    assert all(bot.shop.products[i].leaf_category == "Shoes" for i in listed)
    cmp_ = list(bot.stream("s2", "compare the first and the second"))
    assert isinstance(cmp_[0], Understood) and cmp_[0].action == "compare"
    assert isinstance(cmp_[1], Products) and [c.product_id for c in cmp_[1].cards] == listed[:2]
    qa = bot.respond("s2", "what do the reviews say about the comfort of the first one?")
    assert qa.actions == ["product_qa"]
    review_ids = [c.id for c in qa.citations if c.kind == "review"]
    assert review_ids and set(review_ids) <= {r.id for r in bot.shop.reviews[listed[0]]}


def test_order_status_needs_the_email_on_the_order(bot: Assistant) -> None:
    order = load_demo().orders[0]
    ask = bot.respond("s5", f"where is my order {order['id']}?")
    assert "email" in ask.text and order["status"] not in ask.text
    other = bot.respond("s5", "my email is mallory@example.com")
    assert "couldn't find" in other.text and order["status"] not in other.text
    ok = bot.respond("s6", f"where is order {order['id']}? my email is {order['email']}")
    assert order["status"] in ok.text and any(c.kind == "order" for c in ok.citations)
    assert order["email"] not in " ".join(m["text"] for m in bot.store.messages("s6"))


def test_a_policy_question_is_answered_from_the_policy(bot: Assistant) -> None:
    done = bot.respond("s7", "what's your return policy?")
    assert done.actions == ["policy_qa"] and [c.id for c in done.citations if c.kind == "policy"] == [
        "returns"
    ]


def test_an_embedder_of_the_wrong_width_is_refused_naming_the_fix(tmp_path: Path) -> None:
    # The reader's sentiment reads the shared embedder's vectors; the assistant warms its reader at start-up,
    # so a server configured with the 256-d hashing embedder stops there, saying what to change.
    from assistant.components import embedder_from_settings
    from assistant.errors import ModelMissingError
    from assistant.nlu.sentiment import load_sentiment
    from assistant.settings import Settings

    sentiment = load_sentiment(embedder_from_settings(Settings(data_dir=tmp_path, embedder="hashing")).embed)
    with pytest.raises(ModelMissingError, match=r"384-d.*256-d.*MiniLM"):
        sentiment("hello")
