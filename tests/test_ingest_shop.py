"""`aisle ingest` for a shop's own catalog and history (issue 18): what re-ingesting keeps and
says, --interactions, `aisle train recsys` for any shop, and a history-free recommender that
serves content-based suggestions without a warning at start."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from assistant.ingest import ingest_cli
from assistant.recsys import ShopRecommender
from assistant.recsys_cli import train_cli
from knowledge.records import Review
from knowledge.snapshot import load_catalog


@pytest.fixture
def shop_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in ("AISLE_DATA_DIR", "AISLE_EMBEDDER", "AISLE_GENERATOR_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AISLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AISLE_EMBEDDER", "hashing")
    monkeypatch.setenv("AISLE_GENERATOR_BACKEND", "template")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "products.csv").write_text(
        "sku,name,cost,dept\nA/1,Desk Fan,24.99,Home\nB 2,Alarm Clock,12,Home\nC3,Stapler,5,Office\n"
    )
    (tmp_path / "map.toml").write_text(
        '[columns]\nid = "sku"\ntitle = "name"\nprice = "cost"\ncategory = "dept"\n'
        '[constants]\ncurrency = "EUR"\n'
    )
    reviews = [Review("r1", "A/1", 5, "Quiet and strong"), Review("r2", "C3", 2, "Jams")]
    (tmp_path / "reviews.jsonl").write_text("\n".join(json.dumps(r.to_dict()) for r in reviews))
    (tmp_path / "policies.jsonl").write_text(
        json.dumps({"id": "returns", "title": "Returns", "text": "30 days."})
    )
    return tmp_path


def _ingest(*args: str) -> None:
    assert ingest_cli(["products.csv", "--mapping", "map.toml", "--no-progress", *args]) == 0


def test_reingesting_products_keeps_reviews_and_policies_and_says_so(shop_env: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _ingest("--reviews", "reviews.jsonl", "--policies", "policies.jsonl")
    (shop_env / "products.csv").write_text(
        "sku,name,cost,dept\nA/1,Desk Fan,22,Home\nB 2,Alarm Clock,12,Home\n"
    )
    capsys.readouterr()
    _ingest()
    out = capsys.readouterr().out
    assert (
        "kept 1 reviews and 1 policies from the current catalog (--reviews/--policies replace them, "
        "--replace drops them)" in out
    )
    assert "dropped 1 reviews of products no longer in the catalog" in out
    cat = load_catalog(shop_env / "data")
    assert [r.id for r in cat.reviews] == ["r1"] and [p.id for p in cat.policies] == ["returns"]
    _ingest("--replace")
    assert "--replace: the catalog has no reviews or policies now" in capsys.readouterr().out
    cat = load_catalog(shop_env / "data")
    assert not cat.reviews and not cat.policies


def test_no_history_gets_a_content_recommender_without_start_warnings(shop_env: Path, capsys, caplog) -> None:  # type: ignore[no-untyped-def]
    _ingest()
    out = capsys.readouterr().out
    assert "and no history, so suggestions are content-based (similar to what the shopper looks at)" in out
    rec = ShopRecommender.load(shop_env / "data" / "recommender")
    assert rec.cold and {pid for pid, _ in rec.recommend(history=["A/1"], k=2)} <= {"B 2", "C3"}
    from assistant.settings import load_settings
    from assistant.wiring import optional

    with caplog.at_level(logging.WARNING):
        from assistant.wiring import _recommender

        assert optional("recommender", lambda: _recommender(load_settings())) is not None
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_interactions_then_train_recsys_for_any_shop(shop_env: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _ingest()
    rows = ["customer,product,event,rating,time"]
    for c in range(12):
        rows += [f"C{c},A/1,view,,2024-01-0{1 + c % 9}T10:00:00", f"C{c},B 2,purchase,,2024-02-01T10:00:00"]
        rows += [f"C{c},C3,rate,{1 + c % 5},2024-03-01T10:00:00"]
    (shop_env / "events.csv").write_text("\n".join(rows) + "\nC1,nope,view,,\n")
    capsys.readouterr()
    assert ingest_cli(["--interactions", "events.csv"]) == 0
    captured = capsys.readouterr()
    assert "history: 36 events, 12 new customers" in captured.out
    assert "row 37, field 'product': no product 'nope' in the catalog" in captured.err
    assert "history: 36 events in the database: run `aisle train recsys` to fit the recommender on them" in (
        captured.out
    )
    assert ingest_cli(["--interactions", "events.csv"]) == 0
    assert "replacing 36 from the previous import" in capsys.readouterr().out
    assert train_cli([]) == 0
    assert "fitted shop recommender in" in capsys.readouterr().out
    rec = ShopRecommender.load(shop_env / "data" / "recommender")
    assert not rec.cold and rec.hybrid.data.n_users == 12 and rec.customer_history("C3")
