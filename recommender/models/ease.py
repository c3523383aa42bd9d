"""EASE (Steck 2019): a closed-form item-item model, B = I - P / diag(P) with P = (X'X + Lambda)^-1."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.base import Recommender
from recommender.data import Interactions

# Up to this many items the inverse is the plain LU one (3 float64 copies of the Gram matrix, under
# 0.6 GB); above it the Gram matrix is inverted in place by Cholesky and B is written row block by
# row block, so the peak is one float64 and one float32 items x items matrix (2.7 GB at 15,000).
SMALL = 5000


def _weights_in_place(G: np.ndarray) -> np.ndarray:
    """B = -P / diag(P) with a zero diagonal, P = G^-1, for a symmetric positive definite G that
    is overwritten (LAPACK potrf + potri on its Fortran-ordered view: the upper triangle of P)."""
    from scipy.linalg import lapack

    F = G.T  # G is symmetric: its transpose is the same matrix, Fortran-contiguous without a copy
    c, info = lapack.dpotrf(F, lower=0, overwrite_a=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE: Gram matrix not positive definite (potrf info {info})")
    P, info = lapack.dpotri(c, lower=0, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE: inversion failed (potri info {info})")
    n = len(P)
    d = np.diag(P).copy()
    B = np.empty((n, n), np.float32)
    step = max(1, (1 << 24) // n)
    for a in range(0, n, step):
        b = min(n, a + step)
        # rows a..b-1 of the symmetric P: upper triangle (j >= i) from P's rows, the rest from its columns
        upper, lower = P[a:b, :], P[:, a:b].T
        j = np.arange(n)[None, :]
        i = np.arange(a, b)[:, None]
        rows = np.where(j >= i, upper, lower)
        B[a:b] = -rows / d[None, :]
        B[np.arange(a, b), np.arange(a, b)] = 0.0
    return B


class EASE(Recommender):
    name = "ease"

    def __init__(
        self, l2: float = 250.0, binary: bool = True, dropout: float = 0.0, power: float = 1.0
    ) -> None:
        # dropout > 0: the emphasised-denoising variant (Steck 2020, "EDLAE"/DLAE): an extra
        # per-item penalty p/(1-p) * G_ii, i.e. stronger regularisation of popular items.
        # binary=False uses the event weights (e.g. ratings) raised to ``power`` as confidences,
        # both in the Gram matrix and in the history a user is scored from.
        super().__init__(l2=l2, binary=binary, dropout=dropout, power=power)

    def _weights(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        rows = sp.csr_matrix(rows, dtype=np.float64, copy=True)
        if self.params["binary"]:
            rows.data[:] = 1.0
        elif self.params.get("power", 1.0) != 1.0:
            rows.data = np.power(rows.data, float(self.params["power"]))
        return rows

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        Xw = self._weights(X)
        G = (Xw.T @ Xw).toarray()
        p = float(self.params.get("dropout", 0.0))
        G[np.diag_indices_from(G)] += self.params["l2"] + p / (1.0 - p) * np.diag(G)
        if len(G) <= SMALL:
            P = np.linalg.inv(G)
            B = -P / np.diag(P)
            B[np.diag_indices_from(B)] = 0.0
            self.B = B.astype(np.float32)
        else:
            self.B = _weights_in_place(G)

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        return np.asarray(self._weights(rows).astype(np.float32) @ self.B)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"B": self.B}

    def _set_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.B = a["B"]
