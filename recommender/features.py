"""Per-user score normalisation and the stacker's candidate features.

Shared by ``recommender.hybrid`` (which serves the stacker) and ``recommender.stacker`` (which
fits it); a leaf module, so neither of those has to import the other.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def zscore(S: np.ndarray) -> np.ndarray:
    """Per-row standardisation, so that models with different scales can be added."""
    S = np.asarray(S, np.float32)
    mu = S.mean(axis=1, keepdims=True)
    sd = S.std(axis=1, keepdims=True)
    return np.asarray((S - mu) / np.where(sd > 1e-12, sd, 1.0), np.float32)


def features(
    Z: Mapping[str, np.ndarray],
    seen: np.ndarray,
    item_counts: np.ndarray,
    hist_len: np.ndarray,
    n_cand: int = 50,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, user_row, item) for the candidate (user, item) pairs. ``Z``: per-user z-scores
    (n_users, n_items) per model; ``seen``: bool mask of items to exclude."""
    names = sorted(Z)
    n_users, n_items = seen.shape
    k = min(n_cand, n_items - 1)
    C = np.zeros_like(seen)
    for n in names:
        s = np.where(seen, -np.inf, Z[n])
        top = np.argpartition(-s, k, axis=1)[:, :k]
        C[np.arange(n_users)[:, None], top] = True
    C &= ~seen
    ui, ii = np.nonzero(C)
    cols = [Z[n][ui, ii] for n in names]
    starts = np.searchsorted(ui, np.arange(n_users + 1))
    for n in names:  # rank among the user's candidates (0 = best), log-scaled
        r = np.empty(len(ui), np.float32)
        for u in range(n_users):
            a, b = starts[u], starts[u + 1]
            order = np.argsort(-Z[n][u, ii[a:b]], kind="stable")
            r[a + order] = np.arange(b - a)
        cols.append(np.log1p(r))
    cols += [np.log1p(item_counts[ii]).astype(np.float32), np.log1p(hist_len[ui]).astype(np.float32)]
    return np.column_stack(cols).astype(np.float32), ui, ii
