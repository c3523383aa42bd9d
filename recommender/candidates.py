"""Compact candidate sets for the blend-weight search on a large catalog.

The coordinate search evaluates a few hundred weight settings; on 15,000 items each one ranked a
dense (users x items) blend. Here every user keeps only the union of each model's top ``n_top``
unseen items plus their own valid positives (so IDCG and every positive's true blend score are
exact); an item outside every model's top ``n_top`` is treated as never reaching the blend's top
10, the one approximation. Padding columns get a very low score in every model, so they rank
last in any blend whose best model has weight 1 (the search keeps it at 1).

Scores are per-user z-scores over the full catalog, computed before gathering, so a candidate's
value is the same as in the dense search. Models are scored in user batches twice (top lists,
then gather): memory is one batch plus the compact matrices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import scipy.sparse as sp

from recommender.batching import batches
from recommender.features import zscore

PAD = -1.0e6
# Above this many (users x items) cells the search runs on candidates: office (3,000 x 2,420 = 7.3 M)
# and ml-100k stay on the exact dense path; the stacker check's per-fold searches on a 15,000-item
# catalog (~570 users, 8.2 M) move to candidates.
COMPACT_CELLS = 8_000_000


def compact(
    scorers: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    users: np.ndarray,
    pos: sp.csr_matrix,
    mask: sp.csr_matrix,
    n_items: int,
    n_top: int = 100,
) -> tuple[dict[str, np.ndarray], sp.csr_matrix, np.ndarray]:
    """(z-scores gathered to (users, M), positives as a (users, M) CSR, the (users, M) item index
    matrix with -1 for padding). ``pos`` / ``mask`` have one row per user in ``users``."""
    k = min(n_top, n_items - 1)
    tops: list[list[np.ndarray]] = [[] for _ in users]
    for fn in scorers.values():
        start = 0
        for b in batches(users, n_items):
            S = np.array(fn(b), dtype=np.float32, copy=True)
            r, c = mask[start : start + len(b)].nonzero()
            S[r, c] = -np.inf
            top = np.argpartition(-S, k - 1, axis=1)[:, :k]
            for i, row in enumerate(top):
                tops[start + i].append(row)
            start += len(b)
    cand = [
        np.union1d(np.concatenate(t), pos.indices[pos.indptr[u] : pos.indptr[u + 1]])
        for u, t in enumerate(tops)
    ]
    width = max(len(c) for c in cand)
    C = np.full((len(users), width), -1, np.int64)
    for u, c in enumerate(cand):
        C[u, : len(c)] = c
    Zc = {}
    for name, fn in scorers.items():
        out = np.full(C.shape, PAD, np.float32)
        start = 0
        for b in batches(users, n_items):
            Z = zscore(fn(b))
            rows = C[start : start + len(b)]
            valid = rows >= 0
            out[start : start + len(b)][valid] = np.take_along_axis(Z, np.maximum(rows, 0), axis=1)[valid]
            start += len(b)
        Zc[name] = out
    return Zc, _compact_positives(pos, C), C


def _compact_positives(pos: sp.csr_matrix, C: np.ndarray) -> sp.csr_matrix:
    r, c = [], []
    for u in range(C.shape[0]):
        p = pos.indices[pos.indptr[u] : pos.indptr[u + 1]]
        cols = np.flatnonzero(np.isin(C[u], p))
        r.append(np.full(len(cols), u))
        c.append(cols)
    rr, cc = np.concatenate(r), np.concatenate(c)
    return sp.csr_matrix((np.ones(len(rr), np.float32), (rr, cc)), shape=C.shape)
