"""Carrying out the policy's decisions: the tool call for each, the cards it shows, and the state
changes it brings. The engine calls these in order; nothing here reads the shopper's text."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from assistant.decision import Decision
from assistant.events import ProductCard
from assistant.nlu.commands import Ref
from assistant.shopindex import ShopIndex
from assistant.state import DialogueState, ShownItem
from assistant.tools import Comparison, ProductHit, ProductList, Ranking, ToolContext, call_tool
from knowledge.constraints import Constraints

SHOWING = frozenset(
    {"recommend", "search_products", "compare", "rank"}
)  # actions whose products become the list


@dataclass
class ShopWorld:
    """The policy's view of the shop: counts and values, plus the clock and who is asking."""

    shop: ShopIndex
    now: float
    client_id: str | None
    suggester: Callable[[str, int], list[str]] | None = None
    retriever: Any | None = None  # the policy texts' index; without it the reader's topic stands

    @property
    def currency(self) -> str:
        return self.shop.currency

    def count(self, c: Constraints) -> int:
        return self.shop.count(c)

    def value_of(self, product_id: str, attribute: str) -> float | None:
        return self.shop.value_of(product_id, attribute)

    def locate(self, ref: Ref, shown: list[str], categories: tuple[str, ...]) -> str | None:
        """A brand, value or named product not pinned down by the list: the match on screen, else the
        one product of the categories being discussed that fits (None when none or several do)."""

        def fits(pid: str) -> bool:
            p = self.shop.products.get(pid)
            if p is None:
                return False
            if ref.brand and (p.brand or "").lower() != ref.brand.lower():
                return False
            return not (ref.value and str(p.attributes.get(ref.value[0], "")).lower() != ref.value[1].lower())

        if ref.product:
            return ref.product
        if not (ref.brand or ref.value):
            return None
        on_screen = [pid for pid in shown if fits(pid)]
        if on_screen:
            return on_screen[0]
        pool = [p.id for p in self.shop.products.values() if not categories or p.leaf_category in categories]
        found = [pid for pid in pool if fits(pid)]
        return found[0] if len(found) == 1 else None

    def policy_topic(self, question: str, prior: str, weight: float) -> str:
        """The topic of the shop's policy that best answers the question, the reader's topic counting
        ``weight`` on top of the retrieval score (scaled so the best hit is 1)."""
        return self.shop.policy_topic(question, self.retriever, prior, weight)

    def suggest(self, word: str, k: int = 3) -> list[str]:
        """The shop's categories nearest to a product type it does not carry."""
        if self.suggester is not None:
            return self.suggester(word, k)
        return sorted({p.leaf_category for p in self.shop.products.values()})[:k]


def run(d: Decision, ctx: ToolContext) -> Any:
    """The tool call a decision asks for (None for answers without a tool)."""
    if not d.uses_tool:
        return None
    return call_tool(d.action, ctx, **d.args)


def cards(result: Any) -> list[ProductCard]:
    hits: list[ProductHit] = []
    if isinstance(result, ProductList | Comparison | Ranking):
        hits = list(result.products)
    return [
        ProductCard(
            h.product_id, h.title, h.price, h.currency, h.rating, h.reason, h.brand, h.category, h.in_stock
        )
        for h in hits
    ]


# The store policy each support answer rests on: "so what happens now?" after it continues that policy.
ACTION_TOPICS = {
    "order_status": "order_tracking",
    "cancel_order": "cancellations",
    "return_or_refund": "returns",
    "privacy": "privacy",
}


def support_topic(d: Decision) -> str | None:
    if d.action == "policy_qa":
        return str(d.args.get("topic") or "") or None
    return ACTION_TOPICS.get(d.action)


def apply(state: DialogueState, d: Decision, result: Any, shop: ShopIndex) -> None:
    """The state changes a decision carries, and the list its result put on screen."""
    if d.topic is not None:  # products turned down live in the topic's exclusions, and go with it
        state.topic = d.topic
    if d.order is not None:
        state.order = d.order
    state.pending = d.pending
    if d.clarify == "kind" or d.follow_up == "kind":
        state.asked_kind = True
    if d.action == "handoff":
        state.handed_off = True
    state.last_action = d.action
    state.last_topic = support_topic(d)
    shown = [c.product_id for c in cards(result)]
    if d.action in SHOWING and shown:
        state.remember_shown([_shown(shop, pid) for pid in shown])
        if d.action == "rank":
            state.focus = shown[0]
    elif d.action in ("product_details", "product_qa") and d.args.get("product_id"):
        state.focus = str(d.args["product_id"])


def _shown(shop: ShopIndex, pid: str) -> ShownItem:
    p = shop.products.get(pid)
    if p is None:
        return ShownItem(pid)
    return ShownItem(pid, p.brand, p.price, p.leaf_category)


def now() -> float:
    return time.time()


def with_owned(ctx: ToolContext, owned: list[str]) -> ToolContext:
    return replace(ctx, owned=tuple(owned))
