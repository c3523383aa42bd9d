"""Hybrid blend, cold start, constraints, explanations, persistence; selection never sees test."""

from __future__ import annotations

import inspect
import time

import numpy as np
import pytest
import recsys_data

from knowledge.embed import HashingEmbedder
from recommender.bench import run
from recommender.data import Interactions, split_random
from recommender.hybrid import COLD, Hybrid
from recommender.models import make_model
from recommender.tuning import Tuner

N_ITEMS = 25  # 3 groups of 8 + item 24: a group-1 product nobody has bought yet (cold)


def group_data(seed: int = 0, users_per_group: int = 30) -> Interactions:
    return recsys_data.group_data(seed, users_per_group, group_size=8, picks=6, n_items=N_ITEMS)


def texts() -> dict[str, str]:
    out = {f"i{i}": f"group{i // 8} gadget" for i in range(24)}
    out["i24"] = "group1 gadget"  # described like group 1, but no interactions yet
    return out


@pytest.fixture(scope="module")
def fitted():
    data = group_data()
    tr, va, _ = split_random(data, (0.7, 0.3, 0.0), seed=0)
    models = {
        "popularity": make_model("popularity"),
        "itemknn": make_model("itemknn", k=20),
        "content": make_model(
            "content", embedder="hashing", item_text=texts(), embed=HashingEmbedder().embed
        ),
    }
    h = Hybrid(models, item_names={"i8": "Blue Kettle"}).fit(tr, va)
    return h, tr, va


def test_blend_weights_are_learned_on_valid_and_favour_the_informative_model(fitted):
    h, tr, va = fitted
    assert h.weights["itemknn"] > 0 and h.weights["itemknn"] >= h.weights["popularity"]
    solo = Tuner(tr, va).evaluate(h.models["itemknn"])
    assert h.valid_ndcg is not None and h.valid_ndcg >= solo - 1e-9


def test_cold_user_gets_popular_items_and_history_user_gets_their_group(fitted):
    h, tr, _ = fitted
    ids, _ = h.recommend_for_history([], k=3)
    counts = np.bincount(tr.cols, minlength=tr.n_items)
    assert counts[tr.item_index()[ids[0]]] == counts.max()
    ids, _ = h.recommend_for_history([("i8", 1.0), ("i9", 1.0)], k=3)
    assert all(8 <= int(i[1:]) < 16 or i == "i24" for i in ids)


def test_cold_item_reaches_the_list_through_content(fitted):
    h, _, _ = fitted
    cold = Hybrid(h.models, {"itemknn": 1.0, "content": 0.0, COLD: 5.0})
    ids, _ = cold.recommend_for_history([("i8", 1.0), ("i9", 1.0)], k=3)
    assert "i24" in ids.tolist()
    ids, _ = Hybrid(h.models, {"itemknn": 1.0}).recommend_for_history([("i8", 1.0), ("i9", 1.0)], k=3)
    assert "i24" not in ids.tolist()  # without content, CF alone never surfaces it


def test_candidates_filter_and_boosts(fitted):
    h, _, _ = fitted
    ids, _ = h.recommend_for_history([("i8", 1.0)], k=5, candidates={"i1", "i2", "i20"})
    assert set(ids.tolist()) <= {"i1", "i2", "i20"}
    ids, _ = h.recommend_for_history([("i8", 1.0)], k=1, boosts={"i3": 100.0})
    assert ids[0] == "i3"


def test_explain_gives_evidence(fitted):
    h, _, _ = fitted
    reasons = h.explain([("i8", 1.0), ("i9", 1.0)], "i10")
    assert any("Blue Kettle" in r or "i9" in r for r in reasons), reasons
    assert h.explain([], "i0")


def test_save_load_round_trip(fitted, tmp_path):
    h, _, _ = fitted
    h.save(tmp_path)
    again = Hybrid.load(tmp_path)
    a = h.recommend_for_history([("i8", 1.0)], k=5)
    b = again.recommend_for_history([("i8", 1.0)], k=5)
    assert a[0].tolist() == b[0].tolist() and np.allclose(a[1], b[1], atol=1e-5)
    assert again.weights == h.weights


def test_fold_in_is_fast(fitted):
    h, _, _ = fitted
    h.recommend_for_history([("i1", 1.0)], k=10)
    t0 = time.perf_counter()
    for _ in range(20):
        h.recommend_for_history([("i1", 1.0), ("i2", 2.0), ("i3", 1.0)], k=10)
    assert (time.perf_counter() - t0) / 20 < 0.05


def test_selection_api_has_no_test_argument():
    params = list(inspect.signature(Tuner).parameters)
    assert params[:2] == ["train", "valid"] and not any("test" in p for p in params)


def test_selection_is_independent_of_the_test_split():
    data = group_data(seed=3, users_per_group=15)
    tr, va, te = split_random(data, (0.6, 0.2, 0.2), seed=0)
    other = group_data(seed=99, users_per_group=15)  # a different "test" on the same id maps
    _, _, te2 = split_random(other, (0.6, 0.2, 0.2), seed=1)

    def quiet(*_: object) -> None:
        return None

    a = run(tr, va, te, ["popularity", "itemknn", "ease"], {}, log=quiet)
    b = run(tr, va, te2, ["popularity", "itemknn", "ease"], {}, log=quiet)
    assert a["hybrid_details"]["selected"] == b["hybrid_details"]["selected"]
    assert a["hybrid_details"]["weights"] == b["hybrid_details"]["weights"]
    assert a["models"]["hybrid"]["ndcg@10"] != b["models"]["hybrid"]["ndcg@10"]  # test did change
