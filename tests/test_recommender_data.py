"""Interactions: construction, documented bad-input behaviour, readers and splitters."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recommender.data import (
    Interactions,
    read_amazon_seq,
    read_recbole,
    read_split_dir,
    split_cold_users,
    split_loo,
    split_random,
)
from recommender.errors import DataError


def test_from_frame_maps_ids_and_keeps_weights_and_timestamps():
    df = pd.DataFrame(
        {"user_id": ["a", "a", "b"], "item_id": ["x", "y", "x"], "w": [1.0, 2.0, 3.0], "t": [5, 1, 2]}
    )
    d = Interactions.from_frame(df, weight_col="w", ts_col="t", item_ids=["x", "y", "z"])
    assert d.n_users == 2 and d.n_items == 3 and d.nnz == 3
    m = d.matrix()
    assert m[d.uidx("a"), 1] == 2.0 and m[d.uidx("b"), 0] == 3.0
    assert [d.item_ids[j] for j in d.sequences()[d.uidx("a")]] == ["y", "x"]  # time order, not row order


@pytest.mark.parametrize(("policy", "expected"), [("sum", 3.0), ("max", 2.0), ("last", 1.0)])
def test_duplicates_are_aggregated_by_documented_policy(policy, expected):
    d = Interactions.from_arrays(["a", "a"], ["x", "x"], [2.0, 1.0], [0, 1], duplicates=policy)
    assert d.nnz == 1 and d.matrix()[0, 0] == expected and d.timestamps[0] == 1


def test_bad_input_gets_a_clear_error():
    with pytest.raises(DataError, match="duplicate"):
        Interactions.from_arrays(["a", "a"], ["x", "x"], duplicates="error")
    with pytest.raises(DataError, match="NaN"):
        Interactions.from_arrays(["a", "b"], ["x", "y"], [1.0, float("nan")])
    with pytest.raises(DataError, match="no interactions"):
        Interactions.from_arrays([], [])
    with pytest.raises(DataError, match="negative"):
        Interactions.from_arrays(["a"], ["x"], [-1.0])
    with pytest.raises(DataError, match="unknown item"):
        Interactions.from_arrays(["a"], ["x"], item_ids=["y"])
    with pytest.raises(DataError, match="column"):
        Interactions.from_frame(pd.DataFrame({"u": [1]}), "user_id", "item_id")
    d = Interactions.from_arrays(["a"], ["x"])
    with pytest.raises(DataError, match="fold_in"):
        d.uidx("zz")


def test_readers(tmp_path):
    (tmp_path / "x.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t4\t200\n1\t11\t3\t100\n"
    )
    d = read_recbole(tmp_path / "x.inter")
    assert d.nnz == 2 and [d.item_ids[j] for j in d.sequences()[0]] == ["11", "10"]
    (tmp_path / "o.inter.json").write_text(json.dumps({"0": [3, 4, 5], "1": [4]}))
    s = read_amazon_seq(tmp_path / "o.inter.json")
    assert s.nnz == 4 and [s.item_ids[j] for j in s.sequences()[0]] == ["3", "4", "5"]
    for name, rows in (("train", "u\ti\n1\ta\n1\tb\n"), ("valid", "u\ti\n1\tc\n"), ("test", "u\ti\n2\td\n")):
        (tmp_path / f"{name}.tsv").write_text(rows)
    tr, va, te = read_split_dir(tmp_path)
    assert tr.n_items == va.n_items == te.n_items == 4 and tr.n_users == 2
    both = tr.concat(va)
    assert both.nnz == 3 and both.sequences()[0][-1] == both.item_index()["c"]
    with pytest.raises(DataError, match="train.tsv"):
        read_split_dir(tmp_path / "nope")


def _toy(n_users=20, per_user=10) -> Interactions:
    users = [f"u{u}" for u in range(n_users) for _ in range(per_user)]
    items = [f"i{(u * 3 + t) % 40}" for u in range(n_users) for t in range(per_user)]
    return Interactions.from_arrays(users, items, None, list(range(len(users))))


def test_split_random_ratio_and_disjoint():
    d = _toy()
    tr, va, te = split_random(d, (0.8, 0.1, 0.1), seed=1)
    assert tr.nnz + va.nnz + te.nnz == d.nnz
    assert np.bincount(tr.rows).tolist() == [8] * 20 and np.bincount(te.rows).tolist() == [1] * 20
    keys = [set(zip(x.rows.tolist(), x.cols.tolist(), strict=True)) for x in (tr, va, te)]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])


def test_split_loo_takes_the_last_two_events_by_time():
    d = _toy()
    tr, va, te = split_loo(d)
    seqs = d.sequences()
    assert te.sequences()[3].tolist() == [seqs[3][-1]] and va.sequences()[3].tolist() == [seqs[3][-2]]
    assert tr.nnz == d.nnz - 2 * d.n_users


def test_split_cold_users_holds_out_whole_users():
    d = _toy()
    warm, cold = split_cold_users(d, 0.3, seed=2)
    assert cold.nnz > 0 and not set(np.unique(warm.rows)) & set(np.unique(cold.rows))


def test_save_load(tmp_path):
    d = _toy()
    d.save(tmp_path)
    e = Interactions.load(tmp_path)
    assert (e.matrix() != d.matrix()).nnz == 0 and e.user_ids.tolist() == d.user_ids.tolist()
