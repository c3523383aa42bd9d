"""DialogueState: what the shopper wants so far, what we showed them, and how the chat is going.

Rules (each has a multi-turn test in tests/test_state.py):
- Constraints merge across turns; a new value for a slot replaces the old one (price bounds,
  an attribute key), so corrections ("actually under $50") override.
- A new brand replaces the previous brands unless the message adds ("also", "too", "or").
- A new category is a topic switch: brands and attributes (which belong to the old category) are
  cleared; price and the shopper's brand exclusions ("not Apple") carry over.
- "start over" / "forget that" clears all product constraints.
- Support intents (orders, payment, ...) never touch product constraints.
- References ("the second one", "the Sony", "the cheaper one") resolve against the last shown list.
JSON-serialisable with ``to_dict`` / ``from_dict`` so the engine can persist it between turns.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.nlu.sentiment import HANDOFF_LEVEL, frustration

if TYPE_CHECKING:
    from assistant.nlu.core import Understanding

PRODUCT_INTENTS = {"recommend", "search", "compare", "product_question"}
SUPPORT_INTENTS = {"order_status", "cancel_order", "return_refund", "shipping", "payment", "privacy",
                   "complaint", "human_agent"}
_ADDITIVE = re.compile(r"\b(also|too|as well|or|plus)\b", re.I)
_RESET = re.compile(r"\b(start over|start again|forget (?:that|it|everything)|reset|clear (?:the )?filters|new search)\b", re.I)
_CORRECTION = re.compile(r"\b(actually|instead|rather|i meant|no,|make it|change (?:it|that) to)\b", re.I)
_WINDOW = 6  # turns the frustration signal looks back over


@dataclass
class Constraints:
    category: str | None = None
    brands: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    price_min: float | None = None
    price_max: float | None = None
    currency: str | None = None
    exclude_brands: list[str] = field(default_factory=list)
    exclude_attributes: dict[str, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return self == Constraints()


@dataclass
class DialogueState:
    constraints: Constraints = field(default_factory=Constraints)
    shown: list[str] = field(default_factory=list)  # product ids of the last list shown, in order
    shown_meta: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {"brand", "price"}
    focus: str | None = None  # the product the shopper last pointed at
    referenced: list[str] = field(default_factory=list)  # products this turn's references resolved to
    order_id: str | None = None
    email: str | None = None
    last_intents: list[str] = field(default_factory=list)
    sentiment_scores: list[float] = field(default_factory=list)
    complaints: list[bool] = field(default_factory=list)
    turns: int = 0

    # -- updates -------------------------------------------------------------------------------
    def update(self, u: Understanding) -> None:
        self.turns += 1
        self.last_intents = list(u.intents)
        self.sentiment_scores = (self.sentiment_scores + [float(u.sentiment_score)])[-_WINDOW:]
        self.complaints = (self.complaints + [u.intent == "complaint"])[-_WINDOW:]
        e = u.entities
        if e.order_ids:
            self.order_id = e.order_ids[-1]
        if e.emails:
            self.email = e.emails[-1]
        self.referenced = [pid for pid in (self.resolve(r) for r in e.references) if pid]
        self.referenced += [p for p in e.product_mentions if p not in self.referenced]
        if self.referenced:
            self.focus = self.referenced[0]
        if _RESET.search(u.text):
            self.constraints = Constraints()
        if set(u.intents) & PRODUCT_INTENTS or (u.intent not in SUPPORT_INTENTS and self._has_product_slots(u)):
            self._merge(u)

    @staticmethod
    def _has_product_slots(u: Understanding) -> bool:
        e = u.entities
        return bool(e.categories or e.brands or e.attributes or e.negated_brands or e.negated_attributes
                    or e.price_min is not None or e.price_max is not None)

    def _merge(self, u: Understanding) -> None:
        c, e = self.constraints, u.entities
        if e.categories and e.categories[-1] != c.category:
            # Topic switch: brand and attribute choices belonged to the old category.
            if c.category is not None:
                c.brands, c.attributes, c.exclude_attributes = [], {}, {}
            c.category = e.categories[-1]
        if e.brands:
            additive = bool(_ADDITIVE.search(u.text)) and not _CORRECTION.search(u.text)
            c.brands = list(dict.fromkeys((c.brands if additive else []) + e.brands))
            c.exclude_brands = [b for b in c.exclude_brands if b not in e.brands]
        for b in e.negated_brands:
            if b not in c.exclude_brands:
                c.exclude_brands.append(b)
        c.brands = [b for b in c.brands if b not in c.exclude_brands]
        for k, v in e.attributes.items():
            c.attributes[k] = v
            if c.exclude_attributes.get(k) == v:
                del c.exclude_attributes[k]
        for k, v in e.negated_attributes.items():
            c.exclude_attributes[k] = v
            if c.attributes.get(k) == v:
                del c.attributes[k]
        if e.price_min is not None or e.price_max is not None:
            new_min, new_max = e.price_min, e.price_max
            # Keep the other bound only while it is still consistent with the new one.
            if new_min is None and c.price_min is not None and (new_max is None or c.price_min < new_max):
                new_min = c.price_min if not _CORRECTION.search(u.text) else None
            if new_max is None and c.price_max is not None and (new_min is None or c.price_max > new_min):
                new_max = c.price_max if not _CORRECTION.search(u.text) else None
            c.price_min, c.price_max = new_min, new_max
            c.currency = e.currency or c.currency

    def set_shown(self, items: list[Any]) -> None:
        """Record the list just shown: product ids, ``Product`` objects or dicts with id/brand/price."""
        self.shown, self.shown_meta = [], {}
        for it in items:
            if isinstance(it, str):
                pid, meta = it, {}
            elif isinstance(it, dict):
                pid, meta = str(it["id"]), {"brand": it.get("brand"), "price": it.get("price")}
            else:
                pid = str(it.id)
                meta = {"brand": getattr(it, "brand", None), "price": getattr(it, "price", None)}
            self.shown.append(pid)
            self.shown_meta[pid] = meta
        self.focus = self.shown[0] if len(self.shown) == 1 else None

    # -- queries -------------------------------------------------------------------------------
    def resolve(self, reference: int | str) -> str | None:
        """A product id for a reference from ``Entities.references`` (or a product id), else None."""
        shown = self.shown
        if isinstance(reference, int):
            return shown[reference] if -len(shown) <= reference < len(shown) else None
        ref = str(reference)
        if ref in self.shown_meta:
            return ref
        if ref == "last":
            return self.focus or (shown[0] if len(shown) == 1 else None)
        if ref.startswith("brand:"):
            brand = ref.split(":", 1)[1].lower()
            return next((p for p in shown if str(self.shown_meta[p].get("brand") or "").lower() == brand), None)
        priced = [p for p in shown if self.shown_meta[p].get("price") is not None]
        if ref == "cheapest" and priced:
            return min(priced, key=lambda p: self.shown_meta[p]["price"])
        if ref == "priciest" and priced:
            return max(priced, key=lambda p: self.shown_meta[p]["price"])
        if ref == "other" and self.focus in shown and len(shown) == 2:
            return shown[1 - shown.index(self.focus)]
        return None

    @property
    def frustration(self) -> float:
        return frustration(self.sentiment_scores, self.complaints)

    @property
    def wants_human(self) -> bool:
        """Explicit request for a person, or a run of negative / complaining turns."""
        return "human_agent" in self.last_intents or self.frustration >= HANDOFF_LEVEL

    # -- persistence ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DialogueState:
        d = dict(d)
        d["constraints"] = Constraints(**d.get("constraints", {}))
        return cls(**d)
