"""Bounded-memory helpers: score users in batches, keep only per-user metrics and top-k lists.

A users x items score matrix for a whole dataset (25,000 x 15,000 floats is 1.5 GB, and the metric
code makes float64 copies of it) is what drove the benchmark past 20 GB on a mid-sized Amazon
category. Here every caller scores at most ``rows_per_batch(n_items)`` users at a time, so the
transient memory is a fixed number of cells whatever the number of users.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import scipy.sparse as sp

from recommender.metrics import per_user_ranking, sampled_metrics

# Score cells (users x items) held at once; per_user_ranking copies them to float64, so a batch
# costs about 8 bytes a cell, plus the model's own intermediates (~130 MB at this size).
BATCH_CELLS = 1 << 24
# Dense score cells a whole-sample search (blend weights, stacker) may hold across all its models.
SAMPLE_CELLS = 1 << 28

Scorer = Callable[[np.ndarray], np.ndarray]


def rows_per_batch(n_items: int, cells: int = BATCH_CELLS) -> int:
    return max(1, cells // max(int(n_items), 1))


def batches(users: np.ndarray, n_items: int, cells: int = BATCH_CELLS) -> Iterator[np.ndarray]:
    step = rows_per_batch(n_items, cells)
    for s in range(0, len(users), step):
        yield users[s : s + step]


def sample_cap(wanted: int, n_items: int, n_models: int, cells: int = SAMPLE_CELLS) -> int:
    """How many users a search holding ``n_models`` dense (users x items) matrices may sample:
    ``wanted`` where it fits in ``cells`` (every small catalog), fewer on a large one."""
    return max(50, min(int(wanted), cells // max(1, int(n_items) * max(1, n_models))))


def sample_users(users: np.ndarray, cap: int, seed: int = 0) -> np.ndarray:
    """A fixed-seed sorted sample of at most ``cap`` users (all of them when they fit)."""
    if len(users) <= cap:
        return users
    return np.sort(np.random.default_rng(seed).choice(users, cap, replace=False))


def ranking_batched(
    score: Scorer,
    users: np.ndarray,
    positives: sp.csr_matrix,
    mask: sp.csr_matrix | None,
    n_items: int,
    k: int = 10,
    sampled_rng: np.random.Generator | None = None,
) -> dict[str, np.ndarray]:
    """``per_user_ranking`` over ``users`` scored in batches. ``positives`` / ``mask`` have one row
    per entry of ``users``; ``"users"`` in the result indexes into ``users``, like the unbatched
    version. With ``sampled_rng`` also the 1+99 sampled metrics per positive (``sampled_*`` keys),
    drawn in the same order as one unbatched call with that generator."""
    parts: list[dict[str, np.ndarray]] = []
    sampled: dict[str, list[float]] = {}
    start = 0
    for batch in batches(users, n_items):
        stop = start + len(batch)
        S = score(batch)
        pos = positives[start:stop]
        msk = None if mask is None else mask[start:stop]
        per = per_user_ranking(S, pos, msk, k)
        per["users"] = per["users"] + start
        parts.append(per)
        if sampled_rng is not None:
            for name, vals in sampled_metrics(S, pos, msk, k=k, rng=sampled_rng, per_positive=True).items():
                sampled.setdefault(name, []).extend(vals)
        start = stop
        del S
    out = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]} if parts else {}
    for name, vals in sampled.items():
        out[f"sampled_{name}"] = np.asarray(vals, np.float64)
    return out


def mean_metrics(per: dict[str, np.ndarray]) -> dict[str, float]:
    """Means of the per-user (and per-positive, ``sampled_*``) metric arrays."""
    return {name: float(np.mean(v)) if len(v) else 0.0 for name, v in per.items() if "@" in name}
