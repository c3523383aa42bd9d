"""Entity-aware intent corrections (assistant/nlu/rules.py) against a tiny in-test catalog (no model)."""

from __future__ import annotations

import pytest

from assistant.nlu.entities import extract
from assistant.nlu.gazetteer import Gazetteer
from assistant.nlu.rules import shopping_override, single_product_question
from knowledge.records import Product

CATALOG = [
    Product("h1", "Sony Crest S Wireless Noise-Cancelling Headphones", "Electronics > Audio > Headphones", "Sony",
            299.0, attributes={"connectivity": "wireless", "noise_cancelling": "yes"}),
    Product("k1", "Vello Steel Kettle", "Home > Kitchen > Kettles", "Vello", 45.0, attributes={"material": "steel"}),
    Product("t1", "Trekker Dome Tent", "Sports > Camping > Tents", "Trekker", 189.0, attributes={"waterproof": "yes"}),
    Product("c1", "Anker Volt 65W Charger", "Electronics > Power > Chargers", "Anker", 39.0),
    Product("s1", "Anker Boom Speaker", "Electronics > Audio > Speakers", "Anker", 59.0),
]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.from_products(CATALOG)


@pytest.mark.parametrize("text,intent", [
    ("wireless noise-canceling headphones", "cancel_order"),  # "canceling" is part of the product phrase
    ("one steel kettle please", "product_question"),
    ("the Sony headphones", "greeting"),
    ("a dome tent for 4", "product_question"),
    ("sturdy tents", "product_question"),  # one modifier the catalog does not know, before a catalog term
])
def test_bare_catalog_phrase_is_shopping(gaz: Gazetteer, text: str, intent: str) -> None:
    assert shopping_override(text, intent, extract(text, gaz))


def test_support_intent_without_support_cue_is_shopping(gaz: Gazetteer) -> None:
    text = "I need noise cancelling headphones for my nephew who travels a lot"
    assert shopping_override(text, "cancel_order", extract(text, gaz))
    text = "do you carry kettles?"
    assert shopping_override(text, "payment", extract(text, gaz))
    text = "the kettle is too small, can I swap it?"  # names a product but asks nothing shopping
    assert not shopping_override(text, "return_refund", extract(text, gaz))


@pytest.mark.parametrize("text,intent", [
    ("please cancel the kettle I bought", "cancel_order"),  # a real support cue outside the catalog terms
    ("when do the headphones arrive?", "shipping"),
    ("my kettle is broken and I'm angry", "complaint"),  # complaints are never overridden
    ("is the tent waterproof?", "product_question"),  # a question about a product, not a bare phrase
    ("Sony or Anker headphones?", "compare"),
    ("hello", "cancel_order"),  # no catalog term at all
    ("not Sony headphones", "product_question"),  # negation: a refinement, left to the classifier
    ("steel kettle", "search"),  # already shopping
])
def test_real_support_and_questions_are_left_alone(gaz: Gazetteer, text: str, intent: str) -> None:
    assert not shopping_override(text, intent, extract(text, gaz))


def test_verb_forms_are_not_fuzzy_catalog_words(gaz: Gazetteer) -> None:
    assert extract("has the card been charged yet?", gaz).categories == []
    assert extract("did the charge go through?", gaz).categories == []
    assert extract("can I speak to someone?", gaz).categories == []
    assert extract("a chargr for my laptop", gaz).categories == ["Chargers"]  # a real typo still matches
    assert extract("a bluetooth speakr", gaz).categories == ["Speakers"]


@pytest.mark.parametrize("text,expected", [
    ("say a bit more about the third one", True),
    ("what's that one like?", True),
    ("is the third one better than the first?", False),  # two references
    ("which is cheaper, the first one?", False),  # comparative wording
    ("how does the last one stack up against the rest?", False),
    ("compare them", False),  # no single reference: the shown list
])
def test_compare_with_one_reference_is_a_product_question(gaz: Gazetteer, text: str, expected: bool) -> None:
    assert single_product_question(text, "compare", extract(text, gaz)) is expected
    assert not single_product_question(text, "search", extract(text, gaz))
