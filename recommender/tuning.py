"""Model and blend selection. ``Tuner`` is built from train and valid only: it has no way to see
test data, which is how "selection never sees test" is enforced (and tested)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender.base import Recommender
from recommender.data import Interactions
from recommender.hybrid import Hybrid
from recommender.metrics import ranking_metrics, rmse
from recommender.models import make_model
from recommender.models.ncf import NeuMF
from recommender.models.rating import BiasedMF

Grid = Sequence[Mapping[str, Any]]
Log = Callable[[str], None]

# Small grids: the whole benchmark, tuning included, must fit in minutes on 2 shared cores.
DEFAULT_GRIDS: dict[str, Grid] = {
    "popularity": [{}],
    "itemknn": [{"k": k, "shrink": s} for k in (50, 100, 200) for s in (0.0, 10.0, 50.0)],
    "rp3beta": [{"k": 200, "alpha": a, "beta": b} for a in (0.8, 1.0) for b in (0.3, 0.5)],
    "userknn": [{"k": k, "similarity": sim} for k in (50, 100) for sim in ("cosine", "pearson")],
    # binary=False: event weights (ml-100k ratings) as confidences; tried only when weights vary
    "ease": [{"l2": v, "dropout": p} for v in (100.0, 250.0, 500.0, 1000.0) for p in (0.0, 0.25)]
    + [
        {"l2": v, "dropout": p, "binary": False, "power": 0.5}
        for v in (500.0, 1000.0, 2000.0)
        for p in (0.25, 0.5)
    ],
    "als": [{"factors": 64, "reg": r, "alpha": a, "iterations": 10} for r in (0.1, 1.0) for a in (5.0, 20.0)],
    "bpr": [{"factors": 64, "epochs": 30}],
    "svd": [{"factors": f} for f in (16, 32, 64, 128)],
    "sequential": [
        {"window": w, "symmetric": s, "last_n": n} for w in (1, 3) for s in (0.0, 0.5) for n in (1, 5)
    ],
    "content": [{}],
    "neumf": [{}],
}

# Rating prediction (RMSE / MAE), only where event weights are ratings (ml-100k).
RATING_GRID: Grid = [{"factors": 0}] + [{"factors": f, "reg": r} for f in (10, 30) for r in (5.0, 15.0, 30.0)]


@dataclass
class Tuned:
    name: str
    params: dict[str, Any]
    model: Recommender
    valid_ndcg: float
    fit_seconds: float
    tried: list[tuple[dict[str, Any], float]] = field(default_factory=list)


class Tuner:
    """Grid search per model on valid NDCG@10 (full ranking, train items masked), then a blend."""

    def __init__(
        self, train: Interactions, valid: Interactions, *, max_users: int = 3000, seed: int = 0
    ) -> None:
        self.train, self.valid = train, valid
        users = np.unique(valid.rows)
        if len(users) > max_users:
            users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
        self.users = users
        self._pos = valid.matrix()[users]
        self._mask = train.matrix()[users]

    def evaluate(self, model: Recommender) -> float:
        return ranking_metrics(model.score(self.users), self._pos, self._mask)["ndcg@10"]

    def search(
        self, name: str, grid: Grid, extra: Mapping[str, Any] | None = None, log: Log = print
    ) -> Tuned:
        best: Tuned | None = None
        tried: list[tuple[dict[str, Any], float]] = []
        for params in grid:
            model = make_model(name, **{**params, **(extra or {})})
            t0 = time.perf_counter()
            if isinstance(model, NeuMF):
                model.fit(self.train, valid=self.valid)  # early stopping on valid
            else:
                model.fit(self.train)
            fit_s = time.perf_counter() - t0
            ndcg = self.evaluate(model)
            tried.append((dict(params), ndcg))
            log(f"  {name:<11} {dict(params)}  valid ndcg@10={ndcg:.4f}  fit={fit_s:.1f}s")
            if best is None or ndcg > best.valid_ndcg:
                best = Tuned(name, dict(params), model, ndcg, fit_s)
        assert best is not None, "empty grid"
        best.tried = tried
        return best

    def select(
        self,
        grids: Mapping[str, Grid],
        extras: Mapping[str, Mapping[str, Any]] | None = None,
        log: Log = print,
    ) -> dict[str, Tuned]:
        return {name: self.search(name, grid, (extras or {}).get(name), log) for name, grid in grids.items()}

    def select_rating(
        self, grid: Grid = RATING_GRID, log: Log = print
    ) -> tuple[BiasedMF, dict[str, Any], float]:
        """The rating model with the lowest valid RMSE: (model, params, valid RMSE)."""
        best: tuple[BiasedMF, dict[str, Any], float] | None = None
        for params in grid:
            model = BiasedMF(**params).fit(self.train)
            err = rmse(model.predict(self.valid.rows, self.valid.cols), self.valid.weights)
            log(f"  rating      {dict(params)}  valid rmse={err:.4f}")
            if best is None or err < best[2]:
                best = (model, dict(params), err)
        assert best is not None, "empty grid"
        return best

    def blend(
        self,
        tuned: Mapping[str, Tuned],
        item_names: Mapping[str, str] | None = None,
        stack: bool = False,
        n_cand: int = 50,
    ) -> tuple[Hybrid, float]:
        """Hybrid over the tuned models with weights learned on valid; returns it and its blend time.
        ``stack``: also try the learning-to-rank stacker (``recommender.stacker``) and attach it
        only if it beats the linear blend on out-of-fold valid NDCG@10 (K folds over valid users)."""
        t0 = time.perf_counter()
        models = {n: t.model for n, t in tuned.items()}
        hybrid = Hybrid(models, item_names=item_names)
        hybrid.learn_weights(self.train, self.valid)
        if stack:
            from recommender.stacker import compare_on_valid, stack_names

            report = compare_on_valid(models, self.train, self.valid, n_cand=n_cand)
            model = report.pop("model", None)
            hybrid.stack_report = report
            if model is not None:
                hybrid.use_stacker(model, stack_names(models), n_cand, report)
        return hybrid, time.perf_counter() - t0
