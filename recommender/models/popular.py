"""Popularity: the number of distinct users per item (true counts, not batches)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.base import Recommender
from recommender.data import Interactions


class Popularity(Recommender):
    name = "popularity"

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        self.counts = np.bincount(X.indices, minlength=X.shape[1]).astype(np.float32)

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        return np.tile(self.counts, (rows.shape[0], 1))

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts}

    def _set_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.counts = a["counts"]
