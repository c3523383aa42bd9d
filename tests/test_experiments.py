"""Experiments: declaration, sticky assignment, serving the arm, stop/promote, and the report's
statistics against values worked out by hand."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from recsys_data import group_data

from assistant.arms import ArmViews, mmr
from assistant.errors import ConfigError
from assistant.experiment_report import ratio_stats, report, srm_p, two_proportion_p, wilson
from assistant.experiments import Arm, ExperimentBook, experiment_from_arms, parse_experiments
from assistant.store import Store

TOML = """
[[experiment]]
name = "blend-vs-pop"
start = "2026-01-01"
end = "2030-01-01"
[[experiment.arm]]
name = "hybrid"
traffic = 0.7
[[experiment.arm]]
name = "pop"
traffic = 0.3
blend = { popularity = 1.0 }
diversity = 0.5
reply_style = "brief"
rank_weights = { recommender = 1.0 }
"""


def _book(tmp_path: Path) -> ExperimentBook:
    f = tmp_path / "experiments.toml"
    f.write_text(TOML)
    return ExperimentBook.from_file(f, tmp_path / "state.json")


def test_file_declares_arms_and_window(tmp_path: Path) -> None:
    book = _book(tmp_path)
    exp = book.get("blend-vs-pop")
    assert exp.arm_names == ["hybrid", "pop"]
    assert exp.arm("pop").blend == {"popularity": 1.0} and exp.arm("pop").reply_style == "brief"
    assert exp.arm("pop").rank_weights == (1.0, 0.0, 0.0) and exp.arm("hybrid").rank_weights == (
        0.4,
        0.3,
        0.3,
    )
    assert not exp.running(datetime(2025, 6, 1, tzinfo=UTC)) and exp.running(datetime(2027, 1, 1, tzinfo=UTC))
    assert book.running(datetime(2025, 6, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    "bad",
    [
        {"experiment": [{"name": "Bad Name", "arm": [{"name": "a"}, {"name": "b"}]}]},
        {"experiment": [{"name": "x", "arm": [{"name": "a"}]}]},
        {"experiment": [{"name": "x", "arm": [{"name": "a"}, {"name": "a"}]}]},
        {"experiment": [{"name": "x", "arm": [{"name": "a", "reply_style": "loud"}, {"name": "b"}]}]},
        {"experiment": [{"name": "x", "arm": [{"name": "a", "blend": {"pop": -1}}, {"name": "b"}]}]},
        {"experiment": [{"name": "x", "arm": [{"name": "a", "rank_weights": [0, 0, 0]}, {"name": "b"}]}]},
    ],
)
def test_bad_declarations_name_the_fix(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        parse_experiments(bad)


def test_assignment_is_sticky_follows_the_split_and_is_independent_across_experiments(tmp_path: Path) -> None:
    exp = _book(tmp_path).get("blend-vs-pop")
    assert all(exp.assign(f"C{i}") == exp.assign(f"C{i}") for i in range(100))
    counts = Counter(exp.assign(f"C{i:05d}").name for i in range(20000))
    assert abs(counts["hybrid"] / 20000 - 0.7) < 0.015  # 0.7 +- ~4.6 standard errors
    other = experiment_from_arms("other", [Arm("hybrid"), Arm("pop")])
    same = sum(exp.assign(f"C{i}").name == other.assign(f"C{i}").name for i in range(4000)) / 4000
    assert abs(same - (0.7 * 0.5 + 0.3 * 0.5)) < 0.04  # no correlation between the two assignments


def test_stop_and_promote_reach_another_process(tmp_path: Path) -> None:
    book = _book(tmp_path)
    assert book.assignment("C1").experiment == "blend-vs-pop"
    with pytest.raises(ConfigError):
        book.stop("blend-vs-pop", "nope")
    book.stop("blend-vs-pop", "pop")
    other = _book(tmp_path)  # a second process reading the same files
    served = other.assignment("C1")
    assert served.experiment is None and served.variant is None and served.arm.name == "pop"
    assert other.running() is None


def test_arm_view_blends_only_the_arms_models() -> None:
    from recommender.hybrid import Hybrid
    from recommender.models import make_model

    data = group_data()
    hybrid = Hybrid({n: make_model(n).fit(data) for n in ("popularity", "itemknn")})
    base = SimpleNamespace(hybrid=hybrid)
    views = ArmViews()
    pop = views.recommender(base, Arm("pop", blend={"popularity": 1.0}))
    assert pop.hybrid.weights == {"popularity": 1.0} and hybrid.weights == {"popularity": 1.0, "itemknn": 1.0}
    assert views.recommender(base, Arm("pop", blend={"popularity": 1.0})) is pop  # built once
    assert views.recommender(base, Arm("hybrid")) is base
    history = [("i0", 1.0), ("i1", 1.0)]
    by_pop = [str(i) for i in pop.hybrid.recommend_for_history(history, 5)[0]]
    by_knn = [str(i) for i in hybrid.recommend_for_history(history, 5)[0]]
    assert by_knn != by_pop and all(i in {f"i{j}" for j in range(10)} for i in by_knn[:3])


def test_mmr_trades_relevance_for_variety() -> None:
    P = SimpleNamespace
    items = [
        P(id="a", category="A > x", brand="b1", s=1.0),
        P(id="b", category="A > x", brand="b1", s=0.9),
        P(id="c", category="B > y", brand="b2", s=0.5),
    ]
    assert [p.id for p in mmr(items, lambda p: p.s, 2, 0.0)] == ["a", "b"]
    assert [p.id for p in mmr(items, lambda p: p.s, 2, 0.6)] == ["a", "c"]


def test_statistics_match_hand_computed_values() -> None:
    r = wilson(50, 100)
    assert math.isclose(r.low, 0.4038, abs_tol=1e-3) and math.isclose(r.high, 0.5962, abs_tol=1e-3)
    # 50/100 vs 30/100: pooled 0.4, se sqrt(0.4*0.6*0.02) = 0.06928, z = 2.887, p = 0.00389
    assert math.isclose(two_proportion_p(50, 100, 30, 100), 0.00389, abs_tol=5e-5)
    assert two_proportion_p(5, 10, 5, 10) == pytest.approx(1.0)
    assert srm_p([600, 400], [0.5, 0.5]) < 1e-9 and srm_p([510, 490], [0.5, 0.5]) > 0.5
    # equal denominators: the ratio's variance is var(num) / (n * d^2)
    ratio, var = ratio_stats([1, 3, 2, 2], [4, 4, 4, 4])
    assert ratio == 0.5 and math.isclose(var, (2 / 3) / (4 * 16))


def test_report_reads_arms_from_stored_events(tmp_path: Path) -> None:
    exp = experiment_from_arms("t1", [Arm("a"), Arm("b")])
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    for i in range(40):
        arm = "a" if i < 20 else "b"
        sid = f"s{i}"
        store.ensure_session(sid)
        store.add_event("impression", session_id=sid, product_id="P1", variant=f"t1:{arm}")
        store.add_event("impression", session_id=sid, product_id="P2", variant=f"t1:{arm}")
        if arm == "a" or i % 4 == 0:
            store.add_event("click", session_id=sid, product_id="P1", variant=f"t1:{arm}")
            store.add_event("purchase", session_id=sid, product_id="P1", variant=f"t1:{arm}")
    store.ensure_session("other")
    store.add_event("impression", session_id="other", product_id="P1", variant="t2:a")  # other experiment
    rep = report(store.events(), exp)
    a, b = rep.arms
    assert (a.exposures, b.exposures, a.impressions) == (20, 20, 40)
    assert a.conversion.value == 1.0 and b.conversion.value == 0.25
    assert a.ctr.value == 0.5 and b.ctr.value == 0.125
    assert b.diff["conversion"] == -0.75 and b.p_value["conversion"] < 1e-5
    assert not rep.srm and rep.winner() == "a"
    store.close()


class _StubHybrid:
    def __init__(self) -> None:
        self.models = {"popularity": None, "sequential": None}
        self.weights = {"popularity": 0.0, "sequential": 1.0}
        self.stacker = None


class _StubRecommender:
    """Ranks candidates by id, ascending when it blends popularity only: which view served shows."""

    def __init__(self) -> None:
        self.hybrid = _StubHybrid()

    def recommend(self, customer_id: Any, history: Any = (), k: int = 10, candidates: Any = None, **kw: Any):
        pop = self.hybrid.weights == {"popularity": 1.0}
        ids = sorted(candidates or [], reverse=not pop)
        return [(pid, float(len(ids) - i)) for i, pid in enumerate(ids)][:k]

    def explain(self, *a: Any, **k: Any) -> list[str]:
        return []


def test_engine_serves_each_shopper_their_arm_and_logs_it(demo_shop: Any, tmp_path: Path) -> None:
    bot = demo_shop.assistant(tmp_path / "e.db", history=True, recommender=_StubRecommender())
    exp = experiment_from_arms("served", [Arm("hybrid"), Arm("pop", blend={"popularity": 1.0})])
    bot.experiments = ExperimentBook([exp])
    by_arm: dict[str, str] = {}
    for i in range(1, 41):
        by_arm.setdefault(exp.assign(f"C{i:04d}").name, f"C{i:04d}")
    shown, sid = {}, {"hybrid": "a" * 32, "pop": "b" * 32}
    for arm, cid in by_arm.items():
        evs = list(bot.stream(sid[arm], "show me headphones", customer_id=cid))
        shown[arm] = [c.product_id for c in next(e for e in evs if e.type == "products").cards]
        imps = bot.store.events(session_id=sid[arm], kinds=["impression"])
        assert imps and {e["variant"] for e in imps} == {f"served:{arm}"}
    assert shown["hybrid"] != shown["pop"]  # the two arms see different lists
    # the server's assignment, not the caller's claim, labels a click
    from assistant.access import Access
    from assistant.identity import Identity
    from assistant.outguard import RenderGuard

    access = Access(lambda: bot.store, RenderGuard([]), bot.experiments.variant)
    who = Identity(customer_id=by_arm["pop"])
    access.record_event(
        who, "click", session_id=sid["pop"], product_id=shown["pop"][0], variant="served:hybrid"
    )
    assert bot.store.events(session_id=sid["pop"], kinds=["click"])[0]["variant"] == "served:pop"


def test_brief_reply_style_drops_the_follow_up(demo_shop: Any, tmp_path: Path) -> None:
    bot = demo_shop.assistant(tmp_path / "b.db")
    texts = {}
    for style in ("default", "brief"):
        exp = experiment_from_arms(f"st-{style}", [Arm("x", reply_style=style), Arm("y", traffic=1e-9)])
        bot.experiments = ExperimentBook([exp])
        sid = ("c" if style == "brief" else "d") * 32
        bot.respond(sid, "blue tents from Sony")
        texts[style] = bot.respond(sid, "I need a tent").text
    # the same products; the default adds the note on the dropped brand, the brief style does not
    assert texts["default"].startswith(texts["brief"]) and len(texts["brief"]) < len(texts["default"])
