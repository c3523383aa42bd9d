"""Entity extraction against a tiny in-test catalog (no model, no demo shop needed)."""

from __future__ import annotations

import pytest

from assistant.nlu.entities import extract, extract_order_ids
from assistant.nlu.gazetteer import Gazetteer, singular
from knowledge.records import Product

CATALOG = [
    Product("p1", "Sony Crest S Wireless Noise-Cancelling Headphones", "Electronics > Audio > Headphones", "Sony",
            299.0, attributes={"connectivity": "wireless", "colour": "black", "noise_cancelling": "yes"}),
    Product("p2", "Bose Vertex 3 Bluetooth Headphones", "Electronics > Audio > Headphones", "Bose", 199.0,
            attributes={"connectivity": "bluetooth", "colour": "sage green", "noise_cancelling": "no"}),
    Product("p3", "Anker Drift Wired Headphones", "Electronics > Audio > Headphones", "Anker", 29.0,
            attributes={"connectivity": "wired", "colour": "navy blue", "noise_cancelling": "no"}),
    Product("p4", "Apple Nova Earbuds", "Electronics > Audio > Earbuds", "Apple", 179.0,
            attributes={"connectivity": "bluetooth", "colour": "white"}),
    Product("p5", "Brooks Ghost X200 Running Shoes", "Sports > Running > Shoes", "Brooks", 139.0,
            attributes={"size": "US 10", "colour": "blue"}),
    Product("p6", "Lumo Halo Desk Lamp", "Office > Desk > Lamps", "Lumo", 39.0, attributes={"colour": "white"}),
]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.from_products(CATALOG)


def test_categories_brands_attributes_with_plurals_and_synonyms(gaz: Gazetteer) -> None:
    e = extract("Show me wireless earphones from Sony", gaz)
    assert e.categories == ["Headphones"]  # synonym
    assert e.brands == ["Sony"]
    assert e.attributes == {"connectivity": "wireless"}
    assert extract("any headsets?", gaz).categories == ["Headphones"]  # plural of a synonym
    assert extract("navy headphones", gaz).attributes == {"colour": "navy blue"}  # attribute synonym
    assert extract("noise cancelling ones", gaz).attributes == {"noise_cancelling": "yes"}


def test_fuzzy_match_and_most_specific_category(gaz: Gazetteer) -> None:
    assert extract("do you have headphnes", gaz).categories == ["Headphones"]
    assert extract("a desk lamp please", gaz).categories == ["Lamps"]  # not Desk + Lamps
    assert extract("running shoes", gaz).categories == ["Shoes"]


def test_real_words_are_not_fuzzy_matched_onto_catalog_terms() -> None:
    from assistant.nlu.gazetteer import dictionary_words

    leather = Gazetteer.from_products([Product("q1", "Fernwood Leather Wallet", "Clothing > Accessories > Wallets",
                                               "Fernwood", 49.0, attributes={"material": "leather"})])
    assert "weather" in dictionary_words()  # the packaged MiniLM vocabulary is the dictionary
    # "weather" is one letter from "leather" (difflib ratio 0.86 > the cutoff) but it is a real word.
    assert extract("what's the weather like tomorrow?", leather).attributes == {}
    assert extract("whether it rains or not", leather).attributes == {}
    assert extract("a lether wallet", leather).attributes == {"material": "leather"}  # a real typo still matches
    assert extract("do you have a walet", leather).categories == ["Wallets"]
    assert extract("do you have headphnes", Gazetteer.from_products(CATALOG)).categories == ["Headphones"]


def test_prices_and_currencies(gaz: Gazetteer) -> None:
    e = extract("headphones under $100", gaz)
    assert (e.price_min, e.price_max, e.currency) == (None, 100.0, "USD")
    e = extract("between 50 and 150 euros", gaz)
    assert (e.price_min, e.price_max, e.currency) == (50.0, 150.0, "EUR")
    e = extract("over £1,200", gaz)
    assert (e.price_min, e.price_max, e.currency) == (1200.0, None, "GBP")
    e = extract("around 80 bucks", gaz)
    assert (e.price_min, e.price_max) == (64.0, 96.0)
    assert extract("$50-$100 earbuds", gaz).price_max == 100.0
    assert extract("under 2k", gaz).price_max == 2000.0


def test_numbers_that_are_not_prices(gaz: Gazetteer) -> None:
    for text in ("size 10 shoes", "a 13 inch laptop", "under 2 kg", "battery over 20 hours", "order 123456789"):
        e = extract(text, gaz)
        assert e.price_min is None and e.price_max is None, text


def test_cheap_is_relative_to_the_category(gaz: Gazetteer) -> None:
    e = extract("cheap headphones", gaz)
    assert e.price_max is not None and 29.0 <= e.price_max < 199.0
    assert extract("premium headphones", gaz).price_min > 199.0


def test_order_ids_with_offsets() -> None:
    text = "cancel purchase 00123842 and ORD-104233, not invoice #85632 or 555-1234"
    ids = extract_order_ids(text)
    assert [i for i, _, _ in ids] == ["00123842", "ORD-104233"]
    for value, s, e in ids:
        assert text[s:e] in (value, "ORD-104233")
    assert extract_order_ids("I want to see invoice 3707955617") == []
    assert [i for i, _, _ in extract_order_ids("track ord 552019 please")] == ["ORD-552019"]


def test_emails_and_quantities(gaz: Gazetteer) -> None:
    e = extract("send it to jane.doe+shop@example.co.uk, I need 2 pairs", gaz)
    assert e.emails == ["jane.doe+shop@example.co.uk"]
    assert e.quantity == 2
    assert extract("I want to buy three of them", gaz).quantity == 3
    assert extract("headphones under $100", gaz).quantity is None


def test_references(gaz: Gazetteer) -> None:
    assert extract("tell me about the second one", gaz).references == [1]
    assert extract("the last one", gaz).references == [-1]
    assert extract("option 3 please", gaz).references == [2]
    assert extract("I'll take that one", gaz).references == ["last"]
    assert extract("is the cheaper one any good?", gaz).references == ["cheapest"]
    e = extract("is the Sony waterproof?", gaz)
    assert e.references == ["brand:Sony"] and e.brands == []  # a pointer, not a new brand filter
    assert extract("the Sony or the Bose?", gaz).references == ["brand:Sony", "brand:Bose"]


def test_negations(gaz: Gazetteer) -> None:
    e = extract("headphones, not Apple, no wired ones", gaz)
    assert e.negated_brands == ["Apple"] and e.brands == []
    assert e.negated_attributes == {"connectivity": "wired"}
    assert extract("anything but Sony", gaz).negated_brands == ["Sony"]
    assert extract("earbuds that aren't from Apple", gaz).negated_brands == ["Apple"]
    assert extract("I love Sony", gaz).negated_brands == []


def test_product_mentions(gaz: Gazetteer) -> None:
    assert extract("do you have the Sony Crest S?", gaz).product_mentions == ["p1"]
    assert extract("is the X200 good for trails", gaz).product_mentions == ["p5"]


def test_without_catalog_still_extracts_ids_and_prices() -> None:
    e = extract("where is ORD-104233, and anything under $20?", None)
    assert e.order_ids == ["ORD-104233"] and e.price_max == 20.0 and e.categories == []


def test_singular() -> None:
    assert [singular(w) for w in ("batteries", "boxes", "headphones", "glass", "mice")] == [
        "battery", "box", "headphone", "glass", "mice"]
