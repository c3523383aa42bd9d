"""The shop's records. Plain frozen dataclasses shared by every layer.

Prices may be unknown (``None``): they are shown as unknown, never invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.money import Money


@dataclass(frozen=True)
class Product:
    id: str
    title: str
    category: str  # a path, top level first: "Electronics > Audio > Headphones"
    brand: str | None = None
    price: float | None = None
    currency: str = "USD"
    attributes: dict[str, str] = field(
        default_factory=dict
    )  # e.g. {"colour": "black", "connectivity": "wireless"}
    description: str = ""
    stock: int | None = None  # None = unknown; 0 = out of stock
    rating: float | None = None  # mean review rating, filled from reviews when known
    rating_count: int = 0

    @property
    def top_category(self) -> str:
        return self.category.split(">")[0].strip()

    @property
    def leaf_category(self) -> str:
        return self.category.split(">")[-1].strip()

    @property
    def money(self) -> Money | None:
        """The price as a Decimal amount with its currency (``price`` is that amount as a float)."""
        from knowledge.money import Money

        return None if self.price is None else Money(Decimal(str(self.price)), self.currency)

    @property
    def in_stock(self) -> bool | None:
        return None if self.stock is None else self.stock > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "category": self.category,
            "brand": self.brand,
            "price": self.price,
            "currency": self.currency,
            "attributes": dict(self.attributes),
            "description": self.description,
            "stock": self.stock,
            "rating": self.rating,
            "rating_count": self.rating_count,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Product:
        return cls(
            id=str(d["id"]),
            title=str(d["title"]),
            category=str(d.get("category") or ""),
            brand=d.get("brand") or None,
            price=None if d.get("price") is None else float(d["price"]),
            currency=str(d.get("currency") or "USD"),
            attributes={str(k): str(v) for k, v in (d.get("attributes") or {}).items()},
            description=str(d.get("description") or ""),
            stock=None if d.get("stock") is None else int(d["stock"]),
            rating=None if d.get("rating") is None else float(d["rating"]),
            rating_count=int(d.get("rating_count") or 0),
        )


@dataclass(frozen=True)
class Review:
    id: str
    product_id: str
    rating: int  # 1..5
    text: str
    title: str = ""
    customer_id: str | None = None
    ts: str | None = None  # ISO-8601

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "product_id": self.product_id,
            "rating": self.rating,
            "title": self.title,
            "text": self.text,
            "customer_id": self.customer_id,
            "ts": self.ts,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Review:
        return cls(
            id=str(d["id"]),
            product_id=str(d["product_id"]),
            rating=int(d["rating"]),
            text=str(d.get("text") or ""),
            title=str(d.get("title") or ""),
            customer_id=d.get("customer_id"),
            ts=d.get("ts"),
        )


@dataclass(frozen=True)
class Policy:
    id: str  # e.g. "returns"
    title: str
    text: str  # markdown; split into passages for retrieval
    topic: str = (
        ""  # shipping | returns | refunds | warranty | payment | price_match | privacy | order_tracking
    )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "text": self.text, "topic": self.topic}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Policy:
        return cls(
            id=str(d["id"]), title=str(d["title"]), text=str(d["text"]), topic=str(d.get("topic") or "")
        )
