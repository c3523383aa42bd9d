"""What every tool is given: the shop, the store, the retriever and recommender, who is asking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assistant.shopindex import ShopIndex


@dataclass
class ToolContext:
    shop: ShopIndex
    store: Any | None = None  # assistant.store.Store
    retriever: Any | None = None  # knowledge.retrieve.Retriever
    recommender: Any | None = None  # recommender.shop.ShopRecommender
    session_id: str | None = None
    customer_id: str | None = None
    session_items: list[str] = field(
        default_factory=list
    )  # products clicked/carted this session, oldest first
    personalized: bool = False
    now: Callable[[], datetime] | None = None  # overrides the shop's clock (tests)
    owned: tuple[str, ...] = ()  # products the customer already bought: not recommended again
    currency: str = "USD"  # the shop's currency, for wording constraints
    # The experiment arm this shopper is served (assistant.experiments): re-ranking and reply style.
    diversity: float = 0.0
    rank_weights: tuple[float, float, float] = (0.4, 0.3, 0.3)  # recommender, request text, rating
    reply_style: str = "default"
    variant: str | None = None  # "experiment:arm", recorded on every impression

    def clock(self) -> datetime:
        """The shop's current time: the demo shop lives at its manifest's date, not the wall clock's."""
        return self.now() if self.now is not None else self.shop.clock()
