"""Turn checks against hand-made records, and the shipped suites' shape and validity."""

from __future__ import annotations

from collections import Counter

import pytest

from assistant.errors import ConfigError
from eval.checks import ConvContext, check_turn, entity_pairs, product_ok
from eval.facts import Facts
from eval.harness import TurnRecord
from eval.suite import INTENTS, TOOLS, load_suites, parse_suite
from knowledge.records import Policy, Product


@pytest.fixture
def facts() -> Facts:
    ps = [
        Product(
            "P1",
            "Sony Aura Wireless Headphones",
            "Electronics > Audio > Headphones",
            "Sony",
            99.0,
            attributes={"connectivity": "wireless"},
            rating=4.0,
        ),
        Product(
            "P2",
            "Bose Nova Wired Headphones",
            "Electronics > Audio > Headphones",
            "Bose",
            49.0,
            attributes={"connectivity": "wired"},
        ),
        Product("P3", "Anker Kite Speaker", "Electronics > Audio > Speakers", "Anker", 30.0),
    ]
    return Facts(
        {p.id: p for p in ps}, policies={"returns": Policy("returns", "Returns", "30 days", "returns")}
    )


def _card(pid: str, price: float) -> dict:
    return {"product_id": pid, "title": pid, "price": price}


def test_product_constraints(facts: Facts) -> None:
    p1, p2 = facts.products["P1"], facts.products["P2"]
    assert product_ok(p1, {"category": "Headphones", "price_max": 100})[0]
    assert product_ok(p1, {"category": "Audio", "brands": ["sony"]})[0]
    assert not product_ok(p2, {"exclude_brands": ["Bose"]})[0]
    assert product_ok(p1, {"attributes": {"connectivity": ["wireless", "bluetooth"]}})[0]
    assert product_ok(p2, {"attributes": {"connectivity": "wireless"}}) == (False, "connectivity=wired")
    assert not product_ok(None, {})[0]


def test_entity_pairs_normalise() -> None:
    got = entity_pairs(
        {
            "categories": ["Electronics > Audio > Headphones"],
            "price_max": 100,
            "brands": ["Sony"],
            "order_ids": ["ord-123456"],
        }
    )
    assert got == {
        ("categories", "headphones"),
        ("price_max", "100.00"),
        ("brands", "sony"),
        ("order_ids", "ORD-123456"),
    }


def test_check_turn_pass_and_fail(facts: Facts) -> None:
    exp = {
        "intent": ["recommend", "search"],
        "entities": {"categories": ["Headphones"], "price_max": 100},
        "action": "recommend",
        "products": {"category": "Headphones", "price_max": 60},
        "handoff": False,
        "must_include": [["option", "choice"]],
    }
    rec = TurnRecord(
        "headphones under $100",
        intents=["recommend"],
        action="recommend",
        tools=["recommend"],
        entities={"categories": ["Headphones"], "price_max": 100.0},
        cards=[_card("P2", 49.0), _card("P1", 99.0)],
        text="Two options: Bose Nova Wired Headphones, $49.00.",
    )
    ctx = ConvContext()
    ctx.add(rec)
    sc = check_turn(exp, rec, facts, ctx)
    assert sc.failures() == ["constraints: violations: P1 (price 99.0)"]
    assert (sc.cards_checked, sc.cards_ok) == (2, 1)
    assert sc.handoff == (False, False) and sc.intent == (["recommend", "search"], "recommend")
    assert sc.ndcg5 == pytest.approx(1.0)  # the only relevant product (P2) is ranked first


def test_check_turn_reference_citation_and_grounding(facts: Facts) -> None:
    ctx = ConvContext()
    first = TurnRecord("headphones", cards=[_card("P1", 99.0), _card("P2", 49.0)], text="ok")
    ctx.add(first)
    rec = TurnRecord(
        "tell me about the second one",
        intents=["product_question"],
        action="product_qa",
        citations=[{"kind": "product", "id": "P2"}, {"kind": "policy", "id": "returns"}],
        text="The Bose Nova Wired Headphones cost $45.00. The Anker Kite Speaker is nice.",
    )
    ctx.add(rec)
    sc = check_turn({"about": {"shown": 2}, "cite": {"kind": "policy", "id": "returns"}}, rec, facts, ctx)
    names = [f.split(":")[0] for f in sc.failures()]
    assert names == ["grounding"]  # about and citation pass; a wrong price and an unreturned product fail
    assert len(sc.claims.wrong_prices) == 1 and sc.claims.unknown_products == ["Anker Kite Speaker"]
    sc2 = check_turn({"about": {"shown": 1}, "handoff": True}, rec, facts, ctx)
    assert {f.split(":")[0] for f in sc2.failures()} == {"about", "handoff", "grounding"}


def test_engine_error_fails_the_turn(facts: Facts) -> None:
    rec = TurnRecord("hi", error="RuntimeError: boom")
    assert not check_turn({}, rec, facts, ConvContext()).passed


def test_suite_validation_names_the_problem() -> None:
    with pytest.raises(ConfigError, match="unknown intent 'shopping'"):
        parse_suite(
            {"conversations": [{"id": "x", "turns": [{"user": "hi", "expect": {"intent": "shopping"}}]}]}, "t"
        )
    with pytest.raises(ConfigError, match="unknown expectation"):
        parse_suite(
            {"conversations": [{"id": "x", "turns": [{"user": "hi", "expect": {"intnet": "greeting"}}]}]}, "t"
        )
    with pytest.raises(ConfigError, match="'conversations:'"):
        parse_suite({"suite": "x"}, "t")
    with pytest.raises(ConfigError, match="no suite 'nope'"):
        load_suites(["nope"])


def test_shipped_suites_cover_the_issue() -> None:
    convs = load_suites()
    turns = [t for c in convs for t in c.turns]
    assert len(convs) >= 60 and len(turns) >= 250
    intents: Counter[str] = Counter()
    tools: Counter[str] = Counter()
    for t in turns:
        for key in ("intent", "intents"):
            v = t.expect.get(key)
            intents.update(v if isinstance(v, list) else [v] if v else [])
        for key in ("action", "tools"):
            v = t.expect.get(key)
            tools.update(v if isinstance(v, list) else [v] if v else [])
    assert set(INTENTS) <= set(intents)
    assert set(TOOLS) <= set(tools)
    tags = Counter(tag for c in convs for tag in c.tags)
    for tag in (
        "correction",
        "reference",
        "two_requests",
        "handoff",
        "privacy",
        "injection",
        "poisoned_review",
        "out_of_scope",
        "personalized",
    ):
        assert tags[tag] > 0, tag
    smoke = load_suites(["smoke"])
    assert 5 <= len(smoke) <= 10


def test_suite_orders_and_products_exist_in_the_demo_shop() -> None:
    """Every order id, product id and customer the suites name is real demo-shop data."""
    import re

    from knowledge.demo import load_demo

    shop = load_demo()
    orders = {o["id"]: o for o in shop.orders}
    products = {p.id for p in shop.products}
    customers = {c["id"] for c in shop.customers}
    for c in load_suites() + load_suites(["smoke"]):
        assert c.customer_id is None or c.customer_id in customers
        for t in c.turns:
            for oid in re.findall(r"ORD-\d{6}", t.user):
                emails = re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", t.user)
                # privacy, verification and injection conversations try a wrong email on purpose
                adversarial = {"privacy", "verification", "prompt_injection", "injection"}
                wrong_on_purpose = adversarial & set(c.tags) or "someone.else" in (emails or [""])[0]
                if oid != "ORD-999999" and oid in orders and emails and not wrong_on_purpose:
                    assert orders[oid]["email"] == emails[0].rstrip("."), (c.id, oid)
            spec = t.expect.get("products") or {}
            for key in ("ids_any", "ids_none"):
                assert set(spec.get(key) or []) <= products
            about = t.expect.get("about") or {}
            ids = about.get("id") or []
            assert set(ids if isinstance(ids, list) else [ids]) <= products
            if spec and spec.get("min", 1) > 0:
                # a constraint with no match in the catalog would be a broken test, not a failure
                from eval.checks import product_ok

                assert any(product_ok(p, spec)[0] for p in shop.products), (c.id, t.user)
