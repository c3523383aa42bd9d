"""The shop's recommender: the library's hybrid fitted on the shop's events (by default the
``knowledge.demo`` shop's), served by customer id and session history. A shop with no history yet
gets content-based suggestions (similar to what the shopper clicked in this session).

Raw ids are product ids and customer ids. Event weights: purchase > cart > rate (by rating) > view.
Blend weights are learned on a leave-last-event-out validation split; the components are then
refit on all events with those weights, which is what gets saved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import DataError, NotFoundError
from recommender.data import Interactions, split_loo
from recommender.hybrid import Hybrid
from recommender.models import make_model
from recommender.models.content import Content

EVENT_WEIGHTS = {"purchase": 5.0, "cart": 3.0, "view": 0.5}
COMPONENTS: dict[str, dict[str, Any]] = {
    "popularity": {},
    "itemknn": {"k": 50, "shrink": 10.0},
    "ease": {"l2": 50.0},
    "svd": {"factors": 16},
    "sequential": {"window": 3, "symmetric": 0.5, "last_n": 5},
    "content": {},
}


def event_weight(event: str, rating: int | None = None) -> float:
    """purchase 5 > cart 3 > rate 0.8..2.0 (0.5 + 0.3 * stars) > view 0.5."""
    if event == "rate":
        return 0.5 + 0.3 * float(rating or 3)
    if event not in EVENT_WEIGHTS:
        raise DataError(f"unknown event {event!r}: use one of view, cart, purchase, rate")
    return EVENT_WEIGHTS[event]


def product_text(p: Any) -> str:
    attrs = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in (p.attributes or {}).items())
    return f"{p.title}. {p.brand}. {p.category}. {attrs}. {p.description}"


def interactions_from_events(
    events: Sequence[Mapping[str, Any]], product_ids: Iterable[str], customer_ids: Iterable[str] | None = None
) -> Interactions:
    ts = [datetime.fromisoformat(str(e["ts"]).replace("Z", "+00:00")).timestamp() for e in events]
    return Interactions.from_arrays(
        [e["customer_id"] for e in events],
        [e["product_id"] for e in events],
        [event_weight(e["event"], e.get("rating")) for e in events],
        ts,
        user_ids=customer_ids,
        item_ids=product_ids,
        duplicates="sum",
    )


@dataclass(frozen=True)
class ShopHistory:
    """What the recommender is fitted on: the catalog and the shop's events (``knowledge.demo``'s
    DemoShop has the same three fields)."""

    products: Sequence[Any]
    interactions: Sequence[Mapping[str, Any]] = ()
    customers: Sequence[Mapping[str, Any]] = ()


class ShopRecommender:
    def __init__(self, hybrid: Hybrid, product_text_: Mapping[str, str]) -> None:
        self.hybrid = hybrid
        self.texts = dict(product_text_)

    @property
    def cold(self) -> bool:
        """Fitted without any history: content-based suggestions from the session's clicks only."""
        return self.hybrid.data.nnz == 0

    @classmethod
    def fit(
        cls, shop: Any = None, embedder: str = "minilm", vectors: Mapping[str, Any] | None = None
    ) -> ShopRecommender:
        """Fit on a ``ShopHistory`` or ``knowledge.demo.DemoShop`` (default: the packaged demo shop).
        A shop with no events gets the content model only; ``vectors`` {product id: embedding} (the
        product index's, when every product has one) spare embedding the catalog again for it."""
        if shop is None:
            from knowledge.demo import load_demo

            shop = load_demo()
        pids = [p.id for p in shop.products]
        known = set(pids)
        events = [e for e in shop.interactions if str(e["product_id"]) in known]
        texts = {p.id: product_text(p) for p in shop.products}
        names = {p.id: p.title for p in shop.products}
        if not events and vectors is not None and all(p in vectors for p in pids):
            data = Interactions.from_arrays([], [], user_ids=[], item_ids=pids, allow_empty=True)
            content = Content(embedder=embedder, embeddings=np.stack([vectors[p] for p in pids])).fit(data)
            return cls(Hybrid({"content": content}, {"content": 1.0}, item_names=names), texts)
        from knowledge.embed import make_embedder

        embed = make_embedder(embedder).embed
        if not events:
            return cls._cold_start(pids, texts, names, embedder, embed)
        customers = sorted({c["id"] for c in shop.customers} | {e["customer_id"] for e in events})
        data = interactions_from_events(events, pids, customers)
        train, valid, _ = split_loo(data)  # the third part (last events) is kept out of selection too
        # embed the catalog once; both the selection and the final hybrid reuse the vectors
        content_emb = Content(embedder=embedder, item_text=texts, embed=embed).fit(data).E

        def build(d: Interactions) -> Hybrid:
            models = {
                n: make_model(n, **p)
                if n != "content"
                else make_model(n, embedder=embedder, embeddings=content_emb)
                for n, p in COMPONENTS.items()
            }
            return Hybrid({n: m.fit(d) for n, m in models.items()}, item_names=names)

        selector = build(train)
        weights = selector.learn_weights(train, valid)
        final = build(data)
        final.weights, final.valid_ndcg = weights, selector.valid_ndcg
        return cls(final, texts)

    @classmethod
    def _cold_start(
        cls, pids: list[str], texts: dict[str, str], names: dict[str, str], embedder: str, embed: Any
    ) -> ShopRecommender:
        data = Interactions.from_arrays([], [], user_ids=[], item_ids=pids, allow_empty=True)
        content = Content(embedder=embedder, item_text=texts, embed=embed).fit(data)
        return cls(Hybrid({"content": content}, {"content": 1.0}, item_names=names), texts)

    # ---- serving -----------------------------------------------------------------------
    def forget(self, customer_id: str) -> bool:
        """Privacy: the customer's id no longer resolves to their fitted history. Their
        row stays, anonymous, until the next `aisle train recsys` refits without it."""
        data = self.hybrid.data
        u = data.user_index().get(str(customer_id))
        if u is None:
            return False
        data.user_ids[u] = f"forgotten-{u}"
        data.__dict__.pop("_user_index", None)  # drop the cached id -> row map
        return True

    def customer_history(self, customer_id: str | None) -> list[tuple[str, float]]:
        if customer_id is None:
            return []
        data = self.hybrid.data
        u = data.user_index().get(str(customer_id))
        if u is None:
            return []  # an unknown customer is treated as new: session history only
        row = self.hybrid.X[u]
        weight = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        seq = self._sequences()[u]
        return [(str(data.item_ids[j]), float(weight[j])) for j in seq]

    def _sequences(self) -> list:  # type: ignore[type-arg]
        if getattr(self, "_seqs", None) is None:
            self._seqs = self.hybrid.data.sequences()
        return self._seqs

    def recommend(
        self,
        customer_id: str | None = None,
        history: Sequence[str] = (),
        k: int = 10,
        candidates: set[str] | None = None,
        boosts: Mapping[str, float] | None = None,
        exclude_seen: bool = True,
    ) -> list[tuple[str, float]]:
        """Stored events of the customer plus this session's ``history`` (product ids, oldest first)."""
        events = self.customer_history(customer_id) + [(str(p), EVENT_WEIGHTS["view"]) for p in history]
        ids, scores = self.hybrid.recommend_for_history(
            events, k, candidates, boosts, exclude_seen=exclude_seen
        )
        return [(str(i), float(s)) for i, s in zip(ids, scores, strict=True)]

    def explain(
        self, customer_id: str | None, history: Sequence[str], product_id: str, terms: Sequence[str] = ()
    ) -> list[str]:
        if product_id not in self.texts:
            raise NotFoundError(f"unknown product {product_id!r}: pass an id from the catalog")
        events = self.customer_history(customer_id) + [(str(p), 1.0) for p in history]
        reasons = [
            f"matches '{t}'"
            for t in terms
            if re.search(rf"\b{re.escape(t.lower())}", self.texts[product_id].lower())
        ]
        return (reasons + self.hybrid.explain(list(events), product_id))[:4]

    # ---- persistence -------------------------------------------------------------------
    def save(self, path: Path | str) -> None:
        path = Path(path)
        self.hybrid.save(path / "hybrid")
        (path / "products.json").write_text(json.dumps(self.texts))

    @classmethod
    def load(cls, path: Path | str) -> ShopRecommender:
        path = Path(path)
        if not (path / "products.json").is_file():
            raise NotFoundError(f"no fitted shop recommender in {path}: run `aisle train recsys`")
        return cls(Hybrid.load(path / "hybrid"), json.loads((path / "products.json").read_text()))
