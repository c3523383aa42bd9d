"""A shop with no history yet, and a shop with fewer products than k (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.errors import DataError
from recommender.hybrid import Hybrid
from recommender.metrics import ranking_metrics
from recommender.models import make_model


def test_content_fits_without_events_the_others_refuse() -> None:
    data = Interactions.from_arrays([], [], user_ids=[], item_ids=["a", "b", "c"], allow_empty=True)
    E = np.array([[1, 0], [0.9, 0.1], [0, 1]], np.float32)
    h = Hybrid({"content": make_model("content", embeddings=E).fit(data)}, {"content": 1.0})
    ids, _ = h.recommend_for_history([("a", 1.0)], k=2)
    assert list(ids) == ["b", "c"]  # the most similar to what was clicked comes first
    with pytest.raises(DataError, match="cannot fit on empty interactions"):
        make_model("popularity").fit(data)


def test_ranking_metrics_with_fewer_items_than_k() -> None:
    scores = np.array([[0.9, 0.1, 0.5]])
    got = ranking_metrics(scores, sp.csr_matrix(np.array([[1, 0, 0]])), k=10)
    assert got["hit@10"] == 1.0 and got["ndcg@10"] == 1.0 and got["precision@10"] == pytest.approx(0.1)
