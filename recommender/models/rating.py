"""Rating prediction (for RMSE / MAE): global mean + user and item biases + a low-rank residual,
fitted by alternating ridge regressions on the observed ratings only (explicit feedback).

This is not a ``Recommender`` (ranking by predicted rating is a poor top-k ranker); it reads the
event weights of an ``Interactions`` as ratings, e.g. ml-100k's 1-5 stars.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.errors import DataError


class BiasedMF:
    """r_ui ~ mu + b_u + b_i + p_u . q_i; ``factors=0`` is the bias-only baseline."""

    def __init__(
        self, factors: int = 10, reg: float = 10.0, bias_reg: float = 5.0, iterations: int = 10, seed: int = 0
    ) -> None:
        self.params: dict[str, float] = {
            "factors": factors,
            "reg": reg,
            "bias_reg": bias_reg,
            "iterations": iterations,
        }
        self.seed = seed

    def fit(self, data: Interactions) -> BiasedMF:
        if data.nnz == 0:
            raise DataError("BiasedMF: cannot fit on empty interactions: pass rated events")
        p = self.params
        r = data.weights.astype(np.float64)
        rows, cols = data.rows.astype(np.int64), data.cols.astype(np.int64)
        n_u, n_i = data.n_users, data.n_items
        self.mu, self.lo, self.hi = float(r.mean()), float(r.min()), float(r.max())
        self.bu, self.bi = np.zeros(n_u), np.zeros(n_i)
        for _ in range(5):  # biases by alternating ridge means
            res = r - self.mu - self.bi[cols]
            self.bu = np.bincount(rows, res, n_u) / (np.bincount(rows, minlength=n_u) + p["bias_reg"])
            res = r - self.mu - self.bu[rows]
            self.bi = np.bincount(cols, res, n_i) / (np.bincount(cols, minlength=n_i) + p["bias_reg"])
        f = int(p["factors"])
        rng = np.random.default_rng(self.seed)
        self.P, self.Q = rng.normal(0, 0.1, (n_u, f)), rng.normal(0, 0.1, (n_i, f))
        if f:
            res = r - self.mu - self.bu[rows] - self.bi[cols]
            R = sp.csr_matrix((res, (rows, cols)), shape=(n_u, n_i))
            RT = R.T.tocsr()
            for _ in range(int(p["iterations"])):
                self.P = _ridge(R, self.Q, p["reg"])
                self.Q = _ridge(RT, self.P, p["reg"])
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted ratings for index pairs, clipped to the range seen in training."""
        if not hasattr(self, "mu"):
            raise DataError("BiasedMF is not fitted: call fit(interactions) first")
        users, items = np.asarray(users, np.int64), np.asarray(items, np.int64)
        pred = self.mu + self.bu[users] + self.bi[items] + np.einsum("nf,nf->n", self.P[users], self.Q[items])
        return np.asarray(np.clip(pred, self.lo, self.hi))


def _ridge(R: sp.csr_matrix, Y: np.ndarray, reg: float) -> np.ndarray:
    """Each row's least-squares factors on its observed entries only."""
    f = Y.shape[1]
    out = np.zeros((R.shape[0], f))
    eye = reg * np.eye(f)
    for u in range(R.shape[0]):
        lo, hi = R.indptr[u], R.indptr[u + 1]
        if lo == hi:
            continue
        Yu = Y[R.indices[lo:hi]]
        out[u] = np.linalg.solve(Yu.T @ Yu + eye, Yu.T @ R.data[lo:hi])
    return out
