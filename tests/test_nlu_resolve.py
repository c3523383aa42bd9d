"""Resolving the parser's words against the shop: product types, brands, values, quantities, rankings,
references. Pure functions of the demo catalog (no model)."""

from __future__ import annotations

import pytest

from assistant.nlu.commands import AskProduct, FindProducts, OrderStatus, OutOfScope, PolicyQuestion, Ref
from assistant.nlu.parser import Parse, Span
from assistant.nlu.read import Context, to_commands
from assistant.nlu.resolve import Resolver, quantity
from assistant.nlu.vocab import ShopVocab
from knowledge.constraints import Bound
from knowledge.demo import load_demo


@pytest.fixture(scope="module")
def r() -> Resolver:
    return Resolver(ShopVocab(load_demo().products))


@pytest.mark.parametrize(
    ("words", "leaf"),
    [
        ("hairdryer", "Hair Dryers"),
        ("Headphones", "Headphones"),
        ("sleeping bag", "Sleeping Bags"),
        ("sneakers", "Shoes"),
        ("yoga mat", "Yoga Mats"),
        ("earbud", "Earbuds"),
        ("coffee machine", "Coffee Makers"),
        ("moisturiser", "Moisturizers"),
        ("headphnes", "Headphones"),
        ("kettle", None),
        ("laptop", None),
    ],
)
def test_product_types(r: Resolver, words: str, leaf: str | None) -> None:
    assert r.category(words) == leaf


@pytest.mark.parametrize(
    ("words", "brand"),
    [
        ("delonghi", "De'Longhi"),
        ("the sony", "Sony"),
        ("BOSE", "Bose"),
        ("sony-ish", "Sony"),
        ("huawei", None),
    ],
)
def test_brands(r: Resolver, words: str, brand: str | None) -> None:
    assert r.brand(words) == brand


def test_values_are_read_within_the_product_type(r: Resolver) -> None:
    assert r.values("plastic", ["Coffee Makers"]) == [("material", "plastic")]
    assert ("noise_cancelling", "yes") in r.values("noise cancelling", ["Headphones"])
    assert r.values("anc", ["Headphones"]) == [("noise_cancelling", "yes")]  # a synonym from the lexicon
    assert r.values("nylon", ["Backpacks"]) == [
        ("material", "nylon ripstop")
    ]  # not the jackets' "recycled nylon"
    assert r.values("mechanical", ["Keyboards"]) in ([("title", "mechanical")], [])
    assert r.values("espresso", ["Headphones"]) == []  # a coffee-maker value means nothing for headphones


def test_quantities_become_bounds_on_the_attribute_they_measure(r: Resolver) -> None:
    assert quantity("20,000 mAh") == (20000.0, "mah") and quantity("four people") == (4.0, "people")
    hit = r.bound("4 people", "NUM_MIN", ["Tents"])
    assert hit is not None and hit.key == "capacity_people" and hit.bound == Bound(4.0, None)
    hit = r.bound("300g", "NUM_MAX", ["Headphones"])
    assert hit is not None and hit.key == "weight_g" and hit.bound == Bound(None, 300.0)
    hit = r.bound("2 kg", "NUM_MAX", ["Tents"])
    assert hit is not None and hit.key == "weight_kg" and hit.bound.max == 2.0
    hit = r.bound("30 hours", "NUM_MIN", ["Headphones"], near="battery")
    assert hit is not None and hit.key == "battery_life_hours"
    hit = r.bound("2 TB", "NUM_EQ", ["External Drives"])
    assert hit is not None and hit.exact_value == "2 TB"


@pytest.mark.parametrize(
    ("words", "cat", "want"),
    [
        ("lightest", "Headphones", ("weight_g", "min")),
        ("cheapest", "Tents", ("price", "min")),
        ("warmest", "Sleeping Bags", ("temperature_rating_f", "min")),
        ("best rated", "Mice", ("rating", "max")),
        ("longest battery", "Earbuds", ("battery_life_hours", "max")),
        ("more buttons", "Mice", ("buttons", "max")),
        ("fewest pieces", "Building Sets", ("pieces", "min")),
        ("cheepest", "Tents", ("price", "min")),
        ("comfiest", "Chairs", None),
        # a dimension's noun with any polarity word: no phrase of its own needed
        ("lowest priced", "Lamps", ("price", "min")),
        ("highest weight", "Headphones", ("weight_g", "max")),
        ("lowest", "Lamps", None),  # a bare polarity word names no dimension the lamps have
    ],
)
def test_rankings(r: Resolver, words: str, cat: str, want: tuple[str, str] | None) -> None:
    assert r.ranking(words, [cat]) == want


def test_references(r: Resolver) -> None:
    assert (
        r.ref("the second one") == Ref(index=1)
        and r.ref("#3") == Ref(index=2)
        and r.ref("the last one") == Ref(index=-1)
    )
    assert r.ref("the Sony one") == Ref(brand="Sony") and r.ref("that one") == Ref(focus=True)
    assert r.ref("the other one") == Ref(other=True)
    assert r.ref("the cheaper one", ["Headphones"]) == Ref(extreme=("price", "min"))
    assert r.refs("the first two") == [Ref(index=0), Ref(index=1)]
    assert r.product("the marmot arc") == "P0245"


def _tagged(text: str, *tagged: tuple[str, str]) -> Parse:
    spans = tuple(Span(text.index(w), text.index(w) + len(w), tag, w) for w, tag in tagged)
    return Parse(text, {"FindProducts": 0.9}, spans)


@pytest.mark.parametrize(
    ("text", "tagged", "want"),
    [
        # two ceilings joined by a range word are a range; otherwise the later one corrects the first
        ("between 20 and 35 bucks", (("20", "PRICE_MAX"), ("35 bucks", "PRICE_MAX")), Bound(20.0, 35.0)),
        ("under 60, wait, make that 65", (("60", "PRICE_MAX"), ("65", "PRICE_MAX")), Bound(None, 65.0)),
        # two whole amounts under different tags are not one number ("fifty and seventy" is no 120)
        ("between fifty and seventy", (("fifty", "PRICE_MIN"), ("seventy", "PRICE_MAX")), Bound(50.0, 70.0)),
        # a currency word the tagger split off joins its amount
        ("up to 40 quid", (("40", "PRICE_MAX"), ("quid", "PRICE_MAX")), Bound(None, 40.0)),
    ],
)
def test_price_spans_combine_into_one_budget(
    r: Resolver, text: str, tagged: tuple[tuple[str, str], ...], want: Bound
) -> None:
    (find,) = to_commands(_tagged(text, *tagged), r, Context())
    assert isinstance(find, FindProducts) and find.constraints.price == want


def test_an_email_the_tagger_missed_is_found_by_its_shape(r: Resolver) -> None:
    text = "where is ORD-999999? my email is test.user@example.com."
    p = Parse(text, {"OrderStatus": 0.9}, (Span(9, 19, "ORDER_ID", "ORD-999999"),))
    (status,) = to_commands(p, r, Context())
    assert isinstance(status, OrderStatus) and (status.order_id, status.email) == (
        "ORD-999999",
        "test.user@example.com",
    )


@pytest.mark.parametrize(
    ("text", "attrs"),
    [("robot vacuums", {"type": ("robot",)}), ("espresso machine", {"type": ("espresso",)}), ("blender", {})],
)
def test_a_product_type_named_with_its_own_value_filters_by_it(
    r: Resolver, text: str, attrs: dict[str, tuple[str, ...]]
) -> None:
    (find,) = to_commands(_tagged(text, (text, "CAT")), r, Context())
    assert isinstance(find, FindProducts) and dict(find.constraints.attributes) == attrs


def test_an_unplaced_message_during_a_support_matter_continues_it(r: Resolver) -> None:
    unsure = Parse("so what happens now", {"OutOfScope": 0.2, "Complaint": 0.3}, ())
    (cmd,) = to_commands(unsure, r, Context(order=True))
    assert isinstance(cmd, PolicyQuestion) and cmd.topic == "other"  # the policy rule picks the topic
    assert not isinstance(to_commands(unsure, r, Context())[0], PolicyQuestion)  # nothing under discussion
    off_topic = Parse("book me a table", {"OutOfScope": 0.6}, ())
    assert isinstance(to_commands(off_topic, r, Context(order=True))[0], OutOfScope)
    product = Parse("any in red?", {"Refine": 0.3}, (Span(7, 10, "ATTR", "red"),))
    assert not isinstance(to_commands(product, r, Context(order=True, listed=True))[0], PolicyQuestion)


def test_a_brand_inside_a_product_type_phrase_filters_by_it(r: Resolver) -> None:
    (find,) = to_commands(_tagged("do you have LEGO sets?", ("LEGO sets", "CAT")), r, Context())
    assert isinstance(find, FindProducts)
    assert find.constraints.categories == ("Building Sets",) and find.constraints.brands == ("LEGO",)
    (plain,) = to_commands(_tagged("any building sets?", ("building sets", "CAT")), r, Context())
    assert isinstance(plain, FindProducts) and plain.constraints.brands == ()


def test_a_find_request_naming_one_product_asks_about_that_product(r: Resolver) -> None:
    text = "do you sell the Vitamix Aura Pro Blender?"
    (ask,) = to_commands(_tagged(text, ("Vitamix Aura Pro Blender", "PRODUCT")), r, Context())
    assert isinstance(ask, AskProduct) and ask.ref.product == "P0101" and ask.aspect is None


def test_a_question_naming_a_product_and_its_own_type_is_about_that_product(r: Resolver) -> None:
    text = "how long does a game of the Catan Breeze Pro take"
    (ask,) = to_commands(_tagged(text, ("game", "CAT"), ("Catan Breeze Pro", "PRODUCT")), r, Context())
    assert isinstance(ask, AskProduct) and ask.ref.product is not None
    other = "a tent like the Catan Breeze Pro"  # another type than the product's own: a search
    (find,) = to_commands(_tagged(other, ("tent", "CAT"), ("Catan Breeze Pro", "PRODUCT")), r, Context())
    assert isinstance(find, FindProducts)


def test_an_attribute_is_described_with_the_words_that_rank_along_it(r: Resolver) -> None:
    assert r.v.describe("size_ml").startswith("size ml: bigger")  # "how big is the tube?"
    assert "lightest" in r.v.describe("weight_g")
    assert r.v.describe("fragrance_free") == "fragrance free"  # no dimension: its own words
