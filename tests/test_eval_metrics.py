"""Pure metric functions and the claim checker, on hand-made data with known answers."""

from __future__ import annotations

import math

import pytest

from eval import metrics as M
from eval.facts import Facts, check_claims, product_mentions
from knowledge.records import Policy, Product, Review


def test_ratio_and_accuracy() -> None:
    assert M.ratio(1, 4) == 0.25
    assert M.ratio(0, 0) is None  # nothing measured is not "all wrong"
    assert M.accuracy([(["a", "b"], "b"), ("c", "c"), ("d", "x"), (["e"], "f")]) == 0.5
    assert M.accuracy([]) is None


def test_set_prf_micro() -> None:
    r = M.set_prf([({"a", "b"}, {"a"}), ({"c"}, {"c", "d"}), (set(), set())])
    assert (r["tp"], r["fp"], r["fn"]) == (2, 1, 1)
    assert r["precision"] == pytest.approx(2 / 3) and r["recall"] == pytest.approx(2 / 3)
    assert r["f1"] == pytest.approx(2 / 3)


def test_ndcg_known_values() -> None:
    # hits at ranks 1 and 3 of 2 relevant: (1 + 1/log2(4)) / (1 + 1/log2(3))
    want = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert M.ndcg_at_k(["a", "b", "c"], {"a", "c"}, 3) == pytest.approx(want)
    assert M.ndcg_at_k(["a", "c"], {"a", "c"}, 5) == pytest.approx(1.0)
    assert M.ndcg_at_k(["x", "y"], {"a"}, 5) == 0.0
    assert M.ndcg_at_k(["x"], set(), 5) is None


def test_percentiles_and_latency() -> None:
    xs = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert M.percentile(xs, 50) == 3.0
    assert M.percentile(xs, 95) == pytest.approx(4.8)
    assert M.percentile([], 50) is None
    s = M.latency_summary(xs)
    assert s["n"] == 5 and s["mean"] == 3.0


def test_success_and_recall() -> None:
    tts = [1, 3, None, 5, 6]
    assert M.success_at_n(tts, 1) == 0.2
    assert M.success_at_n(tts, 5) == 0.6
    assert M.recall_at_k([1, 2, None, 4], 3) == 0.5


def test_precision_recall_handoff() -> None:
    r = M.precision_recall([(True, True), (True, False), (False, True), (False, False), (False, False)])
    assert r["precision"] == 0.5 and r["recall"] == 0.5 and (r["tp"], r["fp"], r["fn"]) == (1, 1, 1)


def test_regressions_flag_only_beyond_tolerance() -> None:
    base = {"task_success": 0.90, "wrong_prices": 0, "groundedness": 0.95, "simulator": {"success@5": 0.6}}
    cur = {"task_success": 0.89, "wrong_prices": 2, "groundedness": 0.80, "simulator": {"success@5": 0.7}}
    got = {r["metric"] for r in M.regressions(cur, base, tolerance=0.02)}
    assert got == {"wrong_prices", "groundedness"}
    assert M.regressions(base, base, 0.0) == []


# --- claims ---------------------------------------------------------------------------------
@pytest.fixture
def facts() -> Facts:
    ps = [
        Product(
            "P1",
            "Sony Aura 2 Wireless Headphones",
            "Electronics > Audio > Headphones",
            "Sony",
            129.99,
            rating=4.46,
        ),
        Product(
            "P2", "Sony Nova Wired Headphones", "Electronics > Audio > Headphones", "Sony", 59.0, rating=3.0
        ),
        Product("P3", "Basics Co. Kite Pro Yoga Mat", "Sports > Fitness > Yoga Mats", "Basics Co.", 20.0),
    ]
    pols = [Policy("shipping", "Shipping", "Free shipping over $50, otherwise $5.99.", "shipping")]
    revs = [Review("R1", "P1", 5, "Great")]
    return Facts(
        {p.id: p for p in ps},
        {
            "ORD-000001": {
                "id": "ORD-000001",
                "total": 44.5,
                "items": [{"product_id": "P3", "price": 22.25, "qty": 2}],
            }
        },
        {p.id: p for p in pols},
        {r.id: r for r in revs},
    )


def test_product_mentions(facts: Facts) -> None:
    assert product_mentions("Try the Sony Aura 2 Wireless Headphones.", facts) == [
        ("Sony Aura 2 Wireless Headphones", {"P1"})
    ]
    assert product_mentions("Sony Wireless Headphones are popular.", facts) == []  # a kind, not a product
    ((surface, cands),) = product_mentions("The Sony WH-1000XM5 is great.", facts)
    assert cands == set()  # invented model
    assert product_mentions("Basics Co. Kite Pro is cheap", facts)[0][1] == {"P3"}


def test_claims_supported_and_wrong(facts: Facts) -> None:
    ok = check_claims("The Sony Aura 2 Wireless Headphones cost $129.99 and are rated 4.5/5.", facts, {"P1"})
    assert (ok.claims, ok.supported, ok.wrong_prices, ok.wrong_ratings) == (1, 1, [], [])
    bad = check_claims(
        "The Sony Aura 2 Wireless Headphones cost $99.00. The Sony Nova is rated 4.9 stars.", facts, {"P1"}
    )
    assert len(bad.wrong_prices) == 1 and len(bad.unknown_products) == 1 and bad.supported == 0
    assert len(bad.wrong_ratings) == 1  # P2 is rated 3.0 and was not returned either
    rounded = check_claims("Sony Aura 2 for about $130.", facts, {"P1"})
    assert rounded.wrong_prices == []  # whole-dollar rounding of 129.99 is not a wrong price


def test_claims_other_sources(facts: Facts) -> None:
    # policy figures, the shopper's own numbers, order totals and cited review stars are all fine
    rep = check_claims(
        "Standard shipping costs $5.99. That fits your $80. Order ORD-000001 came to $44.50. "
        "One review gives it 5/5.",
        facts,
        set(),
        orders={"ORD-000001"},
        user_text="under $80",
        review_ids={"R1"},
    )
    assert rep.claims == 4 and rep.supported == 4
    made_up = check_claims("That one costs $17.", facts, {"P1"})
    assert len(made_up.wrong_prices) == 1
    leaked = check_claims("Order ORD-000001 is delivered.", facts, set())
    assert leaked.supported == 0  # an order the tools never returned


def test_claims_ignore_constraint_echoes_and_non_products(facts: Facts) -> None:
    rep = check_claims("Here are options ($80-$120), all under $150. Pay with Apple Pay.", facts, set())
    assert rep.wrong_prices == [] and rep.unknown_products == []
    ((surface, cands),) = product_mentions("The Sony QuietComfort is great.", facts)
    assert cands == set()  # CamelCase model name: an invented product
