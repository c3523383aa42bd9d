"""Pure metric functions. Inputs are arrays / CSR matrices; nothing here fits or loads anything.

Ranking ("full ranking", as in ../shared/data/README.md): every item is ranked, the items in
``mask`` (e.g. train, or train + valid) are removed, and users with no positive are skipped.
Recall@k = hits/|pos|, Precision@k = hits/k, Hit@k = [hits>0], MRR@k = 1/rank of first hit,
NDCG@k = DCG/IDCG with IDCG over min(|pos|, k), MAP@k = mean precision at each hit / min(|pos|, k).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

KS = (10,)


def top_k_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Row-wise indices of the k largest scores, best first (-inf entries sort last)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def per_user_ranking(
    scores: np.ndarray, positives: sp.csr_matrix, mask: sp.csr_matrix | None, k: int = 10
) -> dict[str, np.ndarray]:
    """Per-user metric arrays for users (rows) with at least one positive."""
    scores = np.array(scores, dtype=np.float64, copy=True)
    if mask is not None:
        m = sp.csr_matrix(mask)
        r, c = m.nonzero()
        scores[r, c] = -np.inf
    pos = sp.csr_matrix(positives)
    n_pos = np.diff(pos.indptr)
    keep = np.flatnonzero(n_pos > 0)
    top = top_k_indices(scores[keep], k)
    hits = _hits(pos, keep, top)
    width = int(top.shape[-1])
    if width < k:  # fewer items than k (a small shop): the missing ranks are misses
        hits = np.pad(hits, ((0, 0), (0, k - width)))
    npos = n_pos[keep].astype(np.float64)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts).sum(1)
    idcg = np.array([discounts[: int(min(n, k))].sum() for n in npos])
    first = np.where(hits.any(1), hits.argmax(1) + 1, 0)
    cum = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return {
        "users": keep,
        f"recall@{k}": hits.sum(1) / npos,
        f"precision@{k}": hits.sum(1) / k,
        f"hit@{k}": hits.any(1).astype(np.float64),
        f"mrr@{k}": np.where(first > 0, 1.0 / np.maximum(first, 1), 0.0),
        f"ndcg@{k}": dcg / idcg,
        f"map@{k}": (cum * hits).sum(1) / np.minimum(npos, k),
        "top": top,
    }


def _hits(pos: sp.csr_matrix, keep: np.ndarray, top: np.ndarray) -> np.ndarray:
    """hits[r, j] = item top[r, j] is a positive of user keep[r]: one sorted-key lookup for all
    users (a per-user ``isin`` loop was most of the blend search's time)."""
    n = np.int64(pos.shape[1])
    rows = np.repeat(np.arange(pos.shape[0], dtype=np.int64), np.diff(pos.indptr))
    keys = np.sort(rows * n + pos.indices.astype(np.int64))
    if len(keys) == 0:
        return np.zeros(top.shape, bool)
    query = keep.astype(np.int64)[:, None] * n + top.astype(np.int64)
    at = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.asarray(keys[at] == query)


def ranking_metrics(
    scores: np.ndarray, positives: sp.csr_matrix, mask: sp.csr_matrix | None = None, k: int = 10
) -> dict[str, float]:
    """Mean of ``per_user_ranking`` over users with a positive."""
    per = per_user_ranking(scores, positives, mask, k)
    return {name: float(np.mean(v)) if len(v) else 0.0 for name, v in per.items() if "@" in name}


def sampled_metrics(
    scores: np.ndarray,
    positives: sp.csr_matrix,
    mask: sp.csr_matrix | None = None,
    k: int = 10,
    n_neg: int = 99,
    seed: int = 0,
    rng: np.random.Generator | None = None,
    per_positive: bool = False,
) -> dict[str, Any]:
    """NCF-paper protocol: each positive is ranked against ``n_neg`` sampled unseen negatives.
    ``rng`` (instead of ``seed``) continues one generator across user batches; ``per_positive``
    returns the per-positive lists instead of their means (batched callers average at the end)."""
    rng = np.random.default_rng(seed) if rng is None else rng
    pos = sp.csr_matrix(positives)
    excluded = pos if mask is None else (pos + sp.csr_matrix(mask)).tocsr()
    n_items = scores.shape[1]
    hit, ndcg, mrr = [], [], []
    free = np.ones(n_items, bool)
    for u in range(pos.shape[0]):
        taken = excluded.indices[excluded.indptr[u] : excluded.indptr[u + 1]]
        free[taken] = False
        pool = np.flatnonzero(free)  # the sorted unseen items, as setdiff1d gave, without a sort
        free[taken] = True
        if len(pool) == 0:
            continue
        for p in pos.indices[pos.indptr[u] : pos.indptr[u + 1]]:
            negs = rng.choice(pool, size=min(n_neg, len(pool)), replace=False)
            rank = int((scores[u, negs] > scores[u, p]).sum()) + 1  # ties favour the positive
            hit.append(rank <= k)
            ndcg.append(1.0 / np.log2(rank + 1) if rank <= k else 0.0)
            mrr.append(1.0 / rank if rank <= k else 0.0)
    if per_positive:
        return {f"hit@{k}": [float(h) for h in hit], f"ndcg@{k}": ndcg, f"mrr@{k}": mrr}
    return {f"hit@{k}": _mean(hit), f"ndcg@{k}": _mean(ndcg), f"mrr@{k}": _mean(mrr)}


def _mean(xs: Sequence[float]) -> float:
    return float(np.mean(xs)) if xs else 0.0


def rmse(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred, float) - np.asarray(true, float)) ** 2)))


def mae(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(pred, float) - np.asarray(true, float))))


def catalog_coverage(top: np.ndarray, n_items: int) -> float:
    """Share of the catalog that appears in at least one list."""
    return float(len(np.unique(top)) / n_items) if n_items else 0.0


def intra_list_diversity(top: np.ndarray, item_vectors: np.ndarray) -> float:
    """Mean pairwise (1 - cosine) inside each list; vectors need not be normalised."""
    V = item_vectors / np.maximum(np.linalg.norm(item_vectors, axis=1, keepdims=True), 1e-12)
    out = []
    for row in top:
        if len(row) < 2:
            continue
        S = V[row] @ V[row].T
        n = len(row)
        out.append(1.0 - (S.sum() - np.trace(S)) / (n * (n - 1)))
    return float(np.mean(out)) if out else 0.0


def novelty(top: np.ndarray, item_counts: np.ndarray, n_users: int) -> float:
    """Mean self-information -log2(p(item)) of recommended items, p = users who had it / users."""
    p = np.maximum(item_counts[top], 1) / max(n_users, 1)
    return float(np.mean(-np.log2(p)))


def popularity_bias(top: np.ndarray, item_counts: np.ndarray) -> float:
    """Average recommendation popularity (ARP): mean train count of recommended items."""
    return float(np.mean(item_counts[top]))


def cold_warm_split(
    per_user: dict[str, np.ndarray], train_counts: np.ndarray, threshold: int = 5
) -> dict[str, dict[str, float]]:
    """Split per-user metrics into users with <= ``threshold`` train events (cold) and the rest."""
    counts = train_counts[per_user["users"]]
    out: dict[str, dict[str, float]] = {}
    for name, sel in (("cold", counts <= threshold), ("warm", counts > threshold)):
        out[name] = {
            m: float(v[sel].mean()) if sel.any() else float("nan") for m, v in per_user.items() if "@" in m
        }
        out[name]["users"] = int(sel.sum())
    return out
