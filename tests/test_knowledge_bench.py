"""Benchmark pieces: pure metrics with known answers, and the labeled demo query asset."""

from __future__ import annotations

import json
import math

from aisle.bench.retrieval import load_queries, mrr_at, ndcg_at, recall_at


def test_metrics_known_values() -> None:
    rel = {"a": 3, "b": 1}
    assert ndcg_at(["a", "b"], rel) == 1.0
    swapped = (1 + 7 / math.log2(3)) / (7 + 1 / math.log2(3))
    assert abs(ndcg_at(["b", "a"], rel) - swapped) < 1e-12
    assert ndcg_at(["x"], rel) == 0.0 and ndcg_at(["a"], {}) == 0.0
    assert recall_at(["a", "x", "b"], {"a", "b"}, k=2) == 0.5
    assert recall_at(["a"], {str(i) for i in range(20)} | {"a"}, k=10) == 0.1  # over min(|pos|, k)
    assert mrr_at(["x", "y", "a"], {"a"}) == 1 / 3 and mrr_at(["x"], {"a"}) == 0.0


def test_demo_queries_asset_is_sound() -> None:
    from knowledge.bench_data.make_demo_queries import judge
    from knowledge.demo import load_demo

    queries = load_queries()
    products = load_demo().products
    ids = {p.id for p in products}
    assert len(queries) >= 150 and len({q["qid"] for q in queries}) == len(queries)
    valid = [q for q in queries if q["split"] == "valid"]
    assert 0.25 < len(valid) / len(queries) < 0.4
    for q in queries:
        assert q["query"].strip() and set(q["relevance"]) <= ids
        assert 3 in q["relevance"].values() and all(1 <= g <= 3 for g in q["relevance"].values())
    assert sum(bool(q["filters"]) for q in queries) >= 20  # constraint queries ("under $50") are there
    # The committed file is exactly what the judging script computes from the catalog (no silent edits).
    assert [json.loads(json.dumps(r, sort_keys=True)) for r in judge(products)] == queries


def test_packaged_fusion_was_chosen_on_valid() -> None:
    from knowledge.retrieve import Fusion

    f = Fusion.packaged()
    assert f.method in ("rrf", "convex") and 0 <= f.alpha <= 1 and f.lex_norm in ("top", "idf")
