"""The committed demo shop: counts, schema, referential integrity, determinism, collaborative signal."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime

import pytest

from knowledge.demo import DEMO_DIR, FILES, DemoShop, load_demo
from knowledge.demo._reviews import ASPECTS, INJECTIONS
from knowledge.demo.generate import DEFAULT_SEED, build, write

ORDER_STATUSES = {"processing", "shipped", "delivered", "cancelled", "returned"}
POLICY_TOPICS = {
    "shipping",
    "returns",
    "refunds",
    "warranty",
    "payment",
    "price_match",
    "privacy",
    "order_tracking",
}


@pytest.fixture(scope="module")
def shop() -> DemoShop:
    return load_demo()


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_counts(shop: DemoShop) -> None:
    assert len(shop.products) >= 240
    assert len({p.top_category for p in shop.products}) >= 8
    assert len(shop.reviews) >= 1200
    assert len(shop.policies) >= 8
    assert len(shop.customers) >= 500
    assert len(shop.orders) >= 300
    per_customer = Counter(e["customer_id"] for e in shop.interactions)
    assert 15 <= len(shop.interactions) / len(shop.customers) <= 40
    assert set(per_customer) == {c["id"] for c in shop.customers}  # everyone has a history


def test_unique_ids(shop: DemoShop) -> None:
    for ids in (
        [p.id for p in shop.products],
        [r.id for r in shop.reviews],
        [p.id for p in shop.policies],
        [c["id"] for c in shop.customers],
        [c["email"] for c in shop.customers],
        [o["id"] for o in shop.orders],
        [o["tracking_number"] for o in shop.orders if o["tracking_number"]],
    ):
        assert len(ids) == len(set(ids))


def test_products_schema(shop: DemoShop) -> None:
    fields = {
        "id",
        "title",
        "category",
        "brand",
        "price",
        "currency",
        "attributes",
        "description",
        "stock",
        "rating",
        "rating_count",
    }
    for p in shop.products:
        assert set(p.to_dict()) == fields
        assert len(p.category.split(" > ")) == 3 and all(part.strip() for part in p.category.split(">"))
        assert p.brand and p.title.startswith(p.brand)
        assert p.price is None or p.price > 0
        assert p.currency == "USD"
        assert len(p.description.split()) >= 40, p.id
        assert len(p.attributes) >= 3
        assert p.stock is not None and p.stock >= 0
    prices = [p.price for p in shop.products]
    assert 0.01 <= prices.count(None) / len(prices) <= 0.06  # about 3% unknown
    assert sum(1 for x in prices if x is not None and x < 50) >= 20
    assert sum(1 for x in prices if x is not None and 50 <= x < 100) >= 20
    assert sum(1 for x in prices if x is not None and x >= 300) >= 10
    assert 0 < sum(1 for p in shop.products if p.stock == 0) < len(shop.products) // 4


def test_descriptions_mention_their_attributes(shop: DemoShop) -> None:
    for p in shop.products:
        text = p.description.lower()
        for key, value in p.attributes.items():
            if key != "connectivity" and value not in {"yes", "no"}:  # those are phrased in words
                assert value.lower() in text, (p.id, key, value)
        if p.attributes.get("noise_cancelling") == "yes":
            assert "noise cancelling" in text


def test_wireless_headphones_under_100_exist(shop: DemoShop) -> None:
    matches = [
        p
        for p in shop.products
        if p.leaf_category == "Headphones"
        and p.price is not None
        and p.price < 100
        and p.attributes.get("connectivity") in {"wireless", "bluetooth"}
    ]
    assert len(matches) >= 3


def test_product_rating_is_mean_of_reviews(shop: DemoShop) -> None:
    by_product = defaultdict(list)
    for r in shop.reviews:
        by_product[r.product_id].append(r.rating)
    for p in shop.products:
        ratings = by_product.get(p.id, [])
        assert p.rating_count == len(ratings)
        assert p.rating == (round(sum(ratings) / len(ratings), 2) if ratings else None)


def test_reviews_ratings_and_sentiment(shop: DemoShop) -> None:
    stars = Counter(r.rating for r in shop.reviews)
    assert set(stars) == {1, 2, 3, 4, 5}
    assert (stars[4] + stars[5]) / len(shop.reviews) > 0.6  # realistic skew to 4-5
    assert stars[1] >= 10  # some strongly negative ones
    positive = {s for pos, _ in ASPECTS.values() for s in pos}
    negative = {s for _, neg in ASPECTS.values() for s in neg}
    for r in shop.reviews:
        assert r.title and len(r.text.split()) >= 5
        if r.rating == 5:
            assert not any(s in r.text for s in negative), r.id
        if r.rating <= 2:
            assert not any(s in r.text for s in positive), r.id
    aspect_sentences = positive | {s[0].lower() + s[1:] for s in negative} | negative
    with_aspect = sum(any(s in r.text for s in aspect_sentences) for r in shop.reviews)
    assert with_aspect == len(shop.reviews)  # every review talks about something concrete
    assert len({r.text for r in shop.reviews}) >= 0.9 * len(shop.reviews)  # varied wording


def test_poisoned_reviews_are_listed_and_only_those(shop: DemoShop) -> None:
    ids = shop.poisoned_review_ids
    assert len(ids) == len(INJECTIONS) == 5
    texts = {r.id: r.text for r in shop.reviews}
    assert all(any(inj in texts[i] for inj in INJECTIONS) for i in ids)
    pattern = re.compile(r"ignore (your|all)|system:|disregard|new instruction", re.I)
    assert {r.id for r in shop.reviews if pattern.search(r.text)} == set(ids)
    readme = (DEMO_DIR / "README.md").read_text(encoding="utf-8")
    assert all(i in readme for i in ids)


def test_reviews_come_from_buyers(shop: DemoShop) -> None:
    bought = {
        (e["customer_id"], e["product_id"]): e["ts"]
        for e in reversed(shop.interactions)
        if e["event"] == "purchase"
    }  # earliest purchase
    product_ids = {p.id for p in shop.products}
    for r in shop.reviews:
        assert r.product_id in product_ids
        assert (r.customer_id, r.product_id) in bought
        assert bought[(r.customer_id, r.product_id)] < r.ts


def test_policies(shop: DemoShop) -> None:
    topics = {p.topic for p in shop.policies}
    assert topics >= POLICY_TOPICS
    for p in shop.policies:
        assert p.text.startswith("# ") and p.text.count("\n## ") >= 2 and len(p.text.split()) >= 80
    text = {p.topic: p.text for p in shop.policies}
    assert "30 days" in text["returns"] and "$50" in text["shipping"] and "1-year" in text["warranty"]
    assert "14 days" in text["price_match"]
    # The figures agree across documents.
    assert "$50" in text["cancellations"] and "30-day" in text["cancellations"]
    assert "5-7 business days" in text["refunds"]


def test_customers(shop: DemoShop) -> None:
    for c in shop.customers:
        assert re.fullmatch(r"C\d{4}", c["id"])
        first, last = c["name"].lower().split(" ", 1)
        assert re.fullmatch(re.escape(f"{first}.{last}".replace("'", "")) + r"\d*@example\.com", c["email"])
        assert c["segment"] in {"new", "value", "mainstream", "premium"}
        _ts(c["created_at"])


def test_interactions(shop: DemoShop) -> None:
    customers = {c["id"]: _ts(c["created_at"]) for c in shop.customers}
    prices = {p.id: p.price for p in shop.products}
    stamps = [e["ts"] for e in shop.interactions]
    assert stamps == sorted(stamps)
    assert (_ts(stamps[-1]) - _ts(stamps[0])).days >= 500  # about 18 months
    purchased: set[tuple[str, str]] = set()
    for e in shop.interactions:
        assert e["customer_id"] in customers and e["product_id"] in prices
        assert e["event"] in {"view", "cart", "purchase", "rate"}
        assert _ts(e["ts"]) >= customers[e["customer_id"]]
        key = (e["customer_id"], e["product_id"])
        if e["event"] == "rate":
            assert e["rating"] in {1, 2, 3, 4, 5} and key in purchased
        else:
            assert e["rating"] is None
        if e["event"] == "purchase":
            assert prices[e["product_id"]] is not None  # unpriced listings cannot be bought
            purchased.add(key)


def test_orders(shop: DemoShop) -> None:
    emails = {c["id"]: c["email"] for c in shop.customers}
    purchases = {
        (e["customer_id"], e["product_id"], e["ts"]) for e in shop.interactions if e["event"] == "purchase"
    }
    last_event = {
        "processing": {"Order placed", "Label created"},
        "shipped": {"Picked up", "In transit", "Out for delivery"},
        "delivered": {"Delivered"},
        "cancelled": {"Cancelled"},
        "returned": {"Return received"},
    }
    for o in shop.orders:
        assert re.fullmatch(r"ORD-\d{6}", o["id"])
        assert o["email"] == emails[o["customer_id"]]
        assert o["status"] in ORDER_STATUSES and o["currency"] == "USD"
        assert o["items"] and o["total"] == round(sum(i["qty"] * i["price"] for i in o["items"]), 2)
        for item in o["items"]:
            assert (o["customer_id"], item["product_id"], o["created_at"]) in purchases
            assert item["price"] > 0 and item["qty"] >= 1
        stamps = [t["ts"] for t in o["tracking"]]
        assert stamps == sorted(stamps) and stamps[0] == o["created_at"]
        assert o["tracking"][-1]["status"] in last_event[o["status"]], o["id"]
        assert (o["carrier"] is None) == (o["status"] == "cancelled") == (o["tracking_number"] is None)
        assert all(t["location"] for t in o["tracking"])
    assert set(Counter(o["status"] for o in shop.orders)) == ORDER_STATUSES


def test_generator_is_deterministic(tmp_path) -> None:
    write(build(DEFAULT_SEED), tmp_path)
    for name in [*FILES, "manifest"]:
        suffix = ".json" if name == "manifest" else ".jsonl"
        assert (tmp_path / f"{name}{suffix}").read_bytes() == (DEMO_DIR / f"{name}{suffix}").read_bytes(), (
            name
        )
    total = sum((DEMO_DIR / f"{n}.jsonl").stat().st_size for n in FILES)
    assert total < 3 * 1024 * 1024


def test_collaborative_signal(shop: DemoShop) -> None:
    """A customer's early history predicts the category of their later purchases far above chance."""
    top = {p.id: p.top_category for p in shop.products}
    history = defaultdict(list)
    for e in shop.interactions:
        history[e["customer_id"]].append(e)
    overall = Counter(top[e["product_id"]] for e in shop.interactions if e["event"] == "purchase")
    total = sum(overall.values())
    hits = chance = n = 0.0
    for events in history.values():
        early, late = events[: len(events) // 2], events[len(events) // 2 :]
        if not early:
            continue
        favourite = Counter(top[e["product_id"]] for e in early).most_common(1)[0][0]
        for e in late:
            if e["event"] == "purchase":
                n += 1
                hits += top[e["product_id"]] == favourite
                chance += overall[favourite] / total
    assert n >= 300
    assert hits / n > 2.5 * (chance / n)


def test_load_demo_names_the_fix_when_files_are_missing(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="knowledge.demo.generate"):
        load_demo(tmp_path)
