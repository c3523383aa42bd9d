"""Content-based: item text embeddings from an injected ``embed`` function; a user is the weighted
mean of the embeddings of their history. Items nobody interacted with are scored like any other."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import scipy.sparse as sp

from recommender.base import Recommender
from recommender.data import Interactions
from recommender.errors import DataError

Embed = Callable[[list[str]], np.ndarray]


class Content(Recommender):
    name = "content"
    needs_events = False

    def __init__(
        self,
        embedder: str = "minilm",
        item_text: Mapping[str, str] | None = None,
        embeddings: np.ndarray | None = None,
        embed: Embed | None = None,
    ) -> None:
        # ``embedder`` only names the vectors' source (saved in model.json); texts, vectors and the
        # embed function are data and code, not hyper-parameters, so they stay out of params.
        super().__init__(embedder=embedder)
        self.item_text = item_text
        self.E = embeddings
        self.embed = embed

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        if self.E is None:
            if self.item_text is None or self.embed is None:
                raise DataError(
                    "content model needs embeddings=, or item_text={item_id: text} "
                    "with embed=(a function from a list of texts to a 2-d array)"
                )
            texts = [self.item_text.get(str(i), "") for i in data.item_ids]
            self.E = np.array(self.embed(texts), np.float32)
            self.E[[not t.strip() for t in texts]] = 0.0  # no text: no content signal
        if self.E.shape[0] != data.n_items:
            raise DataError(
                f"embeddings have {self.E.shape[0]} rows for {data.n_items} items: align them with item_ids"
            )
        self.E = np.asarray(self.E, np.float32)

    def profiles(self, rows: sp.csr_matrix) -> np.ndarray:
        P = np.asarray(rows @ self.E)
        P /= np.maximum(np.asarray(rows.sum(axis=1)), 1e-9)
        norm = np.linalg.norm(P, axis=1, keepdims=True)
        return np.asarray(P / np.maximum(norm, 1e-9))

    def _embeddings(self) -> np.ndarray:
        if self.E is None:
            raise DataError("content model is not fitted: call fit(interactions) or load(dir) first")
        return self.E

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        return np.asarray(self.profiles(rows) @ self._embeddings().T)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"E": self._embeddings()}

    def _set_arrays(self, a: dict[str, np.ndarray]) -> None:
        self.E = a["E"]
