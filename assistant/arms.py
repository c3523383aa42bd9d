"""Serving an experiment arm: the recommender with the arm's blend, and diversity re-ranking.

The fitted ``ShopRecommender`` is shared by every arm: an arm gets a shallow view of it whose
hybrid carries the arm's blend weights (the fitted models, matrices and caches are shared, never
copied or mutated), so serving an arm costs nothing after its first request.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from assistant.experiments import Arm

T = TypeVar("T")


class ArmViews:
    """One recommender view per arm, built on first use (per engine: no global state)."""

    def __init__(self) -> None:
        self._views: dict[tuple[str, tuple[tuple[str, float], ...]], Any] = {}
        self._lock = threading.Lock()

    def recommender(self, base: Any, arm: Arm) -> Any:
        if base is None or arm.blend is None or getattr(base, "hybrid", None) is None:
            return base
        key = (arm.name, tuple(sorted(arm.blend.items())))
        with self._lock:
            view = self._views.get(key)
            if view is None or view[0] is not base:
                view = (base, _with_blend(base, arm.blend))
                self._views[key] = view
            return view[1]


def _with_blend(base: Any, blend: Mapping[str, float]) -> Any:
    """A shallow copy of the shop recommender whose hybrid blends only ``blend``'s models (those
    the hybrid has; an arm naming none of them falls back to popularity, the cold-start ranking)."""
    hybrid = copy.copy(base.hybrid)
    weights = {n: float(w) for n, w in blend.items() if n in hybrid.models and w > 0}
    if not weights and "popularity" in hybrid.models:
        weights = {"popularity": 1.0}
    hybrid.weights = weights
    hybrid.stacker = None  # a learned stacker would re-rank over the arm's blend and undo it
    view = copy.copy(base)
    view.hybrid = hybrid
    return view


def similarity(a: Any, b: Any) -> float:
    """How alike two products look to a shopper: shared category path (by depth) and brand."""
    ca = [c.strip() for c in str(getattr(a, "category", "")).split(">")]
    cb = [c.strip() for c in str(getattr(b, "category", "")).split(">")]
    depth = max(len(ca), len(cb), 1)
    shared = 0
    for x, y in zip(ca, cb, strict=False):
        if x != y:
            break
        shared += 1
    brand = 1.0 if getattr(a, "brand", None) and a.brand == getattr(b, "brand", None) else 0.0
    return 0.75 * shared / depth + 0.25 * brand


def mmr(
    ranked: Sequence[T],
    score: Callable[[T], float],
    k: int,
    diversity: float,
    sim: Callable[[T, T], float] = similarity,
) -> list[T]:
    """Maximal marginal relevance: pick, k times, the item maximising
    (1 - diversity) * relevance - diversity * max similarity to what is already picked.
    Relevance is rank-scaled to 0..1 so the trade-off does not depend on the score's units."""
    if diversity <= 0 or len(ranked) <= 1:
        return list(ranked[:k])
    n = len(ranked)
    rel = {id(x): 1.0 - i / (n - 1) for i, x in enumerate(sorted(ranked, key=lambda x: -score(x)))}
    picked: list[T] = []
    pool = list(ranked)
    while pool and len(picked) < k:
        best = max(
            pool,
            key=lambda x: (
                (1 - diversity) * rel[id(x)] - diversity * max((sim(x, p) for p in picked), default=0)
            ),
        )
        picked.append(best)
        pool.remove(best)
    return picked
