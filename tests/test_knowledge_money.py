"""Money read as shoppers write it and written as a shop would print it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from knowledge.money import currency_of, format_money, locale_for, money_words, parse_money


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("$1,499", "1499", "USD"),
        ("250$", "250", "USD"),
        ("90 EUR", "90", "EUR"),
        ("EUR 90", "90", "EUR"),
        ("3 hundred dollars", "300", "USD"),
        ("Rs. 2,000", "2000", "INR"),
        ("₹1,499", "1499", "INR"),
        ("2000 rupees", "2000", "INR"),
        ("INR 1500", "1500", "INR"),
        ("£24.99", "24.99", "GBP"),
        ("40 quid", "40", "GBP"),
        ("fifty bucks", "50", "USD"),
        ("35,50 €", "35.50", "EUR"),
        ("€1.200", "1200", "EUR"),
        ("1.5k", "1500", None),
        ("3 grand", "3000", None),
        ("two hundred and fifty dollars", "250", "USD"),
        ("SR 2,375", "2375", "SAR"),
        ("1 499 SAR", "1499", "SAR"),
        ("1,50,000", "150000", None),
        ("$12.99", "12.99", "USD"),
        ("a hundred bucks", "100", "USD"),
    ],
)
def test_amounts_with_currency_before_or_after(text: str, amount: str, currency: str | None) -> None:
    m = parse_money(text)
    assert m is not None and m.amount == Decimal(amount) and m.currency == currency


def test_no_amount_and_default_currency() -> None:
    assert parse_money("no idea") is None
    m = parse_money("150", default_currency="SAR")
    assert m is not None and m.currency == "SAR"


def test_currency_words() -> None:
    assert currency_of("quid") == "GBP" and currency_of("Rs.") == "INR" and currency_of("riyals") == "SAR"
    assert currency_of("dollars") == "USD" and currency_of("banana") is None


def test_formatting_follows_the_shops_locale() -> None:
    assert format_money(91.99, "USD", digits=2) == "$91.99"
    assert format_money(1499, "INR", locale_for("INR"), digits=0) == "₹1,499"
    assert format_money(24.99, "EUR", "fr_FR", digits=2) == "24,99 €"
    assert format_money(1499, "SAR", locale_for("SAR"), digits=0).startswith("SAR 1,499")
    assert money_words(150, "USD") == "$150" and money_words(1500, "INR") == "₹1,500"
