"""EASE (Steck 2019): a closed-form item-item model, B = I - P / diag(P) with P = (X'X + Lambda)^-1."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.base import Recommender
from recommender.data import Interactions


class EASE(Recommender):
    name = "ease"

    def __init__(self, l2: float = 250.0, binary: bool = True, dropout: float = 0.0) -> None:
        # dropout > 0: the emphasised-denoising variant (Steck 2020, "EDLAE"/DLAE): an extra
        # per-item penalty p/(1-p) * G_ii, i.e. stronger regularisation of popular items.
        super().__init__(l2=l2, binary=binary, dropout=dropout)

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        Xb = data.matrix(binary=True) if self.params["binary"] else X
        G = (Xb.T @ Xb).toarray().astype(np.float64)
        p = float(self.params.get("dropout", 0.0))
        G[np.diag_indices_from(G)] += self.params["l2"] + p / (1.0 - p) * np.diag(G)
        P = np.linalg.inv(G)
        B = -P / np.diag(P)
        B[np.diag_indices_from(B)] = 0.0
        self.B = B.astype(np.float32)

    def _score_rows(self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]) -> np.ndarray:
        if self.params["binary"]:
            rows = rows.copy()
            rows.data[:] = 1.0
        return np.asarray(rows @ self.B)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"B": self.B}

    def _set_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.B = a["B"]
