"""Segments: RFM (recency, frequency, monetary) and k-means, with names a person understands.

Features are log-scaled and standardised, so one large spender does not stretch a whole axis. The
number of segments is the one with the best silhouette among 3..6 (no labels exist to choose it
on). Each cluster is named from its centre: how recent, how frequent, how big its spend is relative
to the other customers, and how new its members are.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from assistant.insights.activity import FeatureTable

RFM = ("recency_days", "frequency", "spend")
KS = (3, 4, 5, 6)


@dataclass(frozen=True)
class Segments:
    customers: list[str]
    labels: np.ndarray  # cluster index per customer
    names: list[str]  # per cluster
    centres: np.ndarray  # (k, 3) recency days, frequency, spend (original units)
    k: int
    silhouette: float

    def of(self, customer: str) -> str | None:
        try:
            return self.names[int(self.labels[self.customers.index(customer)])]
        except ValueError:
            return None

    def sizes(self) -> dict[str, int]:
        return {n: int((self.labels == i).sum()) for i, n in enumerate(self.names)}


def rfm_matrix(table: FeatureTable) -> np.ndarray:
    cols = [table.column(c) for c in RFM]
    return np.log1p(np.maximum(np.stack(cols, axis=1), 0.0))


def _standard(Z: np.ndarray) -> np.ndarray:
    sd = Z.std(axis=0)
    return (Z - Z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def cluster(table: FeatureTable, k: int | None = None, seed: int = 0) -> Segments:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    Z = _standard(rfm_matrix(table))
    n = len(table.customers)
    best: tuple[float, int, Any] | None = None
    for kk in [k] if k else [x for x in KS if x < n]:
        km = KMeans(kk, n_init=4, random_state=seed).fit(Z)
        sample = min(n, 3000)  # silhouette is quadratic: a fixed sample keeps it to a second
        s = float(silhouette_score(Z, km.labels_, sample_size=sample, random_state=seed))
        if best is None or s > best[0]:
            best = (s, kk, km)
    if best is None:
        raise ValueError("segments need at least 4 customers with activity")
    s, kk, km = best
    raw = np.stack([table.column(c) for c in RFM], axis=1)
    centres = np.stack([np.median(raw[km.labels_ == i], axis=0) for i in range(kk)])
    tenure = table.column("tenure_days")
    new = [float(np.median(tenure[km.labels_ == i])) for i in range(kk)]
    return Segments(list(table.customers), km.labels_, name_clusters(centres, new, raw), centres, kk, s)


def name_clusters(centres: np.ndarray, tenure: list[float], raw: np.ndarray) -> list[str]:
    """Names from where each centre sits among all customers (percentiles of R, F, M)."""

    def pct(col: int, v: float) -> float:
        return float((raw[:, col] < v).mean())

    names, pcts = [], []
    for (r, f, m), ten in zip(centres, tenure, strict=True):
        pr, pf, pm = pct(0, r), pct(1, f), pct(2, m)
        pcts.append((pr, pf, pm))
        if m <= 0:
            name = "lapsed browsers" if pr > 0.6 else "browsers, no purchase yet"
        elif ten <= max(r, 1.0) * 1.5 and pf < 0.5:
            name = "new"
        elif pr > 0.6:
            name = "lapsing big spenders" if pm >= 0.6 else "lapsing"
        elif pm >= 0.6 and pf >= 0.5:
            name = "loyal big spenders"
        elif pf >= 0.6:
            name = "loyal regulars"
        elif pm >= 0.6:
            name = "occasional big spenders"
        else:
            name = "occasional"
        names.append(name)
    return _unique(names, pcts)


# For clusters that earn the same name: the axis that separates them most, worded best first
# (a high recency percentile means long ago, so its best is the lowest).
QUALIFIERS = (
    ("most recent", "less recent", "least recent"),
    ("most frequent", "less frequent", "least frequent"),
    ("highest spend", "lower spend", "lowest spend"),
)


def _unique(names: list[str], pcts: list[tuple[float, float, float]]) -> list[str]:
    out = list(names)
    for name in set(names):
        members = [i for i, n in enumerate(names) if n == name]
        if len(members) < 2:
            continue
        axis = max(range(3), key=lambda a: np.ptp([pcts[i][a] for i in members]))
        sign = 1.0 if axis == 0 else -1.0
        ranked = sorted(members, key=lambda i: sign * pcts[i][axis])
        words = QUALIFIERS[axis]
        for rank, i in enumerate(ranked):
            word = words[0] if rank == 0 else words[2] if rank == len(ranked) - 1 else words[1]
            out[i] = f"{name}, {word}" + (
                f" {rank}" if 0 < rank < len(ranked) - 1 and len(ranked) > 3 else ""
            )
    return out


def stability(table: FeatureTable, seeds: int = 10, k: int | None = None) -> dict[str, Any]:
    """How much the segmentation depends on k-means' random start: mean and minimum adjusted Rand
    index between every pair of seeds (1.0 = the same partition), and the k each seed chose."""
    from sklearn.metrics import adjusted_rand_score

    runs = [cluster(table, k=k, seed=s) for s in range(seeds)]
    aris = [float(adjusted_rand_score(a.labels, b.labels)) for a, b in combinations(runs, 2)]
    return {
        "seeds": seeds,
        "ari_mean": float(np.mean(aris)),
        "ari_min": float(np.min(aris)),
        "k": [r.k for r in runs],
        "names": sorted(set(runs[0].names)),
    }
