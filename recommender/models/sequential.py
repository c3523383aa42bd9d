"""Sequential next-item signal: recency-weighted item-to-item transitions.

T[a, b] sums ``decay ** (gap - 1)`` over every time a user's event b follows a within ``window``
steps; rows are normalised by ``count(a) ** beta``. A user's score is sum over their last
``last_n`` items (most recent first, weight ``recency ** position``) of T[item].
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.base import Recommender, csr_from_arrays, csr_to_arrays
from recommender.data import Interactions


class Transitions(Recommender):
    name = "sequential"

    def __init__(
        self,
        window: int = 3,
        decay: float = 0.5,
        recency: float = 0.5,
        last_n: int = 5,
        beta: float = 0.5,
        symmetric: float = 0.0,
    ) -> None:
        super().__init__(
            window=window, decay=decay, recency=recency, last_n=last_n, beta=beta, symmetric=symmetric
        )

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        p = self.params
        src, dst, val = [], [], []
        for seq in data.sequences():
            for gap in range(1, int(p["window"]) + 1):
                if len(seq) > gap:
                    src.append(seq[:-gap])
                    dst.append(seq[gap:])
                    val.append(np.full(len(seq) - gap, p["decay"] ** (gap - 1), np.float32))
        n = data.n_items
        if src:
            T = sp.csr_matrix((np.concatenate(val), (np.concatenate(src), np.concatenate(dst))), shape=(n, n))
        else:
            T = sp.csr_matrix((n, n), dtype=np.float32)
        T.sum_duplicates()
        if p["symmetric"]:
            # co-occurrence in the reverse direction is a weaker but real signal on sparse data
            T = T + p["symmetric"] * T.T
        T.setdiag(0)
        T.eliminate_zeros()
        counts = np.bincount(X.indices, minlength=n).astype(np.float32)
        norm = np.power(np.maximum(counts, 1.0), p["beta"])
        self.T = sp.csr_matrix(sp.diags(1.0 / norm) @ T, dtype=np.float32)

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        p = self.params
        last_n = int(p["last_n"])
        r, c, v = [], [], []
        for u, seq in enumerate(seqs):
            tail = seq[::-1][:last_n]
            r.extend([u] * len(tail))
            c.extend(tail.tolist())
            v.extend((p["recency"] ** np.arange(len(tail))).tolist())
        W = sp.csr_matrix((np.asarray(v, np.float32), (r, c)), shape=(len(seqs), self.T.shape[0]))
        return np.asarray((W @ self.T).toarray())

    def _arrays(self) -> dict[str, np.ndarray]:
        return csr_to_arrays("T", self.T)

    def _set_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.T = csr_from_arrays("T", a)
