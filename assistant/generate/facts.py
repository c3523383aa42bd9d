"""The facts an answer may use: built from tool results, rendered into the prompt, checked by grounding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.guard import injection_flags
from assistant.shopindex import ShopIndex, Snip
from assistant.tools import (
    Comparison,
    OrderRequest,
    OrderStatus,
    PolicyAnswer,
    PrivacyResult,
    ProductAnswer,
    ProductDetails,
    ProductHit,
    ProductList,
    Ranking,
)

# Actions whose answers must cite a store-policy passage.
SUPPORT_ACTIONS = frozenset({"policy_qa", "cancel_order", "return_or_refund"})


@dataclass
class Facts:
    action: str
    question: str
    products: list[ProductHit] = field(default_factory=list)
    snippets: list[Snip] = field(default_factory=list)
    order: OrderStatus | None = None
    result: Any = None  # the raw tool result, for the template answers
    signals: list[str] = field(default_factory=list)  # personalization in plain words
    constraints: list[str] = field(default_factory=list)
    clarify: str | None = None
    context_ids: set[str] = field(default_factory=set)  # products the shopper owns, named in signals
    options: list[str] = field(default_factory=list)  # real choices a clarifying question offers
    notes: list[tuple[str, str]] = field(
        default_factory=list
    )  # (kind, value) facts to state after the answer
    carried: list[str] = field(default_factory=list)  # constraints kept from earlier turns, in words
    follow_up: str | None = None  # the question asked after the answer (a template key)
    currency: str = "USD"

    @property
    def product_ids(self) -> set[str]:
        """Products the answer may name: the tool results and the ones in the personalization signals."""
        named = {i for p in self.products for i in p.evidence_ids}
        return {p.product_id for p in self.products} | self.context_ids | named

    @property
    def policy_ids(self) -> list[str]:
        return [s.id for s in self.snippets if s.kind == "policy"]

    @property
    def record_ids(self) -> set[str]:
        ids = self.product_ids | {s.id for s in self.snippets}
        if self.order is not None and self.order.found and self.order.order_id:
            ids.add(self.order.order_id)
        return ids

    @property
    def needs_policy_citation(self) -> bool:
        return self.action in SUPPORT_ACTIONS and bool(self.policy_ids)


def _safe(snips: list[Snip]) -> list[Snip]:
    # Retrieved text is data: a review that tries to instruct the model is left out of the prompt.
    return [s for s in snips if not injection_flags(s.text)]


def build_facts(
    action: str,
    question: str,
    result: Any,
    shop: ShopIndex,
    *,
    signals: list[str] | None = None,
    constraints: list[str] | None = None,
    clarify: str | None = None,
    context_ids: set[str] | None = None,
    decision: Any = None,
    currency: str = "USD",
) -> Facts:
    f = Facts(
        action,
        question,
        result=result,
        signals=list(signals or []),
        clarify=clarify,
        constraints=list(constraints or []),
        context_ids=set(context_ids or ()),
        currency=currency,
    )
    if decision is not None:
        _from_decision(f, decision, shop)
    if isinstance(result, ProductList | Ranking):
        f.products = list(result.products)
        f.constraints = f.constraints or list(getattr(result, "constraints", []))
    if isinstance(result, Ranking | Comparison):
        f.products = list(result.products)
    elif isinstance(result, ProductDetails | ProductAnswer):
        f.products = [result.product] if result.product else []
        if isinstance(result, ProductAnswer):
            f.snippets = _safe(result.snippets)
    elif isinstance(result, OrderStatus | OrderRequest):
        order = result if isinstance(result, OrderStatus) else result.order
        f.order = order
        if order.found:
            f.products = [
                shop.hit(shop.products[i["product_id"]])
                for i in order.items
                if i.get("product_id") in shop.products
            ]
        if isinstance(result, OrderRequest):
            f.snippets = _safe(result.policy)
    elif isinstance(result, PolicyAnswer | PrivacyResult):
        f.snippets = _safe(result.snippets if isinstance(result, PolicyAnswer) else result.policy)
    return f


def _from_decision(f: Facts, d: Any, shop: ShopIndex) -> None:
    """What the policy decided the reply must also say: the question it asks, real options, notes
    ("we don't carry ..."), and the constraints carried over from earlier turns (so they can be dropped)."""
    from assistant.tools import constraint_words

    f.clarify = f.clarify or d.clarify
    f.options = list(d.options)
    f.notes = list(d.notes)
    f.follow_up = d.follow_up
    if d.topic is not None and d.carried:
        f.carried = constraint_words(d.topic.drop([s for s in _SLOTS if s not in d.carried]), f.currency)
    if d.clarify == "kind" and not f.options:
        f.options = sorted({p.leaf_category for p in shop.products.values()})[:3]


_SLOTS = (
    "categories",
    "brands",
    "exclude_brands",
    "attributes",
    "exclude_attributes",
    "bounds",
    "price",
    "min_rating",
    "in_stock",
    "exclude_ids",
)
