"""EASE (Steck 2019): a closed-form item-item model, B = I - P / diag(P) with P = (X'X + Lambda)^-1."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.base import Recommender
from recommender.data import Interactions


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
        P = np.linalg.inv(G)
        B = -P / np.diag(P)
        B[np.diag_indices_from(B)] = 0.0
        self.B = B.astype(np.float32)

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        return np.asarray(self._weights(rows).astype(np.float32) @ self.B)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"B": self.B}

    def _set_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.B = a["B"]
