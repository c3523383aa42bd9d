"""Metric functions against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recommender import metrics as M


def test_full_ranking_metrics_by_hand():
    # one user, 6 items; positives {1, 4}; item 0 is masked (train) although it scores highest
    scores = np.array([[9.0, 5.0, 4.0, 3.0, 2.0, 1.0]])
    pos = sp.csr_matrix(np.array([[0, 1, 0, 0, 1, 0]]))
    mask = sp.csr_matrix(np.array([[1, 0, 0, 0, 0, 0]]))
    m = M.ranking_metrics(scores, pos, mask, k=3)
    # ranking after masking: 1 (hit), 2, 3 -> one hit at rank 1 of 2 positives
    assert m["hit@3"] == 1.0 and m["recall@3"] == 0.5 and m["precision@3"] == pytest.approx(1 / 3)
    assert m["mrr@3"] == 1.0
    assert m["ndcg@3"] == pytest.approx(1.0 / (1.0 + 1.0 / math.log2(3)))
    assert m["map@3"] == pytest.approx(1.0 / 2)


def test_users_without_positives_are_skipped_and_misses_count_zero():
    scores = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    pos = sp.csr_matrix(np.array([[0, 0, 0], [0, 0, 1]]))
    m = M.ranking_metrics(scores, pos, None, k=1)
    assert m["hit@1"] == 0.0 and m["ndcg@1"] == 0.0


def test_sampled_protocol_perfect_and_worst():
    n = 200
    scores = np.tile(np.arange(n, dtype=float), (2, 1))
    pos = sp.csr_matrix(([1, 1], ([0, 1], [n - 1, 0])), shape=(2, n))
    m = M.sampled_metrics(scores, pos, k=10)
    assert m["hit@10"] == 0.5  # user 0's positive is the best item, user 1's the worst of 100
    assert m["ndcg@10"] == 0.5


def test_rating_and_beyond_accuracy():
    assert M.rmse(np.array([1, 2]), np.array([1, 4])) == pytest.approx(math.sqrt(2))
    assert M.mae(np.array([1, 2]), np.array([1, 4])) == 1.0
    top = np.array([[0, 1], [0, 2]])
    assert M.catalog_coverage(top, 4) == 0.75
    vecs = np.array([[1.0, 0], [0, 1.0], [1.0, 0]])
    assert M.intra_list_diversity(top, vecs) == pytest.approx(0.5)  # (1 + 0) / 2
    counts = np.array([8, 2, 4, 0])
    assert M.popularity_bias(top, counts) == pytest.approx((8 + 2 + 8 + 4) / 4)
    assert M.novelty(top, counts, 8) == pytest.approx(np.mean([0, 2, 0, 1]))


def test_cold_warm_split():
    per = {"users": np.array([0, 1, 2]), "ndcg@10": np.array([0.0, 1.0, 0.5])}
    out = M.cold_warm_split(per, np.array([1, 10, 20]), threshold=5)
    assert out["cold"]["users"] == 1 and out["cold"]["ndcg@10"] == 0.0 and out["warm"]["ndcg@10"] == 0.75
