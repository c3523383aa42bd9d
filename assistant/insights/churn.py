"""Churn risk: gradient boosting over the activity features, validated on a later time window.

Protocol (``time_split``): with a test cutoff T and a horizon H, the model is fitted on features at
T - H labelled by activity in [T - H, T), and tested on features at T labelled by [T, T + H). Its
hyper-parameters are chosen one window earlier still (fit at T - 2H, validate at T - H), so the test
window is read once, for the figures. The baseline ranks by recency alone (a logistic fit on the
days since last activity), the standard heuristic a churn model has to beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.insights.activity import FEATURES, LABELS, Activity, FeatureTable, churned, features

GRID = [
    {"max_depth": d, "learning_rate": lr, "n_estimators": n}
    for d in (2, 3)
    for lr in (0.05, 0.1)
    for n in (100, 200)
]


def auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(set(y.tolist())) == 2 else float("nan")


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Brier score, expected calibration error and the reliability curve (equal-width bins)."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    curve, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            curve.append({"predicted": float(p[m].mean()), "observed": float(y[m].mean()), "n": int(m.sum())})
            ece += m.mean() * abs(float(p[m].mean()) - float(y[m].mean()))
    return {"brier": float(np.mean((p - y) ** 2)), "ece": float(ece), "curve": curve}


@dataclass
class ChurnModel:
    params: dict[str, Any]
    model: Any = None
    typical: np.ndarray = field(default_factory=lambda: np.zeros(len(FEATURES)))  # retained medians

    def fit(self, X: np.ndarray, y: np.ndarray, seed: int = 0) -> ChurnModel:
        # The classic single-threaded implementation: on a few thousand customers it is as fast as the
        # histogram one and does not spin OpenMP threads on a shared 2-core machine.
        from sklearn.ensemble import GradientBoostingClassifier

        self.model = GradientBoostingClassifier(random_state=seed, **self.params).fit(X, y)
        kept = X[y == 0] if (y == 0).any() else X
        self.typical = np.median(kept, axis=0)
        return self

    def risk(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict_proba(X)[:, 1])

    def reasons(self, x: np.ndarray, top: int = 3) -> list[str]:
        """The features that raise this customer's risk most: the risk drop when one is set to the
        typical retained customer's value, largest first (only those that lower it)."""
        base = float(self.risk(x[None])[0])
        trials = np.repeat(x[None], len(FEATURES), axis=0)
        trials[np.arange(len(FEATURES)), np.arange(len(FEATURES))] = self.typical
        drops = base - self.risk(trials)
        order = [int(i) for i in np.argsort(-drops) if drops[i] > 0.01][:top]
        return [f"{LABELS[FEATURES[i]]} {_fmt(x[i])} (typical {_fmt(self.typical[i])})" for i in order]


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:.2f}"


def select(
    train: tuple[np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray],
    seed: int = 0,
    grid: Sequence[dict[str, Any]] = GRID,
) -> dict[str, Any]:
    """The grid point with the best validation AUC."""
    scored = [
        (auc(valid[1], ChurnModel(p).fit(*train, seed=seed).risk(valid[0])), i) for i, p in enumerate(grid)
    ]
    return dict(grid[max(scored)[1]])


def _xy(
    acts: Sequence[Activity], cutoff: float, window: float, horizon: float
) -> tuple[FeatureTable, np.ndarray]:
    table = features(acts, cutoff, window)
    return table, churned(acts, table.customers, cutoff, horizon)


def recency_baseline(train: tuple[np.ndarray, np.ndarray], X_test: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    col = FEATURES.index("recency_days")
    lr = LogisticRegression().fit(np.log1p(train[0][:, [col]]), train[1])
    return np.asarray(lr.predict_proba(np.log1p(X_test[:, [col]]))[:, 1])


def time_split(
    acts: Sequence[Activity],
    test_cutoff: float,
    window: float,
    horizon: float,
    seed: int = 0,
    grid: Sequence[dict[str, Any]] = GRID,
) -> dict[str, Any]:
    """Fit, select and test as in the module docstring; returns the figures and the fitted model."""
    _, y_v = va = _xy(acts, test_cutoff - horizon, window, horizon)
    tr = _xy(acts, test_cutoff - 2 * horizon, window, horizon)
    te = _xy(acts, test_cutoff, window, horizon)
    params = select((tr[0].X, tr[1]), (va[0].X, y_v), seed, grid)
    model = ChurnModel(params).fit(va[0].X, y_v, seed=seed)  # the window just before the test
    p = model.risk(te[0].X)
    base = recency_baseline((va[0].X, y_v), te[0].X)
    y = te[1]
    return {
        "params": params,
        "n": {"select": len(tr[1]), "train": len(y_v), "test": len(y)},
        "churn_rate": {"train": float(y_v.mean()), "test": float(y.mean())},
        "model": {"auc": auc(y, p), **calibration(y, p)},
        "recency_only": {"auc": auc(y, base), **calibration(y, base)},
        "fitted": model,
    }
