"""Model and blend selection. ``Tuner`` is built from train and valid only: it has no way to see
test data, which is how "selection never sees test" is enforced (and tested)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recommender.base import Recommender
from recommender.batching import ranking_batched, sample_users
from recommender.budget import PROBE_MIN_CELLS, Budget, clearly_worse
from recommender.data import Interactions
from recommender.hybrid import Hybrid
from recommender.memory import MemoryTracker
from recommender.metrics import rmse
from recommender.models import make_model
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
    # opt-in (``--models ...,sasrec,multvae``): not in DEFAULT_MODELS, so the default benchmark and
    # its published hybrid figures are unchanged until a run on valid shows what they add
    "sasrec": [{}, {"dropout": 0.5}],
    "multvae": [{}],
}
OPT_IN = ("sasrec", "multvae")
DEFAULT_MODELS: tuple[str, ...] = tuple(m for m in DEFAULT_GRIDS if m not in OPT_IN)

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
    """Grid search per model on valid NDCG@10 (full ranking, train items masked), then a blend.
    Scoring runs in user batches; ``budget_s`` bounds the time spent on configurations beyond each
    model's first (``recommender.budget``)."""

    def __init__(
        self,
        train: Interactions,
        valid: Interactions,
        *,
        max_users: int = 3000,
        seed: int = 0,
        probe_users: int = 500,
        memory: MemoryTracker | None = None,
    ) -> None:
        self.train, self.valid = train, valid
        self.users = sample_users(np.unique(valid.rows), max_users, seed)
        self._pos = valid.shared_matrix()[self.users]
        self._mask = train.shared_matrix()[self.users]
        # probe rung: a fixed subset of the tuning users, used only where evaluation is costly
        n_probe = min(probe_users, len(self.users))
        costly = len(self.users) * train.n_items >= PROBE_MIN_CELLS and n_probe < len(self.users)
        self._probe = (
            np.sort(np.random.default_rng(seed + 1).choice(len(self.users), n_probe, False))
            if costly
            else None
        )
        self.memory = memory or MemoryTracker()
        self.budget = Budget()
        self.fit_seconds: dict[str, float] = {}
        self.eval_seconds: dict[str, float] = {}
        self.tune_seconds: dict[str, float] = {}  # all fits and evaluations of each model

    def per_user(self, model: Recommender, rows: np.ndarray | None = None) -> np.ndarray:
        """Per-user valid NDCG@10 over the tuning users (or the positions ``rows`` of them)."""
        users, pos, mask = self.users, self._pos, self._mask
        if rows is not None:
            users, pos, mask = users[rows], pos[rows], mask[rows]
        return ranking_batched(model.score, users, pos, mask, self.train.n_items)["ndcg@10"]

    def evaluate(self, model: Recommender) -> float:
        per = self.per_user(model)
        return float(np.mean(per)) if len(per) else 0.0

    def _fit(
        self, name: str, params: Mapping[str, Any], extra: Mapping[str, Any] | None
    ) -> tuple[Recommender, float]:
        model = make_model(name, **{**params, **(extra or {})})
        t0 = time.perf_counter()
        with self.memory.stage(f"fit:{name}"):
            if getattr(model, "early_stopping", False):  # NeuMF, SASRec: early stopping on valid
                model.fit(self.train, valid=self.valid)  # type: ignore[call-arg]
            else:
                model.fit(self.train)
        self.budget.tried += 1
        fit_s = time.perf_counter() - t0
        self.tune_seconds[name] = self.tune_seconds.get(name, 0.0) + fit_s
        return model, fit_s

    def search(
        self,
        name: str,
        grid: Grid,
        extra: Mapping[str, Any] | None = None,
        log: Log = print,
        best: Tuned | None = None,
    ) -> Tuned:
        """The best of ``grid`` on valid (continuing from ``best``, a config already tried).
        Configurations the budget cannot afford are skipped; clearly worse ones are discarded
        on the probe users before their full evaluation."""
        tried = list(best.tried) if best else []
        best_probe = self._probe_scores(best.model) if best is not None else None
        for params in grid:
            expected = self.fit_seconds.get(name, 0.0) + self.eval_seconds.get(name, 0.0)
            if best is not None and not self.budget.affords(expected):
                self.budget.skip(name, dict(params), expected)
                log(
                    f"  {name:<11} {dict(params)}  skipped: {expected:.0f}s expected, "
                    f"{self.budget.left():.0f}s left"
                )
                continue
            model, fit_s = self._fit(name, params, extra)
            t0 = time.perf_counter()
            probe = self._probe_scores(model)
            if probe is not None and best_probe is not None and clearly_worse(probe, best_probe):
                self.budget.discard(name, dict(params), float(probe.mean()), float(best_probe.mean()))
                log(
                    f"  {name:<11} {dict(params)}  discarded on probe ndcg@10={probe.mean():.4f}  "
                    f"fit={fit_s:.1f}s"
                )
                self.fit_seconds[name] = fit_s
                continue
            with self.memory.stage(f"fit:{name}"):
                ndcg = self.evaluate(model)
            self.fit_seconds[name], self.eval_seconds[name] = fit_s, time.perf_counter() - t0
            self.tune_seconds[name] += self.eval_seconds[name]
            tried.append((dict(params), ndcg))
            log(f"  {name:<11} {dict(params)}  valid ndcg@10={ndcg:.4f}  fit={fit_s:.1f}s")
            if best is None or ndcg > best.valid_ndcg:
                best, best_probe = Tuned(name, dict(params), model, ndcg, fit_s), probe
            del model
        assert best is not None, "empty grid"
        best.tried = tried
        return best

    def _probe_scores(self, model: Recommender) -> np.ndarray | None:
        return None if self._probe is None else self.per_user(model, self._probe)

    def select(
        self,
        grids: Mapping[str, Grid],
        extras: Mapping[str, Mapping[str, Any]] | None = None,
        log: Log = print,
        budget_s: float | None = None,
    ) -> dict[str, Tuned]:
        """Every model's first config, then the rest, strongest model first, within ``budget_s``
        seconds (None: the whole grid). ``self.budget.report()`` says what was skipped."""
        self.budget = Budget(budget_s)
        extras = extras or {}
        first = {n: self.search(n, list(g)[:1], extras.get(n), log) for n, g in grids.items()}
        order = sorted(first, key=lambda n: -first[n].valid_ndcg) if budget_s is not None else list(first)
        out = dict(first)
        for n in order:
            rest = list(grids[n])[1:]
            if rest:
                out[n] = self.search(n, rest, extras.get(n), log, best=first[n])
        self.budget.stop()
        return {n: out[n] for n in grids}

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
