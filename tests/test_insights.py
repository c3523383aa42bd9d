"""Customer insight: features never read past the cutoff, churn model vs recency on data with a known
answer, named segments, falling sentiment, CSAT by intent and by arm, the Insights panels."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from assistant.errors import DataError
from assistant.insights.activity import Activity, churned, features
from assistant.insights.churn import calibration, time_split
from assistant.insights.segments import cluster, stability
from assistant.insights.shop import activities_from_records, sentiment_falling


def _population(seed: int = 0, n: int = 600) -> list[Activity]:
    """Frequent shoppers; the unhappy third (complaints, negative sentiment) leave at a random time,
    the others stay: who leaves next is written in complaints, which recency alone cannot see."""
    rng = random.Random(seed)
    acts = []
    for i in range(n):
        c = f"c{i}"
        rate = rng.choice([0.05, 0.1, 0.2])
        angry = rng.random() < 0.3
        end = rng.uniform(300, 1000) if angry else 2000.0
        t = rng.uniform(0, 100)
        while t < min(end, 1000):
            acts.append(Activity(c, t, "purchase", amount=rng.uniform(5, 50) * (1 + 3 * rate)))
            if angry and rng.random() < 0.3:
                acts.append(Activity(c, t + 0.5, "complaint"))
                acts.append(Activity(c, t + 0.5, "sentiment", score=-0.8))
            t += rng.expovariate(rate)
    return acts


def test_features_never_read_past_the_cutoff() -> None:
    acts = [
        Activity("a", 10.0),
        Activity("a", 50.0, "purchase", 20.0),
        Activity("a", 120.0, "purchase", 99.0),
    ]
    table = features(acts, cutoff=100.0, window=100.0)
    row = dict(zip(table.names, table.X[0], strict=True))
    assert row["recency_days"] == 50.0 and row["frequency"] == 2 and row["spend"] == 20.0
    assert churned(acts, ["a"], 100.0, 10.0).tolist() == [1] and churned(
        acts, ["a"], 100.0, 30.0
    ).tolist() == [0]


def test_churn_model_beats_recency_on_a_later_window() -> None:
    r = time_split(_population(), test_cutoff=800.0, window=300.0, horizon=100.0)
    assert r["n"]["test"] > 200 and 0.05 < r["churn_rate"]["test"] < 0.95
    assert r["model"]["auc"] > r["recency_only"]["auc"] and r["model"]["auc"] > 0.9
    assert r["model"]["ece"] < 0.15 and r["model"]["brier"] < 0.25
    x = r["fitted"]
    reasons = x.reasons(np.array([300.0, 1, 10, 0, 3, -0.8, 700, 0.0]))
    assert reasons and any("days since last activity" in s or "complaints" in s for s in reasons)


def test_calibration_of_a_perfect_forecast() -> None:
    y = np.array([0, 0, 1, 1])
    c = calibration(y, y.astype(float))
    assert c["brier"] == 0.0 and c["ece"] == 0.0


def test_segments_have_names_and_are_stable() -> None:
    table = features(_population(1), cutoff=1000.0, window=1000.0)
    segs = cluster(table)
    assert 3 <= segs.k <= 6 and sum(segs.sizes().values()) == len(table.customers)
    assert len(set(segs.names)) == segs.k and all(n and n[0].isalpha() for n in segs.names)
    assert segs.of(table.customers[0]) in segs.names
    st = stability(table, seeds=3, k=segs.k)
    assert st["ari_mean"] > 0.7


def test_sentiment_falling() -> None:
    assert sentiment_falling([0.5, 0.4, 0.5, -0.2, -0.5, -0.7])
    assert not sentiment_falling([0.5, 0.4, 0.5, 0.4]) and not sentiment_falling([-0.5, -0.6])


def test_shop_records_become_activity() -> None:
    events = [
        {"customer_id": "C1", "event": "purchase", "product_id": "P1", "ts": "2026-01-01T00:00:00Z"},
        {"customer_id": "C1", "event": "rate", "product_id": "P1", "ts": "2026-01-02T00:00:00Z", "rating": 1},
        {"customer_id": None, "kind": "impression", "product_id": "P1", "ts": "2026-01-02T00:00:00Z"},
    ]
    orders = [{"customer_id": "C1", "status": "returned", "created_at": "2026-01-03T00:00:00Z"}]
    acts = activities_from_records(events, {"P1": 25.0}, orders, [("C1", "2026-01-04T00:00:00Z")])
    kinds = sorted(a.kind for a in acts)
    assert kinds == ["activity", "complaint", "purchase", "return", "sentiment"]
    assert next(a for a in acts if a.kind == "purchase").amount == 25.0
    assert next(a for a in acts if a.kind == "sentiment").score == -1.0


def _backend(tmp_path: Path) -> Any:
    from assistant.access import Access
    from assistant.experiments import Arm, ExperimentBook, experiment_from_arms
    from assistant.outguard import RenderGuard
    from assistant.store import Store
    from ui.insight_panels import InsightCache

    store = Store(f"sqlite:///{tmp_path / 'i.db'}")
    book = ExperimentBook([experiment_from_arms("exp1", [Arm("a"), Arm("b")])])
    b = SimpleNamespace(store=store, experiments=book, insight=InsightCache(), _assistant=None)
    b.access = Access(lambda: store, RenderGuard([]), book.variant)
    return b


def test_ratings_give_csat_by_intent_and_arm(tmp_path: Path) -> None:
    from assistant.identity import Identity
    from ui import insight_panels

    b = _backend(tmp_path)
    who = Identity()
    for i, (intent, stars) in enumerate([("recommend", 5), ("recommend", 4), ("order_status", 1)]):
        sid = f"{i:032x}"
        b.store.create_session(sid)
        b.store.add_message(sid, "user", "hi", {"intents": [intent], "sentiment_score": 0.2})
        b.access.record_event(who, "rating", session_id=sid, value=stars)
    with pytest.raises(DataError):
        b.access.record_event(who, "rating", session_id=f"{0:032x}", value=7)
    sat = insight_panels.satisfaction(b)
    assert sat["by_intent"]["recommend"] == {"ratings": 2, "csat": 1.0, "mean": 4.5}
    assert sat["by_intent"]["order_status"]["csat"] == 0.0
    assert sum(v["ratings"] for v in sat["by_arm"].values()) == 3
    assert all(k.startswith("exp1:") for k in sat["by_arm"])  # each rating carries the shopper's arm


def test_panels_render_with_data(tmp_path: Path) -> None:
    from ui import insight_panels

    b = _backend(tmp_path)
    sid = "f" * 32
    b.store.create_session(sid)
    for s in (0.6, 0.5, 0.6, -0.3, -0.6, -0.8):
        b.store.add_message(sid, "user", "x", {"intents": ["recommend"], "sentiment_score": s})
    data = insight_panels.compute(b)
    assert data["trajectories"][0]["falling"] and insight_panels.falling(b, sid)
    notes = insight_panels.console_notes(b, None, data["trajectories"][0]["points"])
    assert notes and "falling" in notes[0]
    figs = insight_panels.figures(data)
    assert set(figs) == {"experiment", "segments", "churn", "satisfaction", "trajectories"}
    assert all(f.axes for f in figs.values())


def test_customer_insight_for_the_console_and_insights() -> None:
    from assistant.insights.shop import build_insight

    ins = build_insight(_population(2, n=300))
    top = ins.at_risk(5)
    assert [r["risk"] for r in top] == sorted((r["risk"] for r in top), reverse=True)
    info = ins.customer(top[0]["customer_id"])
    assert info is not None and info["segment"] in ins.segments.names and 0.0 <= info["risk"] <= 1.0
    assert info["reasons"] and all("typical" in r for r in info["reasons"])
    assert sum(s["customers"] for s in ins.segment_summary()) == len(ins.table.customers)
    assert ins.customer("nobody") is None
    assert ins.figures["model"]["auc"] > 0.5  # tested on the window before the one it scores


def test_staff_stop_an_experiment_and_promote_its_winner(tmp_path: Path) -> None:
    from assistant.experiments import ExperimentBook
    from assistant.settings import Settings
    from ui.console import stop_experiment

    b = _backend(tmp_path)
    b.settings = Settings(data_dir=tmp_path)
    b.experiments = ExperimentBook(b.experiments.experiments, tmp_path / "state.json")
    for i in range(40):  # arm a converts, arm b does not
        sid = f"{i:032x}"
        b.store.create_session(sid)
        arm = b.experiments.assignment(sid).arm.name
        b.store.add_event("impression", session_id=sid, product_id="P1", variant=f"exp1:{arm}")
        if arm == "a":
            b.store.add_event("purchase", session_id=sid, product_id="P1", variant=f"exp1:{arm}")
    assert stop_experiment(b, "wrong", "exp1", "winner").startswith("Wrong")
    assert b.experiments.running() is not None
    assert "a now serves everyone" in stop_experiment(b, "agent-demo-token", "exp1", "winner")
    served = ExperimentBook(b.experiments.experiments, tmp_path / "state.json").assignment("anyone")
    assert served.experiment is None and served.arm.name == "a"
