"""Matrix factorisation in numpy: implicit ALS (Hu, Koren, Volinsky 2008), BPR (Rendle 2009)
with vectorised mini-batch SGD, and PureSVD (truncated SVD of the interaction matrix)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.base import Recommender
from recommender.data import Interactions


def _ridge_users(rows: sp.csr_matrix, Y: np.ndarray, reg: float, alpha: float) -> np.ndarray:
    """ALS user step for each row: (Y'Y + Y'(C-I)Y + reg I)^-1 Y'C p with c = 1 + alpha * x."""
    f = Y.shape[1]
    YtY = Y.T @ Y + reg * np.eye(f)
    out = np.zeros((rows.shape[0], f))
    for u in range(rows.shape[0]):
        lo, hi = rows.indptr[u], rows.indptr[u + 1]
        if lo == hi:
            continue
        idx, conf = rows.indices[lo:hi], alpha * rows.data[lo:hi]
        Yu = Y[idx]
        A = YtY + (Yu.T * conf) @ Yu
        out[u] = np.linalg.solve(A, Yu.T @ (1.0 + conf))
    return out


class _Factors(Recommender):
    """Shared scoring: user factors (learned, or solved for new histories) dot item factors."""

    # When ``score(users, history)`` overrides the fit-time history (e.g. train + valid at test
    # time), models whose fold-in is exact (PureSVD's projection, ALS's least-squares user step)
    # re-solve the user vectors from that history, as EASE and the kNN models use it; BPR's
    # fold-in is an approximation of its learned vectors, so it keeps them.
    fold_history: bool = True

    def score(self, users: np.ndarray, history: Interactions | None = None) -> np.ndarray:
        if history is None or not self.fold_history:
            return super().score(users, history)
        self._check()
        rows = history.shared_matrix()[np.asarray(users, dtype=np.int64)]
        return np.asarray(self._score_rows(rows, None, []), dtype=np.float32)

    def _fold(self, rows: sp.csr_matrix) -> np.ndarray:
        return _ridge_users(
            _binary(rows), self.V, float(self.params.get("reg", 0.1)), float(self.params.get("alpha", 1.0))
        )

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        U = self.U[users] if users is not None else self._fold(rows)
        return np.asarray(U @ self.V.T)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"U": self.U, "V": self.V}

    def _set_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.U, self.V = a["U"], a["V"]


def _binary(rows: sp.csr_matrix) -> sp.csr_matrix:
    rows = sp.csr_matrix(rows, dtype=np.float64, copy=True)
    rows.data[:] = 1.0
    return rows


class ALS(_Factors):
    name = "als"

    def __init__(
        self, factors: int = 64, reg: float = 0.1, alpha: float = 10.0, iterations: int = 15, seed: int = 0
    ) -> None:
        super().__init__(factors=factors, reg=reg, alpha=alpha, iterations=iterations, seed=seed)

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        p = self.params
        rng = np.random.default_rng(p["seed"])
        Xb = _binary(X)
        XbT = Xb.T.tocsr()
        self.U = rng.normal(0, 0.01, (X.shape[0], p["factors"]))
        self.V = rng.normal(0, 0.01, (X.shape[1], p["factors"]))
        for _ in range(p["iterations"]):
            self.U = _ridge_users(Xb, self.V, p["reg"], p["alpha"])
            self.V = _ridge_users(XbT, self.U, p["reg"], p["alpha"])

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        # A new history is folded in exactly: one ALS user step against the fixed item factors.
        return super()._score_rows(rows, users, seqs)


class BPR(_Factors):
    """Bayesian personalised ranking; new users are folded in with a ridge step on item factors."""

    name = "bpr"
    fold_history = False

    def __init__(
        self,
        factors: int = 64,
        lr: float = 0.05,
        reg: float = 0.001,
        epochs: int = 60,
        batch: int = 1024,
        seed: int = 0,
    ) -> None:
        super().__init__(factors=factors, lr=lr, reg=reg, epochs=epochs, batch=batch, seed=seed)

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        p = self.params
        rng = np.random.default_rng(p["seed"])
        n_u, n_i = X.shape
        U = rng.normal(0, 0.1, (n_u, p["factors"]))
        V = rng.normal(0, 0.1, (n_i, p["factors"]))
        coo = X.tocoo()
        pu, pi = coo.row.astype(np.int64), coo.col.astype(np.int64)
        lr, reg, bs = p["lr"], p["reg"], p["batch"]
        for _ in range(p["epochs"]):
            perm = rng.permutation(len(pu))
            for s in range(0, len(perm), bs):
                b = perm[s : s + bs]
                u, i = pu[b], pi[b]
                j = rng.integers(0, n_i, len(b))
                x = np.einsum("bf,bf->b", U[u], V[i] - V[j])
                g = 1.0 / (1.0 + np.exp(np.clip(x, -30, 30)))  # sigma(-x)
                gu = g[:, None] * (V[i] - V[j]) - reg * U[u]
                gi = g[:, None] * U[u] - reg * V[i]
                gj = -g[:, None] * U[u] - reg * V[j]
                np.add.at(U, u, lr * gu)
                np.add.at(V, i, lr * gi)
                np.add.at(V, j, lr * gj)
        self.U, self.V = U, V

    def _fold(self, rows: sp.csr_matrix) -> np.ndarray:
        return _ridge_users(_binary(rows), self.V, 1.0, 1.0)


class PureSVD(_Factors):
    """Truncated SVD, X ~ U S V'; scores = x V V' (a projection, so fold-in is exact)."""

    name = "svd"

    def __init__(self, factors: int = 64, seed: int = 0) -> None:
        super().__init__(factors=factors, seed=seed)

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        from scipy.sparse.linalg import svds

        Xb = _binary(X)
        k = max(1, min(int(self.params["factors"]), min(Xb.shape) - 1))
        v0 = np.random.default_rng(self.params["seed"]).random(min(Xb.shape))
        _, _, vt = svds(Xb, k=k, v0=v0)
        self.V = vt.T.copy()
        self.U = np.asarray(Xb @ self.V)

    def _fold(self, rows: sp.csr_matrix) -> np.ndarray:
        return np.asarray(_binary(rows) @ self.V)
