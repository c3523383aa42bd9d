"""DialogueState over multi-turn scripts. Understandings come from the real entity extractor and a
hand-given intent, so these tests need no model."""

from __future__ import annotations

import json

import pytest

from assistant.nlu.core import Understanding
from assistant.nlu.entities import extract
from assistant.nlu.gazetteer import Gazetteer
from assistant.state import DialogueState
from knowledge.records import Product

CATALOG = [
    Product("h1", "Sony Crest S Wireless Headphones", "Electronics > Audio > Headphones", "Sony", 299.0,
            attributes={"connectivity": "wireless", "colour": "black"}),
    Product("h2", "Bose Vertex 3 Wired Headphones", "Electronics > Audio > Headphones", "Bose", 149.0,
            attributes={"connectivity": "wired", "colour": "white"}),
    Product("h3", "Anker Drift Headphones", "Electronics > Audio > Headphones", "Anker", 39.0,
            attributes={"connectivity": "wireless", "colour": "black"}),
    Product("s1", "JBL Echo Speaker", "Electronics > Audio > Speakers", "JBL", 99.0, attributes={"colour": "red"}),
    Product("a1", "Apple Nova Earbuds", "Electronics > Audio > Earbuds", "Apple", 179.0),
]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.from_products(CATALOG)


def turn(state: DialogueState, gaz: Gazetteer, text: str, intent: str = "search", score: float = 0.0) -> None:
    label = "negative" if score < -0.25 else "positive" if score > 0.25 else "neutral"
    state.update(Understanding(text, [intent], 0.9, extract(text, gaz), label, score, False))


def test_constraints_merge_across_turns(gaz: Gazetteer) -> None:
    s = DialogueState()
    turn(s, gaz, "I'm looking for headphones")
    turn(s, gaz, "wireless please")
    turn(s, gaz, "under $200")
    turn(s, gaz, "from Sony")
    c = s.constraints
    assert (c.category, c.attributes, c.price_max, c.brands) == ("Headphones", {"connectivity": "wireless"}, 200.0, ["Sony"])


def test_corrections_override(gaz: Gazetteer) -> None:
    s = DialogueState()
    turn(s, gaz, "headphones between $100 and $300")
    turn(s, gaz, "actually under $50")
    assert (s.constraints.price_min, s.constraints.price_max) == (None, 50.0)
    turn(s, gaz, "Sony headphones")
    turn(s, gaz, "actually make it Bose")
    assert s.constraints.brands == ["Bose"]
    turn(s, gaz, "or Anker too")
    assert s.constraints.brands == ["Bose", "Anker"]
    turn(s, gaz, "black ones")
    turn(s, gaz, "white instead")
    assert s.constraints.attributes["colour"] == "white"


def test_topic_switch_resets_category_specific_slots(gaz: Gazetteer) -> None:
    s = DialogueState()
    turn(s, gaz, "wireless Sony headphones under $300, not Apple")
    turn(s, gaz, "what about speakers?")
    c = s.constraints
    assert c.category == "Speakers"
    assert c.brands == [] and c.attributes == {}
    assert c.price_max == 300.0 and c.exclude_brands == ["Apple"]  # budget and dislikes carry over
    turn(s, gaz, "start over")
    assert s.constraints.is_empty()


def test_negations_become_exclusions_and_can_be_lifted(gaz: Gazetteer) -> None:
    s = DialogueState()
    turn(s, gaz, "headphones, no wired ones and not Bose")
    assert s.constraints.exclude_brands == ["Bose"]
    assert s.constraints.exclude_attributes == {"connectivity": "wired"}
    turn(s, gaz, "ok show me Bose after all")
    assert s.constraints.brands == ["Bose"] and s.constraints.exclude_brands == []


def test_support_turns_leave_product_constraints_alone(gaz: Gazetteer) -> None:
    s = DialogueState()
    turn(s, gaz, "headphones under $100")
    turn(s, gaz, "where is my order ORD-104233? it was 25 dollars", intent="order_status")
    assert s.constraints.price_max == 100.0
    assert s.order_id == "ORD-104233"


def test_references_resolve_against_the_last_shown_list(gaz: Gazetteer) -> None:
    s = DialogueState()
    s.set_shown(CATALOG[:3])
    assert s.resolve(1) == "h2" and s.resolve(-1) == "h3" and s.resolve(7) is None
    assert s.resolve("brand:Bose") == "h2" and s.resolve("brand:JBL") is None
    assert s.resolve("cheapest") == "h3" and s.resolve("priciest") == "h1"
    assert s.resolve("last") is None  # "that one" is ambiguous with three shown and no focus
    turn(s, gaz, "tell me about the second one", intent="product_question")
    assert s.referenced == ["h2"] and s.focus == "h2"
    turn(s, gaz, "is that one wireless?", intent="product_question")
    assert s.referenced == ["h2"]
    turn(s, gaz, "and the Sony?", intent="product_question")
    assert s.referenced == ["h1"] and s.constraints.brands == []
    s.set_shown(["h1", "h3"])
    turn(s, gaz, "the first one", intent="product_question")
    assert s.resolve("other") == "h3"


def test_frustration_builds_over_negative_turns_and_triggers_handoff(gaz: Gazetteer) -> None:
    s = DialogueState()
    turn(s, gaz, "this is annoying", intent="complaint", score=-0.7)
    assert not s.wants_human  # one sharp message is not enough
    turn(s, gaz, "still broken, terrible", intent="complaint", score=-0.9)
    turn(s, gaz, "unbelievable", intent="complaint", score=-0.9)
    assert s.frustration >= 0.5 and s.wants_human
    calm = DialogueState()
    for _ in range(5):
        turn(calm, gaz, "thanks, looks good", intent="goodbye", score=0.8)
    assert calm.frustration == 0.0 and not calm.wants_human
    turn(calm, gaz, "let me talk to a person", intent="human_agent")
    assert calm.wants_human


def test_json_round_trip(gaz: Gazetteer) -> None:
    s = DialogueState()
    turn(s, gaz, "wireless headphones under $200, not Apple")
    s.set_shown(CATALOG[:2])
    turn(s, gaz, "the second one", intent="product_question", score=-0.3)
    restored = DialogueState.from_dict(json.loads(json.dumps(s.to_dict())))
    assert restored == s
    assert restored.resolve("cheapest") == "h2"
