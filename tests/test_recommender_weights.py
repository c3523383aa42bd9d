"""Event weights (ratings) and test-time histories: weighted EASE, the rating model, attaching
ratings from a RecBole ``.inter`` file, exact fold-in of factor models, precomputed user-kNN."""

from __future__ import annotations

import json

import numpy as np
import pytest
from recsys_data import write_tsv

from recommender.bench import attach_events, cli
from recommender.data import Interactions, split_random
from recommender.errors import DataError
from recommender.metrics import rmse
from recommender.models import make_model
from recommender.models.rating import BiasedMF


def rated(seed: int = 0, n_users: int = 60, n_items: int = 30) -> Interactions:
    """Ratings = 3 + user bias + item bias + noise, on a random 40 % of the pairs."""
    rng = np.random.default_rng(seed)
    bu, bi = rng.normal(0, 0.8, n_users), rng.normal(0, 0.8, n_items)
    users, items, r = [], [], []
    for u in range(n_users):
        for i in rng.choice(n_items, int(0.4 * n_items), replace=False):
            users.append(f"u{u}")
            items.append(f"i{i}")
            r.append(float(np.clip(np.round(3 + bu[u] + bi[i] + rng.normal(0, 0.3)), 1, 5)))
    return Interactions.from_arrays(users, items, r, item_ids=[f"i{i}" for i in range(n_items)])


def test_weighted_ease_equals_binary_on_constant_weights_and_differs_on_ratings():
    data = rated()
    ones = Interactions(
        data.user_ids, data.item_ids, data.rows, data.cols, np.ones_like(data.weights), data.timestamps
    )
    users = np.arange(data.n_users)
    a = make_model("ease", l2=10.0).fit(ones).score(users)
    b = make_model("ease", l2=10.0, binary=False, power=0.5).fit(ones).score(users)
    np.testing.assert_allclose(a, b, atol=1e-5)
    c = make_model("ease", l2=10.0, binary=False, power=0.5).fit(data).score(users)
    assert not np.allclose(a, c, atol=1e-3)


def test_rating_model_beats_the_mean_and_biases_help():
    data = rated()
    tr, va, _ = split_random(data, (0.8, 0.2, 0.0), seed=0)
    mean_err = rmse(np.full(va.nnz, tr.weights.mean()), va.weights)
    base = BiasedMF(factors=0).fit(tr)
    pred = base.predict(va.rows, va.cols)
    assert rmse(pred, va.weights) < 0.8 * mean_err
    assert pred.min() >= tr.weights.min() and pred.max() <= tr.weights.max()
    mf = BiasedMF(factors=4, reg=10.0).fit(tr)
    assert rmse(mf.predict(va.rows, va.cols), va.weights) < mean_err
    with pytest.raises(DataError, match="fit"):
        BiasedMF().predict(np.array([0]), np.array([0]))


def test_attach_events_reads_ratings_and_times_and_names_missing_rows(tmp_path):
    inter = tmp_path / "x.inter"
    inter.write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "a\tx\t5\t100\na\ty\t1\t50\nb\tx\t3\t70\n"
    )
    split = Interactions.from_arrays(["a", "a", "b"], ["x", "y", "x"])
    got = attach_events(split, inter)
    pairs = {
        (got.user_ids[r], got.item_ids[c]): (w, t)
        for r, c, w, t in zip(got.rows, got.cols, got.weights, got.timestamps, strict=True)
    }
    assert pairs == {("a", "x"): (5.0, 100.0), ("a", "y"): (1.0, 50.0), ("b", "x"): (3.0, 70.0)}
    assert [got.item_ids[j] for j in got.sequences()[0]] == ["y", "x"]  # real time order
    with pytest.raises(DataError, match="missing"):
        attach_events(Interactions.from_arrays(["b"], ["y"]), inter)


def test_factor_models_fold_in_the_history_they_are_given():
    data = rated()
    tr, va, _ = split_random(data, (0.7, 0.3, 0.0), seed=0)
    users = np.arange(tr.n_users)
    svd = make_model("svd", factors=4).fit(tr)
    np.testing.assert_allclose(svd.score(users, tr), svd.score(users), atol=1e-4)  # exact projection
    assert not np.allclose(svd.score(users, tr.concat(va)), svd.score(users), atol=1e-4)
    als = make_model("als", factors=4, iterations=3).fit(tr)
    assert not np.allclose(als.score(users, tr.concat(va)), als.score(users), atol=1e-4)
    bpr = make_model("bpr", factors=4, epochs=2).fit(tr)  # keeps its learned user vectors
    np.testing.assert_allclose(bpr.score(users, tr.concat(va)), bpr.score(users), atol=1e-6)


def test_userknn_precomputed_neighbours_match_the_generic_path(tmp_path):
    data = rated()
    users = np.arange(data.n_users)
    for sim in ("cosine", "pearson"):
        m = make_model("userknn", k=5, similarity=sim).fit(data)
        np.testing.assert_allclose(m.score(users), m.score(users, data), atol=1e-4)
        m.save(tmp_path / sim)
        again = type(m).load(tmp_path / sim)
        np.testing.assert_allclose(again.score(users[:3]), m.score(users[:3]), atol=1e-5)


def test_bench_json_has_sampled_metrics(tmp_path):
    write_tsv(tmp_path, 40)
    out = tmp_path / "r.json"
    assert (
        cli(
            [
                "--inter",
                str(tmp_path / "x.tsv"),
                "--format",
                "tsv",
                "--split",
                "random",
                "--models",
                "popularity,itemknn",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    for row in report["models"].values():
        assert {"sampled_ndcg@10", "sampled_hit@10", "sampled_mrr@10"} <= set(row)
        assert row["sampled_hit@10"] >= row["hit@10"] - 1e-9  # 99 negatives are easier than all items
    assert "rating_prediction" not in report  # no ratings in a plain (user, item) file


def test_neumf_early_stopping_records_the_epoch_it_kept():
    data = rated()
    tr, va, _ = split_random(data, (0.7, 0.3, 0.0), seed=0)
    m = make_model(
        "neumf", gmf_dim=4, mlp_dim=4, layers=[8], epochs=6, batch=256, validate_from=3, patience=10
    )
    m.fit(tr, valid=va)  # type: ignore[call-arg]
    assert len(m.history_) == 4  # epochs 3..6 validated, 1..2 skipped
    assert m.best_epoch_ == 3 + int(np.argmax(m.history_))
