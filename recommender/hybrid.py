"""Hybrid: a weighted blend of per-user z-normalised model scores, weights learned on VALIDATION.

- ``Hybrid.fit(train, valid)`` fits every component on train and learns the blend weights by
  coordinate search on valid NDCG@10 (train items masked). It never receives test data.
- Cold start: a user with no history gets popularity; items with no training events (cold
  items) get CF scores near the bottom, so content carries them: the content model's weight plus
  an extra "content_cold" weight for those items, both learned on valid like the others.
- Conversational constraints: ``candidates`` is a hard filter, ``boosts`` {item_id: bonus} are
  added to the normalised score (one unit = one standard deviation of the blend).
- ``explain`` returns the evidence behind a recommendation as short sentences.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from recommender.base import History, Recommender, top_k
from recommender.batching import sample_cap, sample_users
from recommender.candidates import COMPACT_CELLS, compact
from recommender.data import Interactions
from recommender.errors import DataError, NotFoundError
from recommender.features import features, zscore
from recommender.metrics import ranking_metrics
from recommender.models import load_model

COLD = "content_cold"  # pseudo-component: content scores on items with no training events
WEIGHT_GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0)


class Hybrid:
    _cold: np.ndarray  # cold-item mask, built lazily by _cold_items()

    def __init__(
        self,
        models: Mapping[str, Recommender],
        weights: Mapping[str, float] | None = None,
        item_names: Mapping[str, str] | None = None,
        max_valid_users: int = 3000,
    ) -> None:
        if not models:
            raise DataError("Hybrid needs at least one component model")
        self.models = dict(models)
        self.weights = dict(weights) if weights else {n: 1.0 for n in self.models}
        self.item_names = dict(item_names or {})
        self.max_valid_users = max_valid_users
        self.valid_ndcg: float | None = None
        # Optional learning-to-rank stacker (recommender.stacker), set only where it beat the
        # linear blend on out-of-fold valid; it reads every model in ``stack_models``.
        self.stacker: Any = None
        self.stack_models: list[str] = []
        self.stack_n_cand = 50
        self.stack_report: dict[str, Any] | None = None
        self._counts: tuple[Any, np.ndarray] | None = (
            None  # (fitted matrix, users per item), see _item_counts
        )

    def use_stacker(
        self, stacker: Any, models: list[str], n_cand: int, report: dict[str, Any] | None = None
    ) -> None:
        self.stacker, self.stack_models, self.stack_n_cand = stacker, list(models), n_cand
        self.stack_report = report

    # ---- fitting (train + valid only) -----------------------------------------------------
    def fit(self, train: Interactions, valid: Interactions | None = None) -> Hybrid:
        for m in self.models.values():
            if m.data is not train:
                m.fit(train)
        if valid is not None:
            self.learn_weights(train, valid)
        return self

    def learn_weights(
        self,
        train: Interactions,
        valid: Interactions,
        passes: int = 2,
        seed: int = 0,
        prune_tol: float = 0.001,
    ) -> dict[str, float]:
        Z, pos, mask = self._search_inputs(train, valid, seed)
        solo = {n: ranking_metrics(z, pos, mask)["ndcg@10"] for n, z in Z.items() if n != COLD}
        w = {n: 0.0 for n in Z}
        best_name = max(solo, key=solo.__getitem__)
        w[best_name] = 1.0
        best = solo[best_name]

        def blend(weights: dict[str, float]) -> np.ndarray:
            return sum((weights[n] * Z[n] for n in Z if weights[n]), np.zeros_like(Z[best_name]))

        for _ in range(passes):
            for n in Z:
                if n == best_name:
                    continue
                for val in WEIGHT_GRID:
                    trial = {**w, n: val}
                    score = ranking_metrics(blend(trial), pos, mask)["ndcg@10"]
                    if score > best + 1e-6:
                        best, w = score, trial
        # Occam pass: drop components whose removal costs less than `prune_tol` valid NDCG. Fewer
        # components mean faster requests and fewer weights fitted to valid noise.
        for n in sorted((n for n in w if w[n] and n != best_name), key=lambda n: w[n]):
            trial = {**w, n: 0.0}
            score = ranking_metrics(blend(trial), pos, mask)["ndcg@10"]
            if score >= best - prune_tol:
                w = trial
        self.weights = w
        self.valid_ndcg = ranking_metrics(blend(w), pos, mask)["ndcg@10"]
        return w

    def _search_inputs(
        self, train: Interactions, valid: Interactions, seed: int
    ) -> tuple[dict[str, np.ndarray], sp.csr_matrix, sp.csr_matrix | None]:
        """Per-model z-scores, positives and mask of a fixed-seed sample of valid users. Dense on
        a small catalog (exact); on a large one the users' candidate sets (``candidates``)."""
        users = np.unique(valid.rows)
        n_items = train.n_items
        large = min(len(users), self.max_valid_users) * n_items > COMPACT_CELLS
        cap = (
            self.max_valid_users if large else sample_cap(self.max_valid_users, n_items, len(self.models) + 4)
        )
        users = sample_users(users, cap, seed)
        pos, mask = valid.shared_matrix()[users], train.shared_matrix()[users]
        cold = self._cold_items()
        if large:
            Z, pos, C = compact({n: m.score for n, m in self.models.items()}, users, pos, mask, n_items)
            if "content" in Z and cold.any():  # an extra say for content on cold items
                Z[COLD] = Z["content"] * np.where(C >= 0, cold[np.maximum(C, 0)], 0.0).astype(np.float32)
            return Z, pos, None
        Z = {n: zscore(m.score(users)) for n, m in self.models.items()}
        if "content" in Z and cold.any():
            Z[COLD] = Z["content"] * cold  # an extra say for content on cold items
        return Z, pos, mask

    # ---- scoring --------------------------------------------------------------------------
    @property
    def data(self) -> Interactions:
        d = next(iter(self.models.values())).data
        if d is None:
            raise DataError("hybrid is not fitted: call fit(train, valid) or load(dir)")
        return d

    @property
    def X(self) -> sp.csr_matrix:
        X = next(iter(self.models.values())).X
        if X is None:
            raise DataError("hybrid is not fitted: call fit(train, valid) or load(dir)")
        return X

    def _cold_items(self) -> np.ndarray:
        if getattr(self, "_cold", None) is None or len(self._cold) != self.X.shape[1]:
            self._cold = (np.asarray(self.X.sum(axis=0)).ravel() == 0).astype(np.float32)
        return self._cold

    def _combine(self, parts: dict[str, np.ndarray], seen: np.ndarray | None = None) -> np.ndarray:
        Z = {n: zscore(s) for n, s in parts.items()}
        out = self._combine_linear(Z)
        if self.stacker is not None and seen is not None:
            out = self._restack(Z, out, seen)
        return out

    def _restack(self, Z: dict[str, np.ndarray], linear: np.ndarray, seen: np.ndarray) -> np.ndarray:
        """Stacker re-ranking: its candidates (union of each model's top items) are scored by the
        learned ranker and placed above every other item, which keeps its linear-blend order."""
        F, ui, ii = features(
            {n: Z[n] for n in self.stack_models},
            seen,
            self._item_counts(),
            seen.sum(axis=1),
            self.stack_n_cand,
        )
        out = np.asarray(linear - (np.abs(linear).max() + 1e3))
        out[ui, ii] = 10.0 * np.asarray(self.stacker.predict_proba(F)[:, 1], np.float32)
        return out

    def _item_counts(self) -> np.ndarray:
        """Users per item in the fitted matrix (a stacker feature), built once per matrix, not per request."""
        if self._counts is None or self._counts[0] is not self.X:
            self._counts = (self.X, np.asarray((self.X > 0).sum(axis=0)).ravel())
        return self._counts[1]

    def _combine_linear(self, Z: dict[str, np.ndarray]) -> np.ndarray:
        out = sum(
            (self.weights[n] * z for n, z in Z.items() if self.weights.get(n)),
            np.zeros_like(next(iter(Z.values())), dtype=np.float32),
        )
        if self.weights.get(COLD) and "content" in Z:
            out = out + self.weights[COLD] * Z["content"] * self._cold_items()
        return out

    def score(self, users: np.ndarray, history: Interactions | None = None) -> np.ndarray:
        seen = None
        if self.stacker is not None:
            src = self.X if history is None else history.shared_matrix()
            seen = src[np.asarray(users)].toarray() > 0
        return self._combine({n: m.score(users, history) for n, m in self._active().items()}, seen)

    def score_history(self, history: History) -> np.ndarray:
        if len(history) == 0:
            return self._cold_user_scores()
        seen = None
        if self.stacker is not None:
            seen = np.zeros((1, self.data.n_items), bool)
            seen[0, self._history_items(history)] = True
        parts = {n: m.score_history(history)[None] for n, m in self._active().items()}
        return np.asarray(self._combine(parts, seen)[0])

    def _active(self) -> dict[str, Recommender]:
        active = {n: m for n, m in self.models.items() if self.weights.get(n) or n in self.stack_models}
        if "content" in self.models and self.weights.get(COLD):
            active["content"] = self.models["content"]  # needed for cold items
        return active

    def _cold_user_scores(self) -> np.ndarray:
        counts = np.bincount(self.data.cols, minlength=self.data.n_items).astype(np.float32)
        return np.asarray(zscore(np.log1p(counts)[None])[0])

    def recommend(
        self,
        user: object,
        k: int = 10,
        exclude_seen: bool = True,
        candidates: Iterable[object] | None = None,
        boosts: Mapping[Any, float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        data = self.data
        u = data.uidx(user)
        scores = self.score(np.array([u]))[0]
        seen = self.X[u].indices if exclude_seen else np.empty(0, np.int64)
        return self._top(scores, k, seen, candidates, boosts)

    def recommend_for_history(
        self,
        history: History,
        k: int = 10,
        candidates: Iterable[object] | None = None,
        boosts: Mapping[Any, float] | None = None,
        exclude_seen: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fold-in path for a user unseen at fit time (or a chat session's events)."""
        scores = self.score_history(history)
        seen = self._history_items(history) if exclude_seen else np.empty(0, np.int64)
        return self._top(scores, k, seen, candidates, boosts)

    def _history_items(self, history: History) -> np.ndarray:
        """Indices of the known items in a history (unknown ids are skipped, as in fold-in)."""
        lookup = self.data.item_index()
        return np.asarray([i for e in history if (i := lookup.get(str(_item(e)))) is not None], np.int64)

    def _top(
        self,
        scores: np.ndarray,
        k: int,
        seen: np.ndarray,
        candidates: Iterable[object] | None,
        boosts: Mapping[Any, float] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        data = self.data
        lookup = data.item_index()
        scores = scores.astype(np.float64, copy=True)
        for item, bonus in (boosts or {}).items():
            j = lookup.get(str(item))
            if j is not None:
                scores[j] += float(bonus)
        if candidates is not None:
            allowed = np.zeros(data.n_items, bool)
            allowed[[lookup[str(c)] for c in candidates if str(c) in lookup]] = True
            scores[~allowed] = -np.inf
        scores[seen] = -np.inf
        return top_k(scores, k, data.item_ids)

    # ---- explanations ----------------------------------------------------------------------
    def explain(self, user_or_history: object | History, item: object, max_reasons: int = 3) -> list[str]:
        data = self.data
        lookup = data.item_index()
        j = lookup.get(str(item))
        if j is None:
            raise NotFoundError(f"unknown item {item!r}: it is not in the fitted catalog")
        if isinstance(user_or_history, list | tuple):
            hist = [lookup[str(_item(e))] for e in user_or_history if str(_item(e)) in lookup]
        else:
            u = data.uidx(user_or_history)
            hist = data.sequences()[u].tolist()

        def name(i: int) -> str:
            return self.item_names.get(str(data.item_ids[i]), str(data.item_ids[i]))

        reasons: list[str] = []
        if j in hist:
            reasons.append(f"you chose {name(j)} before")
        seq = self.models.get("sequential")
        if seq is not None and hist:
            last = hist[-1]
            if seq.T[last, j] > 0:  # type: ignore[attr-defined]
                reasons.append(f"often chosen right after {name(last)}")
        knn = self.models.get("itemknn")
        if knn is not None and hist:
            sims = np.asarray(knn.S[hist][:, j].toarray()).ravel()  # type: ignore[attr-defined]
            for h in np.argsort(-sims)[:2]:
                if sims[h] > 0:
                    reasons.append(f"people who chose {name(hist[h])} also chose this")
        content = self.models.get("content")
        if content is not None and hist:
            E = content.E  # type: ignore[attr-defined]
            sims = E[hist] @ E[j]
            h = int(np.argmax(sims))
            if sims[h] > 0.5 and hist[h] != j:
                reasons.append(f"similar to {name(hist[h])}")
        counts = np.bincount(data.cols, minlength=data.n_items)
        if counts[j] > 0 and counts[j] >= np.quantile(counts, 0.9):
            reasons.append(f"popular: chosen by {int(counts[j])} shoppers")
        if not reasons:
            reasons.append(
                "new to you and close to your recent activity" if hist else "a popular pick to start with"
            )
        return reasons[:max_reasons]

    # ---- persistence ---------------------------------------------------------------------
    def save(self, path: Path | str) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for n, m in self.models.items():
            m.save(path / n)
        (path / "hybrid.json").write_text(
            json.dumps(
                {
                    "weights": self.weights,
                    "item_names": self.item_names,
                    "valid_ndcg": self.valid_ndcg,
                    "stack_models": self.stack_models,
                    "stack_n_cand": self.stack_n_cand,
                }
            )
        )
        if self.stacker is not None:  # skops, not pickle: loading never runs code from the file
            import skops.io as sio

            sio.dump(self.stacker, path / "stacker.skops")

    @classmethod
    def load(cls, path: Path | str) -> Hybrid:
        path = Path(path)
        if not (path / "hybrid.json").is_file():
            raise NotFoundError(f"no saved hybrid in {path}: run `aisle train recsys` first")
        meta = json.loads((path / "hybrid.json").read_text())
        names = set(meta["weights"]) | set(meta.get("stack_models", []))
        models = {n: load_model(path / n) for n in names if n != COLD}
        shared = next(iter(models.values())).data
        for m in models.values():  # one id map in memory, and `m.data is train` checks stay true
            m.data = shared
        h = cls(models, meta["weights"], meta.get("item_names"))
        h.valid_ndcg = meta.get("valid_ndcg")
        if (path / "stacker.skops").is_file():
            h.use_stacker(
                _load_stacker(path / "stacker.skops"), meta["stack_models"], int(meta.get("stack_n_cand", 50))
            )
        return h


# The rankers recommender.stacker may choose; anything else in a stacker file is refused.
_STACKER_TYPES = ("sklearn.", "numpy.")


def _load_stacker(file: Path) -> Any:
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=file)
    foreign = [t for t in untrusted if not t.startswith(_STACKER_TYPES)]
    if foreign:
        raise DataError(
            f"{file} holds types a stacker never has ({', '.join(foreign[:5])}); "
            "refit with `aisle train recsys` instead of loading this file"
        )
    return sio.load(file, trusted=untrusted)


def _item(event: object) -> object:
    return event[0] if isinstance(event, tuple) else event
