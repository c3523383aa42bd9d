"""Bounded-memory scoring, budgeted tuning and the synthetic generator (issue 20), on small data:
batched results equal unbatched ones, block-wise item-item models equal the dense computation,
the budget skips and reports, and the generator is deterministic with the structure it documents."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import recommender.batching as batching
import recommender.models.ease as ease_mod
import recommender.models.knn as knn_mod
from recommender.batching import mean_metrics, ranking_batched, sample_cap
from recommender.budget import clearly_worse
from recommender.data import split_loo
from recommender.errors import ConfigError
from recommender.memory import MemoryTracker
from recommender.metrics import per_user_ranking, sampled_metrics
from recommender.models import make_model
from recommender.synthetic import parse_spec, synthetic, write_recbole
from recommender.tuning import Tuner


@pytest.fixture(scope="module")
def data():
    return synthetic(400, 120, 4000, seed=3)


@pytest.fixture(scope="module")
def splits(data):
    return split_loo(data)


def test_synthetic_is_deterministic_and_shaped(data):
    again = synthetic(400, 120, 4000, seed=3)
    assert np.array_equal(data.rows, again.rows) and np.array_equal(data.cols, again.cols)
    assert 3600 <= data.nnz <= 4400  # close to the asked number of events
    key = data.rows.astype(np.int64) * data.n_items + data.cols
    assert len(np.unique(key)) == data.nnz  # no repeated (user, item)
    counts = np.sort(np.bincount(data.cols, minlength=data.n_items))[::-1]
    assert counts[:12].sum() > 1.5 * counts[-60:].sum()  # the top 10 % outsell the bottom half


def test_synthetic_has_sequential_signal(splits):
    tr, va, te = splits
    tuner = Tuner(tr, va)
    seq = tuner.evaluate(make_model("sequential", window=1, last_n=1).fit(tr))
    pop = tuner.evaluate(make_model("popularity").fit(tr))
    assert seq > 1.25 * pop  # the "next item" steps are learnable from transitions


def test_parse_spec_errors_name_the_fix():
    assert parse_spec("users=10,items=20,interactions=50") == {"users": 10, "items": 20, "interactions": 50}
    with pytest.raises(ConfigError, match="users=N"):
        parse_spec("users=10,items=x")
    with pytest.raises(ConfigError, match="interactions"):
        parse_spec("users=10,items=20")


def test_write_recbole_round_trips(tmp_path, data):
    from recommender.data import read_recbole

    back = read_recbole(write_recbole(data, tmp_path / "s.inter"))
    assert back.nnz == data.nnz and back.n_users == len(np.unique(data.rows))


def test_batched_ranking_equals_unbatched(monkeypatch, splits):
    tr, va, _ = splits
    model = make_model("itemknn", k=20).fit(tr)
    users = np.unique(va.rows)
    pos, mask = va.matrix()[users], tr.matrix()[users]
    S = model.score(users)
    whole = per_user_ranking(S, pos, mask)
    whole_sampled = sampled_metrics(S, pos, mask, seed=0)
    monkeypatch.setattr(batching, "BATCH_CELLS", 7 * tr.n_items)  # 7 users a batch
    per = ranking_batched(model.score, users, pos, mask, tr.n_items, sampled_rng=np.random.default_rng(0))
    for key in ("ndcg@10", "recall@10", "top", "users"):
        assert np.array_equal(per[key], whole[key])
    means = mean_metrics(per)
    assert means["sampled_ndcg@10"] == pytest.approx(whole_sampled["ndcg@10"])


@pytest.mark.parametrize("name", ["itemknn", "rp3beta"])
def test_item_similarity_blocks_equal_one_block(monkeypatch, splits, name):
    tr = splits[0]
    one = make_model(name, k=15).fit(tr).S
    monkeypatch.setattr(knn_mod, "rows_per_batch", lambda n, cells=0: 13)
    blocks = make_model(name, k=15).fit(tr).S
    assert (one != blocks).nnz == 0
    assert np.diff(one.indptr).max() <= tr.n_items and one.diagonal().max() == 0.0


def test_ease_in_place_inverse_equals_lu(monkeypatch, splits):
    tr = splits[0]
    lu = make_model("ease", l2=20.0, dropout=0.25).fit(tr).B
    monkeypatch.setattr(ease_mod, "SMALL", 10)
    chol = make_model("ease", l2=20.0, dropout=0.25).fit(tr).B
    assert np.allclose(lu, chol, atol=1e-6) and np.all(np.diag(chol) == 0.0)


def test_userknn_chunks_do_not_change_scores(monkeypatch, splits):
    tr = splits[0]
    users = np.arange(50)
    whole = make_model("userknn", k=10).fit(tr).score(users, tr)
    monkeypatch.setattr(knn_mod, "rows_per_batch", lambda n, cells=0: 7)
    chunked = make_model("userknn", k=10).fit(tr).score(users, tr)
    assert np.allclose(whole, chunked)


def test_sample_cap_keeps_small_searches_whole():
    assert sample_cap(3000, 2420, 15) == 3000  # office-sized: unchanged
    assert sample_cap(3000, 15000, 15) < 3000  # a large catalog samples fewer users


def test_budget_skips_and_reports(splits):
    tr, va, _ = splits
    grids = {
        "itemknn": [{"k": 10}, {"k": 20}, {"k": 40}],
        "popularity": [{}],
    }
    tuner = Tuner(tr, va)
    full = tuner.select(grids, log=lambda s: None, budget_s=None)
    assert len(full["itemknn"].tried) == 3 and not tuner.budget.skipped
    tuned = tuner.select(grids, log=lambda s: None, budget_s=0.0)
    report = tuner.budget.report()
    assert set(tuned) == set(grids)  # every model keeps its first config
    assert [s["params"] for s in report["skipped"]] == [{"k": 20}, {"k": 40}]
    assert report["skipped"][0]["why"] == "time budget"


def test_clearly_worse_is_a_paired_test():
    rng = np.random.default_rng(0)
    best = rng.random(400)
    assert clearly_worse(best - 0.2, best)
    assert not clearly_worse(best + rng.normal(0, 0.05, 400), best)


def test_memory_tracker_records_stage_and_run_peaks():
    mem = MemoryTracker()
    with mem.stage("big"):
        block = np.ones((64, 1 << 20))  # 512 MiB touched
        assert block.sum() > 0
        del block
    with mem.stage("small"):
        _ = sp.identity(10)
    assert mem.stage_peaks["big"] > 400
    assert mem.finish() >= mem.stage_peaks["big"]
    if mem.resettable:  # Linux: each stage has its own peak
        assert mem.stage_peaks["small"] < mem.stage_peaks["big"] - 300


def test_sasrec_known_answer_next_item():
    """Each user walks a cycle of 6 items (i -> i + 1 within their group) from a random start: the
    model must name the next item, for fit-time users and for a folded-in session, and save and
    load without pickle."""
    from recommender.data import Interactions

    rng = np.random.default_rng(0)
    users, items, ts = [], [], []
    for u in range(60):
        g, start = u % 3, int(rng.integers(0, 6))
        for t in range(5):
            users.append(f"u{u}")
            items.append(f"i{g * 6 + (start + t) % 6}")
            ts.append(t)
    data = Interactions.from_arrays(users, items, None, ts, item_ids=[f"i{i}" for i in range(18)])
    model = make_model("sasrec", dim=16, layers=1, heads=1, max_len=6, epochs=60, batch=16, lr=0.01)
    model.fit(data)
    right = 0
    for u, seq in zip(data.user_ids, data.sequences(), strict=True):
        last = int(seq[-1])
        want = f"i{last // 6 * 6 + (last % 6 + 1) % 6}"
        right += model.recommend(u, k=1, exclude_seen=False)[0][0] == want
    assert right >= 50, f"{right}/60 next items right"
    ids, _ = model.recommend_for_history(["i6", "i7", "i8"], k=1, exclude_seen=False)
    assert ids[0] == "i9"


def test_blend_search_on_candidates_matches_dense(monkeypatch, splits):
    import recommender.hybrid as hybrid_mod
    from recommender.hybrid import Hybrid

    tr, va, _ = splits
    models = {n: make_model(n).fit(tr) for n in ("popularity", "itemknn", "sequential")}
    dense = Hybrid(models)
    dense.learn_weights(tr, va)
    monkeypatch.setattr(hybrid_mod, "COMPACT_CELLS", 0)  # every search counts as large
    compact = Hybrid(models)
    compact.learn_weights(tr, va)
    assert compact.weights == dense.weights
    assert compact.valid_ndcg == pytest.approx(dense.valid_ndcg, abs=0.01)
