"""The one base class every model implements.

Required from a subclass: ``_fit(X)``, ``_score_rows(rows, users)`` and the two persistence hooks
``_arrays()`` / ``_set_arrays(arrays)``. The base adds raw-id handling, ``recommend``, fold-in,
candidate filtering and save/load (npz + JSON; never pickle).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.errors import DataError, NotFoundError

History = Sequence[tuple[object, float]] | Sequence[object]


class Recommender:
    """Base recommender over an ``Interactions`` object. Scores are "higher is better"."""

    name: ClassVar[str] = "base"
    # Models that learn from events refuse to fit on none; content (the catalog's texts) can serve a
    # shop with no history yet.
    needs_events: ClassVar[bool] = True

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = dict(params)
        self.data: Interactions | None = None
        self.X: sp.csr_matrix | None = None  # fit-time user x item weights
        self._seqs: list[np.ndarray] | None = None

    # ---- subclass hooks -----------------------------------------------------------------
    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        raise NotImplementedError

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        """Scores (len(rows), n_items) from history rows; ``users`` are fit-time indices or None
        for folded-in users (models with learned user state use it when given); ``seqs`` are the
        same histories as item indices in time order (for sequence-aware models)."""
        raise NotImplementedError

    def _arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        pass

    # ---- public surface -----------------------------------------------------------------
    def fit(self, data: Interactions) -> Self:
        if data.nnz == 0 and self.needs_events:
            raise DataError(f"{self.name}: cannot fit on empty interactions: pass at least one event")
        self.data = data
        self.X = data.matrix()
        self._seqs = None
        self._fit(self.X, data)
        return self

    def _check(self) -> tuple[Interactions, sp.csr_matrix]:
        if self.data is None or self.X is None:
            raise DataError(f"{self.name} is not fitted: call fit(interactions) or load(dir) first")
        return self.data, self.X

    @property
    def n_items(self) -> int:
        return self._check()[0].n_items

    def score(self, users: np.ndarray, history: Interactions | None = None) -> np.ndarray:
        """Scores for fit-time user indices. ``history`` (same id maps) overrides the fit-time
        history, e.g. train + valid events at test time, without refitting."""
        data, X = self._check()
        users = np.asarray(users, dtype=np.int64)
        if history is None:
            if self._seqs is None:
                self._seqs = data.sequences()
            rows, all_seqs = take_rows(X, users), self._seqs
        else:
            rows, all_seqs = history.shared_matrix()[users], history.shared_sequences()
        return np.asarray(self._score_rows(rows, users, [all_seqs[u] for u in users]), dtype=np.float32)

    def history_row(self, history: History) -> tuple[sp.csr_matrix, np.ndarray]:
        """A (1, n_items) row from raw ``[(item_id, weight), ...]`` or ``[item_id, ...]`` in time order.
        Unknown items are skipped (a catalog may be newer than the model); later events win ties."""
        data, _ = self._check()
        lookup = data.item_index()
        cols, vals = [], []
        for ev in history:
            item, w = ev if isinstance(ev, tuple) else (ev, 1.0)
            j = lookup.get(str(item))
            if j is not None:
                cols.append(j)
                vals.append(float(w))
        row = sp.csr_matrix(
            (np.asarray(vals, np.float32), (np.zeros(len(cols), int), cols)), shape=(1, data.n_items)
        )
        row.sum_duplicates()
        return row, np.asarray(cols, np.int64)

    def fold_in(self, history: History) -> tuple[sp.csr_matrix, np.ndarray]:
        """State for a user unseen at fit time: the history row and its time order. Models map it
        to their space inside ``_score_rows`` (ALS solves its least-squares step, NeuMF optimises
        a fresh embedding), so no refit is needed."""
        return self.history_row(history)

    def score_history(self, history: History) -> np.ndarray:
        return self._score_state(self.fold_in(history))

    def _score_state(self, state: tuple[sp.csr_matrix, np.ndarray]) -> np.ndarray:
        return np.asarray(self._score_rows(state[0], None, [state[1]])[0], np.float32)

    def recommend(
        self, user: object, k: int = 10, exclude_seen: bool = True, candidates: Iterable[object] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k raw item ids and scores for a fit-time user (raw id)."""
        data, X = self._check()
        u = data.uidx(user)
        scores = self.score(np.array([u]))[0]
        seen = X[u].indices if exclude_seen else np.empty(0, np.int64)
        return self._top(scores, k, seen, candidates)

    def recommend_for_history(
        self,
        history: History,
        k: int = 10,
        exclude_seen: bool = True,
        candidates: Iterable[object] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        state = self.fold_in(history)
        scores = self._score_state(state)
        row = state[0]
        return self._top(scores, k, row.indices if exclude_seen else np.empty(0, np.int64), candidates)

    def _top(
        self, scores: np.ndarray, k: int, seen: np.ndarray, candidates: Iterable[object] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        data, _ = self._check()
        scores = scores.astype(np.float64, copy=True)
        if candidates is not None:
            lookup = data.item_index()
            allowed = np.zeros(data.n_items, bool)
            idx = [lookup[str(c)] for c in candidates if str(c) in lookup]
            allowed[idx] = True
            scores[~allowed] = -np.inf
        scores[seen] = -np.inf
        return top_k(scores, k, data.item_ids)

    # ---- persistence --------------------------------------------------------------------
    def save(self, path: Path | str) -> None:
        data, _ = self._check()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        data.save(path)
        (path / "model.json").write_text(json.dumps({"model": self.name, "params": self.params}))
        arrays = self._arrays()
        # allow_pickle is savez's default, spelled out so that mypy does not match **arrays against it
        np.savez(path / "arrays.npz", allow_pickle=True, **arrays)

    @classmethod
    def load(cls, path: Path | str) -> Self:
        """Load a model of this class; ``recommender.models.load_model`` loads any saved model."""
        path = Path(path)
        meta = saved_meta(path)
        if meta["model"] != cls.name:
            raise DataError(
                f"{path} holds a {meta['model']!r} model, not {cls.name!r}: "
                "load it with recommender.models.load_model(path)"
            )
        model = cls(**meta["params"])
        model.data = Interactions.load(path)
        model.X = model.data.matrix()
        with np.load(path / "arrays.npz", allow_pickle=False) as z:
            model._set_arrays({k: z[k] for k in z.files})
        model._after_load(path)
        return model

    def _after_load(self, path: Path) -> None:
        """Hook for models with extra files (NeuMF's safetensors)."""


def saved_meta(path: Path) -> dict[str, Any]:
    """The ``model.json`` of a saved model: its registry name and its parameters."""
    meta_file = path / "model.json"
    if not meta_file.is_file():
        raise NotFoundError(f"no saved model in {path}: run fit(...).save({str(path)!r}) first")
    meta: dict[str, Any] = json.loads(meta_file.read_text())
    return meta


def take_rows(X: sp.csr_matrix, users: np.ndarray) -> sp.csr_matrix:
    """``X[users]``; one user (a ``recommend`` request) is sliced from the CSR arrays directly,
    which skips scipy's fancy-indexing machinery (most of a request's fixed cost)."""
    if len(users) != 1:
        return X[users]
    lo, hi = X.indptr[users[0]], X.indptr[users[0] + 1]
    return sp.csr_matrix(
        (X.data[lo:hi], X.indices[lo:hi], np.array([0, hi - lo], dtype=X.indptr.dtype)), shape=(1, X.shape[1])
    )


def top_k(scores: np.ndarray, k: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    valid = np.flatnonzero(np.isfinite(scores))
    k = min(k, len(valid))
    if k <= 0:
        return ids[:0], np.zeros(0, np.float32)
    part = valid[np.argpartition(-scores[valid], k - 1)[:k]]
    part = part[np.argsort(-scores[part], kind="stable")]
    return ids[part], scores[part].astype(np.float32)


def csr_to_arrays(prefix: str, m: sp.csr_matrix) -> dict[str, np.ndarray]:
    return {
        f"{prefix}_data": m.data,
        f"{prefix}_indices": m.indices,
        f"{prefix}_indptr": m.indptr,
        f"{prefix}_shape": np.asarray(m.shape),
    }


def csr_from_arrays(prefix: str, a: dict[str, np.ndarray]) -> sp.csr_matrix:
    return sp.csr_matrix(
        (a[f"{prefix}_data"], a[f"{prefix}_indices"], a[f"{prefix}_indptr"]),
        shape=tuple(a[f"{prefix}_shape"]),
    )
