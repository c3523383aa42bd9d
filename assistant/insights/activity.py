"""One customer's activity as plain records, and the features computed from it up to a cutoff.

Times are floats in days (any origin): the shop's store gives real timestamps, the Amazon Office
benchmark an estimated clock (aisle.bench.insights). Nothing after the cutoff is ever read for a
feature; the label window starts at the cutoff.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# The features the churn model and the segments read, in column order.
FEATURES = (
    "recency_days",
    "frequency",
    "spend",
    "returns",
    "complaints",
    "sentiment",
    "tenure_days",
    "recent_share",
)
LABELS = {
    "recency_days": "days since last activity",
    "frequency": "activity count",
    "spend": "spend",
    "returns": "returns",
    "complaints": "complaints",
    "sentiment": "sentiment",
    "tenure_days": "days as a customer",
    "recent_share": "share of activity in the last quarter of the window",
}


@dataclass(frozen=True)
class Activity:
    customer: str
    t: float  # days
    kind: str = "activity"  # activity | purchase | return | complaint | sentiment
    amount: float = 0.0  # spend for a purchase
    score: float = 0.0  # sentiment in -1..1 for a "sentiment" record


@dataclass(frozen=True)
class FeatureTable:
    customers: list[str]
    X: np.ndarray  # (n, len(FEATURES))
    names: tuple[str, ...] = FEATURES

    def column(self, name: str) -> np.ndarray:
        return np.asarray(self.X[:, self.names.index(name)])


def features(
    activities: Iterable[Activity], cutoff: float, window: float, customers: Sequence[str] | None = None
) -> FeatureTable:
    """Features over [cutoff - window, cutoff) for every customer active in it (or ``customers``)."""
    start = cutoff - window
    per: dict[str, list[Activity]] = defaultdict(list)
    first: dict[str, float] = {}
    for a in activities:
        if a.t < cutoff:
            first[a.customer] = min(first.get(a.customer, a.t), a.t)
            if a.t >= start:
                per[a.customer].append(a)
    ids = list(customers) if customers is not None else sorted(c for c, acts in per.items() if _active(acts))
    rows = [_row(per.get(c, []), cutoff, window, first.get(c, cutoff)) for c in ids]
    return FeatureTable(ids, np.asarray(rows, dtype=np.float64).reshape(len(ids), len(FEATURES)))


def _active(acts: list[Activity]) -> bool:
    return any(a.kind in ("activity", "purchase") for a in acts)


def _row(acts: list[Activity], cutoff: float, window: float, first: float) -> list[float]:
    moves = [a for a in acts if a.kind in ("activity", "purchase")]
    last = max((a.t for a in moves), default=cutoff - window)
    senti = [a.score for a in acts if a.kind == "sentiment"]
    recent = sum(a.t >= cutoff - window / 4 for a in moves)
    return [
        cutoff - last,
        float(len(moves)),
        math.fsum(a.amount for a in acts if a.kind == "purchase"),
        float(sum(a.kind == "return" for a in acts)),
        float(sum(a.kind == "complaint" for a in acts)),
        float(np.mean(senti)) if senti else 0.0,
        cutoff - first,
        recent / len(moves) if moves else 0.0,
    ]


def churned(
    activities: Iterable[Activity], customers: Sequence[str], cutoff: float, horizon: float
) -> np.ndarray:
    """1 where a customer has no activity in [cutoff, cutoff + horizon): churned."""
    seen = {
        a.customer
        for a in activities
        if cutoff <= a.t < cutoff + horizon and a.kind in ("activity", "purchase")
    }
    return np.asarray([0 if c in seen else 1 for c in customers], dtype=np.int64)
