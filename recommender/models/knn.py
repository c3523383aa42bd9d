"""Neighbourhood models: item-kNN (cosine with shrinkage) and user-kNN (cosine or Pearson)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from recommender.base import Recommender, csr_from_arrays, csr_to_arrays, take_rows
from recommender.batching import rows_per_batch
from recommender.data import Interactions
from recommender.errors import ConfigError


def _top_k_columns(block: Callable[[int, int], np.ndarray], n: int, k: int) -> sp.csr_matrix:
    """Keep the k largest positive entries of each column (the neighbours of the target item) of
    an n x n similarity that ``block(a, b)`` computes for columns a..b-1 (dense, diagonal zeroed).
    Column blocks bound memory to ``BATCH_CELLS`` cells; a small catalog is one block."""
    k = min(k, n)
    step = rows_per_batch(n)
    rows, cols, vals = [], [], []
    for a in range(0, n, step):
        S = block(a, min(n, a + step))
        idx = np.argpartition(-S, k - 1, axis=0)[:k]  # (k, b - a) row indices per column
        c = np.broadcast_to(np.arange(a, a + S.shape[1]), idx.shape)
        v = np.take_along_axis(S, idx, axis=0)
        keep = v > 0
        rows.append(idx[keep])
        cols.append(c[keep])
        vals.append(v[keep])
        del S
    S = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n), dtype=np.float32
    )
    S.sort_indices()
    return S


def _zero_diagonal(S: np.ndarray, a: int) -> np.ndarray:
    """Zero the entries (a + j, j) of a column block starting at column a."""
    j = np.arange(S.shape[1])
    S[a + j, j] = 0.0
    return S


class ItemKNN(Recommender):
    """Score(u, j) = sum over the user's items i of sim(i, j); sim = cosine with shrinkage,
    sim(i,j) = |U_i & U_j| / (|U_i|^.5 |U_j|^.5 + shrink), pruned to k neighbours per item."""

    name = "itemknn"

    def __init__(self, k: int = 100, shrink: float = 10.0, binary: bool = True) -> None:
        super().__init__(k=k, shrink=shrink, binary=binary)

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        Xb = data.matrix(binary=True) if self.params["binary"] else X
        norms = np.sqrt(np.asarray(Xb.multiply(Xb).sum(axis=0)).ravel()).astype(np.float32)
        XbT, Xc = Xb.T.tocsr(), Xb.tocsc()
        shrink = self.params["shrink"]

        def block(a: int, b: int) -> np.ndarray:
            co = (XbT @ Xc[:, a:b]).toarray().astype(np.float32)
            return _zero_diagonal(co / (np.outer(norms, norms[a:b]) + shrink + 1e-9), a)

        self.S = _top_k_columns(block, Xb.shape[1], int(self.params["k"]))

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        if self.params["binary"]:
            rows = rows.copy()
            rows.data[:] = 1.0
        return np.asarray((rows @ self.S).toarray())

    def similar_items(self, item: int, among: np.ndarray) -> np.ndarray:
        """Similarity of ``item`` to each index in ``among`` (for explanations)."""
        return np.asarray(self.S[among][:, item].toarray()).ravel()

    def _arrays(self) -> dict[str, np.ndarray]:
        return csr_to_arrays("S", self.S)

    def _set_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.S = csr_from_arrays("S", a)


class UserKNN(Recommender):
    """Score(u, j) = sum over the k most similar users v of sim(u, v) * x_vj.
    ``similarity``: "cosine", or "pearson" (cosine of mean-centred full rows)."""

    name = "userknn"

    def __init__(self, k: int = 50, similarity: str = "cosine", shrink: float = 0.0) -> None:
        if similarity not in ("cosine", "pearson"):
            raise ConfigError(f"similarity={similarity!r}: choose 'cosine' or 'pearson'")
        super().__init__(k=k, similarity=similarity, shrink=shrink)

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        self.Xb = data.matrix(binary=True)
        self.XbT = self.Xb.T.tocsr()
        self.stats = self._row_stats(self.Xb)
        self._index_neighbours()

    def _row_stats(self, R: sp.csr_matrix) -> np.ndarray:
        n = R.shape[1]
        s1 = np.asarray(R.sum(axis=1)).ravel()
        s2 = np.asarray(R.multiply(R).sum(axis=1)).ravel()
        mean = s1 / n if self.params["similarity"] == "pearson" else np.zeros_like(s1)
        norm = np.sqrt(np.maximum(s2 - n * mean**2, 0.0))
        return np.stack([mean, norm], axis=1).astype(np.float64)

    def _neighbours(self, rows: sp.csr_matrix, users: np.ndarray | None) -> sp.csr_matrix:
        """(len(rows), n_fit_users) similarities to each row's k nearest fit-time users."""
        rows = rows.copy()
        rows.data[:] = 1.0
        st = self._row_stats(rows)
        n = rows.shape[1]
        dot = np.asarray((rows @ self.XbT).toarray(), np.float64)
        # centred dot product: a.b - n * mean_a * mean_b (zero means for cosine)
        cov = dot - n * np.outer(st[:, 0], self.stats[:, 0])
        sim = cov / (np.outer(st[:, 1], self.stats[:, 1]) + self.params["shrink"] + 1e-9)
        if users is not None:
            sim[np.arange(len(users)), users] = 0.0  # a user is not their own neighbour
        k = min(int(self.params["k"]), sim.shape[1])
        thresh = -np.partition(-sim, k - 1, axis=1)[:, k - 1 : k]
        sim[(sim < thresh) | (sim <= 0)] = 0.0
        return sp.csr_matrix(sim)

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        # chunks bound the dense (rows x fit-time users) similarity block, as in _index_neighbours
        step = rows_per_batch(self.Xb.shape[0], 1 << 23)
        parts = [
            self._neighbours(rows[s : s + step], None if users is None else users[s : s + step])
            for s in range(0, rows.shape[0], step)
        ]
        return np.asarray((sp.vstack(parts, format="csr") @ self.Xb).toarray())

    def _index_neighbours(self) -> None:
        """Neighbour lists of every fit-time user, computed once: a request for a known user is
        then one sparse row times the user-item matrix instead of a pass over all users."""
        X = self.Xb
        step = min(1024, rows_per_batch(X.shape[0], 1 << 23))  # float64 blocks of at most 64 MB
        parts = [
            self._neighbours(X[s : s + step], np.arange(s, min(s + step, X.shape[0])))
            for s in range(0, X.shape[0], step)
        ]
        self.N = sp.vstack(parts, format="csr").astype(np.float32)

    def score(self, users: np.ndarray, history: Interactions | None = None) -> np.ndarray:
        if history is not None:
            return super().score(users, history)
        self._check()
        users = np.asarray(users, dtype=np.int64)
        return np.asarray((take_rows(self.N, users) @ self.Xb).toarray(), dtype=np.float32)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"stats": self.stats}

    def _set_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.stats = a["stats"]
        _, X = self._check()
        self.Xb = X.copy()
        self.Xb.data[:] = 1.0
        self.XbT = self.Xb.T.tocsr()
        self._index_neighbours()


class RP3Beta(ItemKNN):
    """RP3beta (Paudel et al. 2017): 3-step random-walk item similarity user->item->user->item,
    with transition probabilities raised to ``alpha`` and target popularity penalised by ``beta``."""

    name = "rp3beta"

    def __init__(self, k: int = 100, alpha: float = 1.0, beta: float = 0.5, binary: bool = True) -> None:
        Recommender.__init__(self, k=k, alpha=alpha, beta=beta, binary=binary)

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        Xb = data.matrix(binary=True)
        deg_u = np.maximum(np.asarray(Xb.sum(axis=1)).ravel(), 1.0)
        deg_i = np.maximum(np.asarray(Xb.sum(axis=0)).ravel(), 1.0)
        a = self.params["alpha"]
        Pui = sp.diags(1.0 / deg_u) @ Xb
        Piu = sp.diags(1.0 / deg_i) @ Xb.T
        if a != 1.0:
            Pui, Piu = Pui.power(a), Piu.power(a)
        Pui = Pui.tocsc()
        penalty = np.power(deg_i, self.params["beta"]).astype(np.float32)

        def block(a: int, b: int) -> np.ndarray:
            W = (Piu @ Pui[:, a:b]).toarray().astype(np.float32)
            W /= penalty[None, a:b]
            return _zero_diagonal(W, a)

        self.S = _top_k_columns(block, Xb.shape[1], int(self.params["k"]))
