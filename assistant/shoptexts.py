"""Texts the page shows that come from the shop itself: example requests built from its own
categories and price ranges, in its own currency ("bookcases under SAR 300", "headphones under
$150"), never the demo shop's.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from knowledge.money import money_words


@dataclass(frozen=True)
class ShopTexts:
    examples: tuple[str, ...]  # e.g. ("bookcases under SAR 300", "chairs under SAR 150")
    currency: str

    @property
    def placeholder(self) -> str:
        """The empty chat's hint."""
        quoted = " or ".join(f"“{e}”" for e in self.examples)
        return f"Ask for anything, e.g. {quoted}" if quoted else "Ask for anything"

    @property
    def greeting(self) -> str:
        """The widget's first message."""
        if not self.examples:
            return "Hi! What are you looking for today?"
        return f"Hi! Ask me for a product, e.g. {self.examples[0]}."


def shop_currency(products: Sequence[Any]) -> str:
    """The shop's currency: the most common one among its products."""
    counts = Counter(p.currency for p in products)
    return counts.most_common(1)[0][0] if counts else "USD"


def shop_texts(products: Sequence[Any], n: int = 2) -> ShopTexts:
    """``n`` example requests from the shop's biggest categories, each with a budget a little over
    that category's median price."""
    currency = shop_currency(products)
    prices: dict[str, list[float]] = {}
    for p in products:
        if p.price is not None and p.currency == currency and p.leaf_category:
            prices.setdefault(p.leaf_category, []).append(float(p.price))
    biggest = sorted(prices, key=lambda c: (-len(prices[c]), c))[:n]
    examples = tuple(
        f"{_shopper_word(c)} under {money_words(_round_up(median(prices[c])), currency)}" for c in biggest
    )
    return ShopTexts(examples, currency)


def _shopper_word(category: str) -> str:
    """How a shopper names a category: "Bookcases & shelving units" -> "bookcases"."""
    head = re.split(r"\s*(?:&|,| and |/)\s*", category.strip())[0]
    return head.lower() or category.lower()


def _round_up(x: float) -> float:
    """A round budget just above ``x``: 1, 2 or 5 times a power of ten (137 -> 200, 41 -> 50)."""
    if x <= 0:
        return 0.0
    power = 10 ** math.floor(math.log10(x))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= x))


def texts_for(data_dir: Any) -> ShopTexts:
    """The texts for the shop ingested under ``data_dir`` (the demo shop when nothing is)."""
    from knowledge.catalog import load_demo_catalog
    from knowledge.errors import DataError
    from knowledge.snapshot import load_catalog

    try:
        products = load_catalog(data_dir).products
    except DataError:  # nothing ingested yet: the engine serves the packaged demo shop
        products = load_demo_catalog().products
    return shop_texts(products)
