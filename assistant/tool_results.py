"""Result types of the assistant's tools: plain frozen dataclasses carrying the ids of their records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.snippet import Snip


@dataclass(frozen=True)
class ProductHit:
    product_id: str
    title: str
    brand: str | None
    price: float | None
    currency: str
    rating: float | None
    rating_count: int
    in_stock: bool | None
    category: str
    reason: str = ""
    score: float = 0.0
    matches: tuple[str, ...] = ()
    evidence: str = ""  # recommender evidence in plain words, e.g. "similar to the X100 you bought"
    evidence_ids: tuple[str, ...] = ()  # products the evidence names


@dataclass(frozen=True)
class ProductList:
    products: list[ProductHit]
    constraints: list[str]
    personalized: bool = False

    @property
    def ids(self) -> list[str]:
        return [p.product_id for p in self.products]


@dataclass(frozen=True)
class Ranking:
    """Products ordered by one attribute, best match for the question first."""

    products: list[ProductHit]
    attribute: str
    direction: str  # "min" | "max"
    values: dict[str, str]  # product id -> the attribute as recorded ("230", "4.5 kg")
    label: str = ""  # the shopper's ranking words ("lightest"), when they named one

    @property
    def ids(self) -> list[str]:
        return [p.product_id for p in self.products]


@dataclass(frozen=True)
class ProductDetails:
    product: ProductHit | None
    description: str = ""
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [self.product.product_id] if self.product else []


@dataclass(frozen=True)
class Comparison:
    products: list[ProductHit]
    attributes: dict[str, dict[str, str]]  # attribute -> product_id -> value
    positive_share: dict[str, float | None]  # product_id -> share of 4-5 star reviews

    @property
    def ids(self) -> list[str]:
        return [p.product_id for p in self.products]


@dataclass(frozen=True)
class ProductAnswer:
    product: ProductHit | None
    snippets: list[Snip]

    @property
    def ids(self) -> list[str]:
        return ([self.product.product_id] if self.product else []) + [s.id for s in self.snippets]

    @property
    def review_ids(self) -> list[str]:
        return [s.id for s in self.snippets if s.kind == "review"]


@dataclass(frozen=True)
class OrderStatus:
    order_id: str | None
    found: bool
    needs: str | None = None  # "order_id" | "email" when the shopper must tell us more
    status: str = ""
    created_at: str = ""
    carrier: str = ""
    tracking_number: str = ""
    last_update: dict[str, str] | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    total: float | None = None
    currency: str = "USD"

    @property
    def ids(self) -> list[str]:
        return [self.order_id] if self.found and self.order_id else []


@dataclass(frozen=True)
class OrderRequest:
    kind: str  # "cancel" | "return"
    order: OrderStatus
    allowed: bool
    reason: str  # why (not) allowed, in plain words
    ticket_id: int | None
    policy: list[Snip]

    @property
    def ids(self) -> list[str]:
        return (
            self.order.ids
            + [s.id for s in self.policy]
            + ([f"ticket:{self.ticket_id}"] if self.ticket_id else [])
        )


@dataclass(frozen=True)
class PolicyAnswer:
    snippets: list[Snip]

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.snippets]


@dataclass(frozen=True)
class HandoffResult:
    ticket_id: int | None
    summary: str

    @property
    def ids(self) -> list[str]:
        return [f"ticket:{self.ticket_id}"] if self.ticket_id else []


@dataclass(frozen=True)
class PrivacyResult:
    request: str  # info | export | delete | opt_out | opt_in
    done: bool
    needs_login: bool = False
    export: dict[str, Any] | None = None
    policy: list[Snip] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.policy]
