"""The shop index behind the tools: the shop's clock, answers quoted from the product record and from
the right policy section, typed constraints over the catalog, and rankings by a recorded attribute."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from assistant.shopindex import ShopIndex, shop_clock
from assistant.store import Store
from assistant.textmatch import focus
from assistant.tools import ToolContext, call_tool
from knowledge.constraints import Bound, Constraints
from knowledge.demo import DEMO_DIR, load_demo


@pytest.fixture(scope="module")
def shop() -> ShopIndex:
    return ShopIndex.from_catalog(load_demo())


# --- the shop's clock ---------------------------------------------------------------------------
def test_the_demo_shop_lives_at_its_manifest_date_not_the_wall_clock(shop: ShopIndex) -> None:
    manifest = json.loads((DEMO_DIR / "manifest.json").read_text())
    assert shop.clock() == datetime.fromisoformat(manifest["now"].replace("Z", "+00:00")).replace(tzinfo=None)
    configured = datetime(2027, 1, 2, 3, 4)
    assert ShopIndex.from_catalog(load_demo(), now=configured).clock() == configured
    # A catalog that is not the demo shop's runs on the real clock.
    assert shop_clock(None, {"X-1", "X-2"}) is None
    real = ShopIndex(load_demo().products[:1], [], [])
    assert abs((real.clock() - datetime.utcnow()).total_seconds()) < 60  # noqa: DTZ003 - naive UTC like the store


def test_a_return_is_judged_by_the_shop_clock(tmp_path: Path, shop: ShopIndex) -> None:
    store = Store(f"sqlite:///{tmp_path / 'clock.db'}")
    store.load_demo(load_demo())
    # ORD-112063 was delivered on the demo shop's last day: inside the window whatever today is.
    order = store.get_order("ORD-112063")
    assert order is not None
    ctx = ToolContext(shop, store, session_id="clk")
    res = call_tool("return_or_refund", ctx, order_id=order["id"], email=order["email"])
    assert res.allowed and res.ticket_id, res.reason
    late = ToolContext(shop, store, session_id="clk", now=lambda: shop.clock() + timedelta(days=60))
    res = call_tool("return_or_refund", late, order_id=order["id"], email=order["email"])
    assert not res.allowed and res.ticket_id is None and "window" in res.reason


# --- answers quoted from the record -------------------------------------------------------------
@pytest.mark.parametrize(
    ("pid", "question", "quote"),
    [
        ("P0005", "And are they on-ear or over-ear?", "form factor: on-ear"),
        (
            "P0005",
            "How long does the battery last on the JBL Pulse 300 Wireless Headphones?",
            "battery life hours: 60",
        ),
        ("P0241", "and what does it weigh", "weight kg: 1.8"),
        ("P0241", "how heavy is it?", "weight kg: 1.8"),
        ("P0241", "what color is it?", "colour: orange"),
        ("P0061", "which switches does it use?", "switch type: brown tactile"),
    ],
)
def test_a_product_question_quotes_the_attribute_it_asks_about(
    shop: ShopIndex, pid: str, question: str, quote: str
) -> None:
    spec = shop.spec_snippet(shop.products[pid], question)
    assert spec is not None and spec.kind == "spec" and quote in spec.text and spec.product_id == pid


def test_a_question_the_record_cannot_answer_quotes_nothing(shop: ShopIndex) -> None:
    p = shop.products["P0005"]
    assert shop.spec_snippet(p, "Is it comfortable?") is None
    battery = shop.spec_snippet(p, "How long does the battery last?")
    assert battery is not None and "connectivity" not in battery.text  # only what was asked


def test_the_parsed_aspect_decides_when_the_record_has_it(shop: ShopIndex) -> None:
    tent = shop.products["P0241"]
    assert shop.spec_snippet(tent, "will it keep me dry?") is None  # no attribute word in the question ...
    spec = shop.spec_snippet(tent, "will it keep me dry?", aspect="waterproof_rating_mm")
    assert spec is not None and spec.text == "waterproof rating mm: 3000"  # ... the aspect names it
    # An aspect the record lacks (the tent has weight_kg, not weight_g) falls back to the question's words.
    spec = shop.spec_snippet(tent, "what does it weigh", aspect="weight_g")
    assert spec is not None and spec.text == "weight kg: 1.8"


def test_product_qa_puts_the_records_figure_before_reviews(shop: ShopIndex) -> None:
    ans = call_tool(
        "product_qa",
        ToolContext(shop),
        product_id="P0241",
        question="will it keep me dry?",
        aspect="waterproof_rating_mm",
    )
    assert ans.snippets[0].id == "P0241:specs" and "3000" in ans.snippets[0].text
    assert call_tool("product_qa", ToolContext(shop), product_id="NOPE", question="dry?").product is None


def test_a_policy_quote_follows_the_section_heading() -> None:
    pol = {p.id: p.text for p in load_demo().policies}
    assert "order number" in focus(pol["warranty"], "How do I make a warranty claim?", 400)
    assert "5-7" in focus(pol["refunds"], "When will I see the refund?", 400)


# --- constraints and rankings -------------------------------------------------------------------
def test_title_words_and_attributes_narrow_the_catalog(shop: ShopIndex) -> None:
    c = Constraints(
        categories=("Keyboards",), attributes={"title": ("mechanical",), "connectivity": ("wireless",)}
    )
    got = shop.filter(c)
    assert got and shop.count(c) == len(got) < len(shop.filter(Constraints(categories=("Keyboards",))))
    assert all("Mechanical" in p.title and p.attributes["connectivity"] == "wireless" for p in got)


def test_rank_orders_by_a_recorded_attribute_and_leaves_out_products_without_it(shop: ShopIndex) -> None:
    r = call_tool(
        "rank",
        ToolContext(shop),
        product_ids=["P0006", "P0241", "P0005", "P0001"],
        attribute="weight_g",
        direction="min",
        label="lightest",
    )
    assert r.ids == ["P0005", "P0006", "P0001"] and r.values["P0005"] == "198"  # the tent records weight_kg
    heavy = call_tool(
        "rank", ToolContext(shop), product_ids=["P0006", "P0005", "P0001"], attribute="weight_g"
    )
    assert heavy.ids == ["P0001", "P0006", "P0005"]
    cheap = call_tool(
        "rank", ToolContext(shop), product_ids=["P0006", "P0005"], attribute="price", direction="min"
    )
    assert cheap.ids == ["P0005", "P0006"]


def test_recommend_sorted_by_an_attribute(shop: ShopIndex) -> None:
    c = Constraints(categories=("Headphones",), price=Bound(None, 150.0))
    res = call_tool(
        "recommend", ToolContext(shop), constraints=c, query="light headphones", sort=("weight_g", "min"), k=5
    )
    weights = [float(shop.products[i].attributes["weight_g"]) for i in res.ids]
    assert len(weights) == 5 and weights == sorted(weights)
    assert weights[0] == min(float(p.attributes["weight_g"]) for p in shop.filter(c))


class _PolicyHits:
    """A retriever stand-in: fixed scores per policy id, best first."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def policies(self, query: str, k: int = 3) -> list:
        from knowledge.retrieve import Hit

        ranked = sorted(self.scores.items(), key=lambda kv: -kv[1])[:k]
        return [Hit(pid, "policy", s, "") for pid, s in ranked]


def test_a_policy_topic_weighs_the_readers_topic_against_the_policy_texts(shop: ShopIndex) -> None:
    hits = _PolicyHits({"payment": 0.35, "shipping": 0.17, "returns": 0.12})
    assert shop.policy_topic("is sales tax included?", hits, "shipping", 0.5) == "payment"  # unsure reader
    assert shop.policy_topic("is sales tax included?", hits, "shipping", 1.5) == "shipping"  # sure reader
    assert shop.policy_topic("is sales tax included?", hits, "other", 0.0) == "payment"  # no prior
    assert shop.policy_topic("is sales tax included?", None, "shipping", 0.5) == "shipping"  # no index
