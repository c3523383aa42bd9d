"""Whole turns through the engine with scripted commands (no model): what the shopper sees and what the
session remembers, conversation by conversation."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DemoShop

from assistant.engine import Assistant
from assistant.events import Done, Products, Understood
from assistant.fakes import ScriptedReader, demo_assistant
from assistant.nlu.commands import (
    CheckStock,
    FindProducts,
    Handoff,
    OrderStatus,
    PolicyQuestion,
    ProvideDetails,
    Rank,
    Ref,
    Refine,
    Relative,
)
from knowledge.constraints import Bound, Constraints

HEADPHONES = Constraints(categories=("Headphones",), price=Bound(None, 150.0), currency="USD")
SCRIPT = {
    "headphones under 150": [FindProducts("headphones under 150", HEADPHONES)],
    "cheaper": [Refine("cheaper", relative=(Relative("price", "less"),))],
    "lightest?": [Rank("lightest?", "weight_g", "min", words="lightest")],
    "anything from marshall?": [Refine("anything from marshall?", Constraints(brands=("Marshall",)))],
    "is the second one in stock": [CheckStock("is the second one in stock", Ref(index=1))],
    "where is ORD-104110": [OrderStatus("where is ORD-104110", "ORD-104110")],
    "benjamin.wright@example.com": [
        ProvideDetails("benjamin.wright@example.com", email="benjamin.wright@example.com")
    ],
    "where is it now": [OrderStatus("where is it now")],
    "returns? and tents": [
        PolicyQuestion("returns?", topic="returns"),
        FindProducts("tents", Constraints(categories=("Tents",))),
    ],
    "human": [Handoff("human")],
}


@pytest.fixture
def bot(tmp_path: Path, demo_shop: DemoShop) -> Assistant:
    return demo_shop.assistant(tmp_path / "t.db", reader=ScriptedReader(SCRIPT))


def turn(bot: Assistant, text: str, session: str = "s", client: str = "c1") -> dict:
    out: dict = {"cards": []}
    for ev in bot.stream(session, text, client_id=client):
        if isinstance(ev, Understood):
            out["intents"], out["action"] = ev.intents, ev.action
        elif isinstance(ev, Products):
            out["cards"] = ev.cards
        elif isinstance(ev, Done):
            out["text"], out["actions"] = ev.text, ev.actions
    return out


def test_a_refinement_narrows_the_list_relative_to_what_was_shown(bot: Assistant) -> None:
    first = turn(bot, "headphones under 150")
    assert first["cards"] and all(c.price <= 150 for c in first["cards"])
    cheaper = turn(bot, "cheaper")
    assert cheaper["cards"] and all(c.price < first["cards"][0].price for c in cheaper["cards"])
    assert all(c.category.endswith("Headphones") for c in cheaper["cards"])


def test_a_superlative_ranks_the_list_on_screen(bot: Assistant) -> None:
    shown = turn(bot, "headphones under 150")["cards"]
    got = turn(bot, "lightest?")
    weights = {c.product_id: float(bot.shop.products[c.product_id].attributes["weight_g"]) for c in shown}
    assert got["action"] == "rank" and weights[got["cards"][0].product_id] == min(weights.values())
    assert "lightest" in got["text"]


def test_a_brand_the_list_lacks_finds_that_brand_and_says_what_it_dropped(bot: Assistant) -> None:
    turn(bot, "headphones under 150")
    got = turn(bot, "anything from marshall?")
    assert got["cards"] and {c.brand for c in got["cards"]} == {"Marshall"}
    assert "Nothing matched" in got["text"]


def test_stock_questions_read_the_record(bot: Assistant) -> None:
    shown = turn(bot, "headphones under 150")["cards"]
    got = turn(bot, "is the second one in stock")
    assert got["action"] == "product_details" and shown[1].title in got["text"] and "stock" in got["text"]


def test_order_details_are_asked_for_then_used_and_forgotten_by_other_clients(bot: Assistant) -> None:
    asked = turn(bot, "where is ORD-104110")
    assert "email" in asked["text"].lower()
    got = turn(bot, "benjamin.wright@example.com")
    assert "delivered" in got["text"] and "9400664498061376467799" in got["text"]
    again = turn(bot, "where is it now")
    assert "delivered" in again["text"]
    stranger = turn(bot, "where is it now", client="someone-else")
    assert "9400664498061376467799" not in stranger["text"] and "email" in stranger["text"].lower()


def test_two_requests_are_both_answered(bot: Assistant) -> None:
    got = turn(bot, "returns? and tents")
    assert got["actions"][:1] == ["policy_qa"] and "recommend" in got["actions"]
    assert got["cards"] and all(c.category.endswith("Tents") for c in got["cards"])
    assert "[returns]" in got["text"]


def test_handoff_opens_a_ticket_and_the_state_survives_a_restart(bot: Assistant, tmp_path: Path) -> None:
    turn(bot, "headphones under 150", session="k")
    assert "ticket" in turn(bot, "human", session="k")["text"]
    again = demo_assistant(f"sqlite:///{tmp_path}/t.db", reader=ScriptedReader(SCRIPT))
    assert turn(again, "cheaper", session="k")["cards"]  # the topic was read back from the store
