"""The demo shop recommender: `aisle train recsys`, serving, constraints, explanations."""

from __future__ import annotations

import time

import pytest

from assistant.recsys import ShopRecommender, event_weight
from assistant.recsys_cli import train_cli as cli
from knowledge.demo import load_demo


@pytest.fixture(scope="module")
def shop():
    return load_demo()


@pytest.fixture(scope="module")
def rec(tmp_path_factory, shop):
    out = tmp_path_factory.mktemp("rec")
    assert cli(["--out", str(out), "--embedder", "hashing"]) == 0
    assert (out / "hybrid" / "hybrid.json").is_file() and not list(out.rglob("*.pkl"))
    return ShopRecommender.load(out)


def test_event_weights_order():
    assert event_weight("purchase") > event_weight("cart") > event_weight("rate", 5) > event_weight("rate", 1)
    assert event_weight("rate", 1) > event_weight("view")


def test_known_customer_gets_new_products(rec, shop):
    cust = shop.interactions[0]["customer_id"]
    seen = {p for p, _ in rec.customer_history(cust)}
    recs = rec.recommend(cust, [], k=5)
    assert len(recs) == 5 and not seen & {p for p, _ in recs}
    assert [s for _, s in recs] == sorted((s for _, s in recs), reverse=True)


def test_new_shopper_with_session_history_stays_in_category(rec, shop):
    by_id = {p.id: p for p in shop.products}
    first = shop.products[0]
    same_cat = [p.id for p in shop.products if p.category == first.category][:3]
    recs = rec.recommend(None, same_cat, k=5)
    top_cats = [by_id[p].category.split(" > ")[0] for p, _ in recs]
    assert top_cats.count(first.category.split(" > ")[0]) >= 3
    assert not set(same_cat) & {p for p, _ in recs}


def test_anonymous_empty_history_gets_bestsellers(rec):
    assert len(rec.recommend(None, [], k=3)) == 3


def test_candidates_and_boosts(rec, shop):
    cheap = {p.id for p in shop.products if p.price is not None and p.price <= 30}
    recs = rec.recommend(None, [shop.products[0].id], k=5, candidates=cheap)
    assert {p for p, _ in recs} <= cheap
    target = shop.products[-1].id
    recs = rec.recommend(None, [shop.products[0].id], k=1, boosts={target: 100.0})
    assert recs[0][0] == target


def test_explain_includes_matching_terms(rec, shop):
    pid = next(p.id for p in shop.products if "bluetooth" in p.description.lower())
    reasons = rec.explain(None, [shop.products[1].id], pid, terms=["bluetooth"])
    assert reasons[0] == "matches 'bluetooth'" and len(reasons) >= 2


def test_fold_in_under_50ms(rec, shop):
    hist = [p.id for p in shop.products[10:15]]
    rec.recommend(None, hist, k=10)
    t0 = time.perf_counter()
    for _ in range(20):
        rec.recommend(None, hist, k=10)
    assert (time.perf_counter() - t0) / 20 < 0.05
