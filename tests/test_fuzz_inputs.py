"""Hypothesis fuzzing: message reading (the real packaged parser), the guard and PII redaction, money and
catalog price parsing, catalog loaders and API payloads never crash and keep their stated properties on
arbitrary input."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import DemoShop
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assistant.errors import AisleError
from assistant.guard import check
from assistant.pii import find_pii, redact

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Shopping words mixed with hostile characters, so the fuzzer reaches the interesting branches.
WORDS = st.sampled_from(
    [
        "headphones",
        "under",
        "$",
        "100",
        "between",
        "and",
        "Sony",
        "not",
        "the",
        "second",
        "ORD-104233",
        "@",
        "example.com",
        "cheaper",
        "€",
        "50",
        "-",
        "1,299.99",
        "k",
        "bucks",
        "\u202e",
        "\x00",
        "🎧",
        "ｉｇｎｏｒｅ",
        "<script>",
        "'",
        '"',
        "{{",
        "}}",
        "\n",
        "  ",
    ]
)
MESSY = st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=25).map(" ".join))


@pytest.fixture(scope="module")
def reader(demo_shop: DemoShop) -> Any:
    """The real packaged reader (parser + catalog resolver); the parser is loaded once a session."""
    return demo_shop.reader()


@pytest.fixture(scope="module")
def shop_words() -> tuple[set[str], set[str]]:
    from knowledge.demo import load_demo

    products = load_demo().products
    return {p.leaf_category for p in products}, {p.brand for p in products if p.brand}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(MESSY, st.binary(max_size=120)), listed=st.booleans(), asked=st.booleans())
def test_reading_odd_text_never_raises_and_names_only_what_the_shop_has(
    reader: Any, shop_words: tuple[set[str], set[str]], text: str | bytes, listed: bool, asked: bool
) -> None:
    from assistant.nlu.commands import COMMAND_TYPES, Command
    from assistant.nlu.read import Context

    reading = reader.read(text, Context(("Headphones",) if listed else (), listed=listed, asked=asked))
    assert reading.commands and all(
        isinstance(c, Command) and c.type in COMMAND_TYPES for c in reading.commands
    )
    assert 0.0 <= reading.confidence <= 1.0
    categories, brands = shop_words
    for c in reading.commands:
        cons = getattr(c, "constraints", None) or getattr(c, "set", None)
        if cons is None:
            continue
        assert set(cons.categories) <= categories and set(cons.brands) | set(cons.exclude_brands) <= brands
        lo, hi = cons.price.min, cons.price.max
        for v in (lo, hi):
            assert v is None or (math.isfinite(v) and v >= 0)
        assert lo is None or hi is None or lo <= hi


@FAST
@given(
    amount=st.integers(min_value=1, max_value=99_999),
    cents=st.sampled_from(["", ".99", ".50"]),
    form=st.sampled_from(["${}", "{}$", "USD {}", "{} dollars", "{} bucks", "€{}", "{} EUR", "£{}", "₹{}"]),
)
def test_an_amount_is_read_whole_with_its_currency_before_or_after(
    amount: int, cents: str, form: str
) -> None:
    from decimal import Decimal

    from knowledge.money import parse_money

    m = parse_money(f"under {form.format(f'{amount:,}{cents}')}")
    want = {"€": "EUR", "EUR": "EUR", "£": "GBP", "₹": "INR"}
    assert m is not None and m.amount == Decimal(f"{amount}{cents}")
    assert m.currency == next((c for sym, c in want.items() if sym in form), "USD")


@FAST
@given(
    value=st.one_of(st.text(max_size=30), st.floats(allow_nan=True), st.integers(), st.none(), st.booleans())
)
def test_catalog_price_parser(value: Any) -> None:
    from knowledge.catalog import parse_price

    try:
        p = parse_price(value)
    except ValueError as exc:
        assert "price" in str(exc)
        return
    assert p is None or (math.isfinite(p) and p >= 0 and round(p, 2) == p)


@FAST
@given(
    x=st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
    sym=st.sampled_from(["$", "USD ", "", "€"]),
)
def test_catalog_price_round_trip(x: Any, sym: str) -> None:
    from knowledge.catalog import parse_price

    assert parse_price(f"{sym}{x:,.2f}") == pytest.approx(float(x))


@FAST
@given(text=MESSY)
def test_guard_and_redaction_never_crash(text: str) -> None:
    g = check(text, 200)
    assert len(g.text) <= 200 and not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e]", g.text)
    red, kinds = redact(text)
    assert "email" not in find_pii(red) and set(kinds) <= {"email", "card", "phone", "address"}


@FAST
@given(
    user=st.from_regex(r"[a-z][a-z0-9._]{0,15}", fullmatch=True),
    host=st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(com|org|co\.uk|io)", fullmatch=True),
    pre=MESSY,
    post=MESSY,
)
def test_any_email_is_redacted(user: str, host: str, pre: str, post: str) -> None:
    email = f"{user}@{host}"
    red, _ = redact(f"{pre} {email} {post}")
    assert email not in red


ROW = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=8), st.integers(), st.none()),
        "title": st.one_of(st.text(max_size=20), st.none()),
        "price": st.one_of(st.text(max_size=8), st.floats(allow_nan=True), st.none()),
        "category": st.one_of(st.text(max_size=20), st.none()),
    },
    optional={
        "rating": st.one_of(st.floats(allow_nan=True), st.text(max_size=4)),
        "stock": st.one_of(st.integers(), st.text(max_size=4)),
    },
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=6), fmt=st.sampled_from(["jsonl", "csv"]))
def test_catalog_loaders_reject_cleanly(tmp_path: Path, rows: list[dict[str, Any]], fmt: str) -> None:
    from knowledge.catalog import load_products

    f = tmp_path / f"cat.{fmt}"
    if fmt == "jsonl":
        f.write_text("\n".join(json.dumps(r, allow_nan=True) for r in rows), encoding="utf-8")
    else:
        import csv

        with f.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=["id", "title", "price", "category", "rating", "stock"])
            w.writeheader()
            for r in rows:
                w.writerow(r)
    try:
        products, report = load_products(f)
    except AisleError:
        return  # a clear, typed error naming the fix
    assert products and report.loaded == len(products)
    assert len({p.id for p in products}) == len(products)
    for p in products:
        assert p.id and p.title and (p.price is None or (math.isfinite(p.price) and p.price >= 0))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, demo_shop: DemoShop, reader: Any) -> Any:
    from fastapi.testclient import TestClient

    from assistant.settings import Settings
    from ui.api import create_app

    d = tmp_path_factory.mktemp("fuzz-api")
    bot = demo_shop.assistant(d / "f.db", reader=reader)
    settings = Settings(data_dir=d, rate_limit_per_minute=100_000)
    return TestClient(create_app(settings, bot, store=bot.store, with_ui=False))


JSONISH = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
    ),
    lambda kids: st.one_of(
        st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=10), kids, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        JSONISH,
        st.fixed_dictionaries(
            {"session_id": st.one_of(st.text(max_size=70), JSONISH), "message": st.one_of(MESSY, JSONISH)},
            optional={"customer_id": JSONISH},
        ),
    )
)
def test_chat_payloads_never_500(client: Any, body: Any) -> None:
    r = client.post("/api/chat", json=body)
    assert r.status_code in (200, 400, 403, 404, 422, 429), r.text[:300]
    if r.status_code == 200:  # a client-chosen id is refused: only an omitted one gets a fresh server id
        assert body.get("session_id") is None and len(r.json()["done"]["session_id"]) == 32


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        JSONISH,
        st.fixed_dictionaries(
            {"kind": st.one_of(st.sampled_from(["click", "cart", "thumbs", "view", "bogus"]), JSONISH)},
            optional={
                "session_id": st.one_of(st.text(max_size=70), JSONISH),
                "product_id": st.text(max_size=10),
                "value": st.one_of(st.floats(allow_nan=False, allow_infinity=False), JSONISH),
                "customer_id": st.text(max_size=10),
            },
        ),
    )
)
def test_event_payloads_never_500(client: Any, body: Any) -> None:
    r = client.post("/api/events", json=body)
    assert r.status_code in (200, 400, 403, 404, 422, 429), r.text[:300]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200))
def test_raw_bytes_never_500(client: Any, raw: bytes) -> None:
    assume(raw.strip())
    r = client.post("/api/chat", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code < 500
