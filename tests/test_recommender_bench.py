"""Benchmark CLI: JSON schema on a tiny file; on the real split, our EASE / popularity reproduce
the RecBole reference numbers (same split, same protocol)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from recsys_data import write_tsv

from recommender.bench import METRICS, cli, shared_data_dir
from recommender.data import read_split_dir
from recommender.metrics import ranking_metrics
from recommender.models import make_model


def test_cli_on_any_interaction_file(tmp_path, capsys):
    write_tsv(tmp_path, 60)
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
                "popularity,itemknn,ease",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    assert {"dataset", "protocol", "models"} <= set(report)
    assert set(report["models"]) == {"popularity", "itemknn", "ease", "hybrid"}
    for row in report["models"].values():
        assert set(METRICS) | {"fit_seconds", "recommend_ms_p95"} <= set(row)
        assert 0.0 <= row["ndcg@10"] <= 1.0
    assert report["models"]["itemknn"]["ndcg@10"] > report["models"]["popularity"]["ndcg@10"]
    assert "hybrid" in capsys.readouterr().out


@pytest.mark.data
def test_ml100k_reproduces_recbole_reference_numbers():
    folder = shared_data_dir() / "splits" / "ml-100k"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found (set AISLE_SHARED_DATA to the shared data folder)")
    tr, va, te = read_split_dir(folder)
    users = np.unique(te.rows)
    mask = tr.concat(va).matrix()[users]
    got = {}
    for name, params in (("popularity", {}), ("ease", {"l2": 250.0})):  # RecBole's EASE default
        model = make_model(name, **params).fit(tr)
        got[name] = ranking_metrics(model.score(users), te.matrix()[users], mask)["ndcg@10"]
    assert got["popularity"] == pytest.approx(0.1420, abs=0.002)
    assert got["ease"] == pytest.approx(0.3295, abs=0.002)
