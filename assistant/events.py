"""Typed events that ``Assistant.stream`` yields, in this order per turn:

Understood -> Products (zero or one) -> TextDelta* -> Done

The UI, REST/SSE API, widget, evaluation suite and load test consume only these.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProductCard:
    product_id: str
    title: str
    price: float | None
    currency: str
    rating: float | None
    reason: str  # one line: why this product for this shopper
    brand: str | None = None
    category: str = ""
    in_stock: bool | None = None


@dataclass(frozen=True)
class Citation:
    kind: str  # "product" | "review" | "policy" | "order"
    id: str
    snippet: str = ""


@dataclass(frozen=True)
class Understood:
    intents: list[str]
    confidence: float
    entities: dict[str, Any]
    sentiment: str  # "negative" | "neutral" | "positive"
    action: str  # the policy's chosen action, e.g. "recommend"
    type: str = "understood"


@dataclass(frozen=True)
class Products:
    cards: list[ProductCard]
    type: str = "products"


@dataclass(frozen=True)
class TextDelta:
    text: str
    type: str = "text"


@dataclass(frozen=True)
class Done:
    text: str  # the full final reply (after grounding checks / fallback)
    citations: list[Citation] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # tools called, e.g. ["recommend"]
    backend: str = ""  # which generator produced the text ("template" on fallback)
    grounded: bool = True
    session_id: str = ""
    message_id: int | None = None
    type: str = "done"


Event = Understood | Products | TextDelta | Done


def event_to_dict(ev: Event) -> dict[str, Any]:
    """The event as JSON; product cards also carry ``price_text``, the price as the shop prints it
    ("SAR 1,499", "$91.99", "₹1,499"), so no client has to format money."""
    d = asdict(ev)
    for card in d.get("cards") or ():
        card["price_text"] = price_text(card.get("price"), card.get("currency") or "USD")
    return d


def price_text(price: float | None, currency: str) -> str:
    from knowledge.money import format_money, locale_for

    return "price unknown" if price is None else format_money(price, currency, locale_for(currency))
