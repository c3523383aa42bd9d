"""The long-term profile: personalization signals in plain words, nothing for customers who opted out,
and the preferences a product request states."""

from __future__ import annotations

from assistant.nlu.commands import FindProducts, OrderStatus, Refine
from assistant.profile import Profile, stated_preferences
from assistant.shopindex import ShopIndex
from knowledge.constraints import Constraints
from knowledge.demo import load_demo


def test_signals_name_relevant_purchases_and_liked_brands_only_with_consent() -> None:
    d = load_demo()
    shop = ShopIndex(d.products, d.reviews, d.policies)
    hp = next(p for p in d.products if p.leaf_category == "Headphones")
    assert hp.brand is not None
    prof = Profile("C1", True, purchases=[(hp.id, "2026-03-02T10:00:00Z")], brand_sentiment={hp.brand: 2.0})
    sig = prof.signals(shop, {"Electronics"})
    assert sig[0].startswith("bought the ") and sig[0].endswith("in March") and f"likes {hp.brand}" in sig
    assert prof.signals(shop, {"Toys"}) == []  # headphones and their brand say nothing about toys
    assert prof.history() == [(hp.id, 1.0)]
    off = Profile("C1", False, purchases=[(hp.id, "2026-03-02")], brand_sentiment={hp.brand: 2.0})
    assert off.signals(shop) == [] and off.history() == []


def test_a_request_states_avoided_and_liked_brands_and_aspects() -> None:
    ask = FindProducts(
        "black headphones, not Sony",
        Constraints(categories=("Headphones",), exclude_brands=("Sony",), attributes={"colour": ("black",)}),
    )
    assert stated_preferences([ask], "neutral") == {"avoid_brands": ["Sony"], "aspects": {"colour": "black"}}
    love = Refine("Bose please, love them", Constraints(brands=("Bose",)))
    assert stated_preferences([love], "positive") == {"liked_brands": ["Bose"]}
    assert stated_preferences([love], "neutral") == {}  # naming a brand is not liking it
    assert stated_preferences([OrderStatus("where is ORD-1", "ORD-1")], "negative") == {}
