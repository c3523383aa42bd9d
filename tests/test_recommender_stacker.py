"""Learning-to-rank stacker: features, the out-of-fold valid check, re-ranking and persistence."""

from __future__ import annotations

import numpy as np
from recsys_data import group_data

from recommender.data import Interactions, split_random
from recommender.features import features, zscore
from recommender.hybrid import Hybrid
from recommender.models import make_model
from recommender.stacker import CONFIGS, _fit, compare_on_valid, stack_names


def fitted() -> tuple[dict, Interactions, Interactions]:
    tr, va, _ = split_random(group_data(), (0.7, 0.3, 0.0), seed=0)
    models = {n: make_model(n).fit(tr) for n in ("popularity", "itemknn", "ease")}
    return models, tr, va


def stack_data(models, tr, va):
    """Valid users' candidate features and labels, as the stacker's valid check builds them."""

    users = np.unique(va.rows)
    seen = tr.matrix()[users].toarray() > 0
    names = stack_names(models)
    Z = {n: zscore(models[n].score(users)) for n in names}
    X, ui, ii = features(Z, seen, np.asarray(tr.matrix(binary=True).sum(axis=0)).ravel(), seen.sum(axis=1), 4)
    y = np.asarray(va.matrix()[users][ui, ii] > 0).ravel().astype(int)
    return users, names, X, ui, ii, y


def test_features_exclude_seen_items_and_cover_each_models_top():
    rng = np.random.default_rng(0)
    Z = {"a": rng.normal(size=(3, 12)).astype(np.float32), "b": rng.normal(size=(3, 12)).astype(np.float32)}
    seen = np.zeros((3, 12), bool)
    seen[:, 0] = True
    Z["a"][:, 0] = 99.0  # best item, but seen: must not be a candidate
    X, ui, ii = features(Z, seen, np.arange(12.0), seen.sum(axis=1), n_cand=3)
    assert not seen[ui, ii].any()
    assert X.shape == (len(ui), 2 * 2 + 2) and np.isfinite(X).all()
    for u in range(3):
        cand = set(ii[ui == u])
        for z in Z.values():
            top = [j for j in np.argsort(-z[u]) if j != 0][:3]
            assert set(top) <= cand


def test_valid_check_reports_both_and_never_needs_test():
    models, tr, va = fitted()
    rep = compare_on_valid(models, tr, va, folds=3, n_cand=5, configs={"logreg": CONFIGS["logreg"]})
    assert {"blend_oof_ndcg@10", "logreg_oof_ndcg@10", "best"} <= set(rep)
    assert rep["best"] in ("blend", "logreg")
    assert ("model" in rep) == (rep["best"] != "blend")


def test_stacked_hybrid_ranks_candidates_first_and_round_trips(tmp_path):
    models, tr, va = fitted()
    h = Hybrid(models)
    h.learn_weights(tr, va)
    users, names, X, ui, ii, y = stack_data(models, tr, va)
    h.use_stacker(_fit(CONFIGS["logreg"], X, y), names, 4)
    S = h.score(users)
    for r in range(len(users)):
        cand = ii[ui == r]
        others = np.setdiff1d(np.arange(tr.n_items), cand)
        assert S[r, cand].min() > S[r, others].max()  # the ranker's candidates come first
    h.save(tmp_path / "h")
    h2 = Hybrid.load(tmp_path / "h")
    assert h2.stacker is not None and h2.stack_models == names
    np.testing.assert_allclose(h2.score(users), S, rtol=1e-5, atol=1e-5)
    items, _ = h2.recommend(tr.user_ids[users[0]], k=5)
    assert len(items) == 5


def test_saved_boosted_stacker_round_trips_and_foreign_types_are_refused(tmp_path):
    import collections

    import pytest
    import skops.io as sio

    from recommender.errors import DataError
    from recommender.hybrid import _load_stacker

    models, tr, va = fitted()
    users, names, X, ui, ii, y = stack_data(models, tr, va)
    hgb = _fit(CONFIGS["hgb_small"], X, y)
    sio.dump(hgb, tmp_path / "ok.skops")
    np.testing.assert_allclose(_load_stacker(tmp_path / "ok.skops").predict_proba(X), hgb.predict_proba(X))
    sio.dump(collections.Counter(a=1), tmp_path / "bad.skops")  # not a type any stacker holds
    with pytest.raises(DataError, match="refit"):
        _load_stacker(tmp_path / "bad.skops")
