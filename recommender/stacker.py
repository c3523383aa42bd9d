"""Learning-to-rank stacker over the tuned models, compared with the linear blend on VALID only.

``Tuner.blend(..., stack=True)`` attaches it to the hybrid only where it beats the linear blend on
out-of-fold valid (on ml-100k it does, on office it does not; see docs/bench/recommender.md). The
valid-only comparison on its own: ``aisle bench stacker --dataset ml-100k``.

For each valid user the candidates are the union of every model's top ``n_cand`` unseen items;
features are each model's per-user z-score and its rank among the candidates, the item's train
popularity and the user's history length; the label is "item is a valid positive". Users are
split into K folds: the stacker (and, for a fair comparison, the blend weights) are learned on
K-1 folds and scored on the held-out one. Nothing here receives the test split.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from recommender.base import Recommender
from recommender.batching import sample_cap, sample_users
from recommender.data import Interactions
from recommender.errors import DataError
from recommender.features import features, zscore
from recommender.hybrid import Hybrid
from recommender.metrics import ranking_metrics

# Pointwise rankers from scikit-learn (no lightgbm dependency); small, regularised configs.
CONFIGS: dict[str, dict[str, Any]] = {
    "logreg": {"kind": "logreg", "C": 0.1},
    "hgb_small": {
        "kind": "hgb",
        "learning_rate": 0.03,
        "max_leaf_nodes": 7,
        "max_iter": 200,
        "min_samples_leaf": 300,
        "l2_regularization": 10.0,
    },
    "hgb_depth3": {"kind": "hgb", "learning_rate": 0.05, "max_depth": 3, "max_iter": 300},
}


def user_subset(data: Interactions, users: np.ndarray) -> Interactions:
    """The rows of ``users`` only, on the same id maps (for per-fold blend weights)."""
    sel = np.isin(data.rows, users)
    return Interactions(
        data.user_ids, data.item_ids, data.rows[sel], data.cols[sel], data.weights[sel], data.timestamps[sel]
    )


def _fit_predict(cfg: Mapping[str, Any], X: np.ndarray, y: np.ndarray, Xt: np.ndarray) -> np.ndarray:
    return np.asarray(_fit(cfg, X, y).predict_proba(Xt)[:, 1])


def stack_names(models: Mapping[str, Recommender]) -> list[str]:
    """The models the stacker reads (content is left out: weak on ml-100k, slow to score)."""
    return sorted(n for n in models if n != "content")


def compare_on_valid(
    models: Mapping[str, Recommender],
    train: Interactions,
    valid: Interactions,
    *,
    folds: int = 5,
    n_cand: int = 50,
    max_users: int = 3000,
    seed: int = 0,
    configs: Mapping[str, Mapping[str, Any]] = CONFIGS,
) -> dict[str, Any]:
    """Out-of-fold valid NDCG@10 of the linear blend and of each stacker config; with
    ``best`` (the winning config name or "blend") and, if a stacker wins, ``model``: that config
    refit on all valid users."""
    users = np.unique(valid.rows)
    if len(users) < folds:
        raise DataError(f"{len(users)} valid users: need at least {folds} for {folds}-fold comparison")
    names = stack_names(models)
    # the scores of every model are held twice (here and in each fold's blend search)
    users = sample_users(users, sample_cap(max_users, train.n_items, 2 * len(models) + 6), seed)
    pos, mask = valid.shared_matrix()[users], train.shared_matrix()[users]
    seen = mask.toarray() > 0
    Z = {n: zscore(models[n].score(users)) for n in names}
    counts = np.asarray(train.matrix(binary=True).sum(axis=0)).ravel()
    X, ui, ii = features(Z, seen, counts, seen.sum(axis=1), n_cand)
    y = np.asarray(pos[ui, ii] > 0).ravel().astype(int)
    fold = np.random.default_rng(seed).integers(0, folds, len(users))
    out: dict[str, Any] = {
        "users": int(len(users)),
        "candidates_per_user": round(len(ui) / len(users), 1),
        "candidate_recall": round(float(y.sum() / max(pos.nnz, 1)), 4),
    }
    blend = np.full(seen.shape, -np.inf, np.float32)
    for f in range(folds):  # blend weights learned on the other folds, like the stacker
        h = Hybrid(dict(models))
        h.learn_weights(train, user_subset(valid, users[fold != f]))
        held = fold == f
        Zh = {n: zscore(m.score(users[held])) for n, m in h._active().items()}
        blend[held] = h._combine_linear(Zh)
    scores = {"blend": ranking_metrics(blend, pos, mask)["ndcg@10"]}
    # a ranker needs both labels in every training fold; otherwise the blend stays
    trainable = all(0 < y[fold[ui] != f].sum() < (fold[ui] != f).sum() for f in range(folds))
    for name, cfg in configs.items() if trainable else ():
        oof = np.zeros(len(y))
        for f in range(folds):
            te = fold[ui] == f
            oof[te] = _fit_predict(cfg, X[~te], y[~te], X[te])
        S = np.full(seen.shape, -np.inf, np.float32)
        S[ui, ii] = oof
        scores[name] = ranking_metrics(S, pos, mask)["ndcg@10"]
    out.update({f"{k}_oof_ndcg@10": round(v, 4) for k, v in scores.items()})
    best = max(scores, key=scores.__getitem__)
    out["best"] = best
    if best != "blend":
        out["model"] = _fit(configs[best], X, y)
    return out


def _fit(cfg: Mapping[str, Any], X: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    params = {k: v for k, v in cfg.items() if k != "kind"}
    if cfg["kind"] == "logreg":
        clf: Any = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, **params))
    else:
        clf = HistGradientBoostingClassifier(random_state=0, **params)
    return clf.fit(X, y)


__all__ = ["CONFIGS", "compare_on_valid", "stack_names", "user_subset"]
