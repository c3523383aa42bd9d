"""Insights beyond the chat counters: the running experiment, segments, churn risk, satisfaction
and sentiment trajectories, as data (for the API) and as matplotlib figures (for the tab).

The customer insight (segments, churn model) is refitted at most every few minutes per app
(``InsightCache``); everything else is read from the store on each load.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from assistant.experiment_report import report, summary_lines
from assistant.experiments import split_variant
from ui.insights import _fig, _intents, sentiment_series

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from assistant.insights.shop import CustomerInsight

# The app's ui.service.Backend (store, experiments, insight cache); not imported, since the Backend
# builds this module's cache and ui keeps no import cycles.
Backend = Any

EXPERIMENT_KINDS = ["impression", "click", "cart", "purchase"]
METRICS = (("ctr", "CTR"), ("add_to_cart", "add to cart"), ("conversion", "conversion"))


class InsightCache:
    """The shop's customer insight, rebuilt when older than ``ttl_s`` (one per app, never global)."""

    def __init__(self, ttl_s: float = 300.0) -> None:
        self.ttl_s = ttl_s
        self._value: CustomerInsight | None = None
        self._lock = threading.Lock()

    def get(self, backend: Backend) -> CustomerInsight | None:
        with self._lock:
            if self._value is None or time.time() - self._value.built_at > self.ttl_s:
                self._value = _build(backend)
            return self._value


def _build(backend: Backend) -> CustomerInsight | None:
    from assistant.insights.shop import build_insight, prices_of, store_activities

    engine = getattr(backend, "_assistant", None)
    shop = getattr(engine, "shop", None)
    prices = prices_of(shop.products.values()) if shop is not None else {}
    acts = store_activities(backend.store, prices)
    if len({a.customer for a in acts}) < 20:
        return None  # too few customers to segment or to fit a churn model
    return build_insight(acts)


def experiments(backend: Backend) -> list[dict[str, Any]]:
    """Reports of the declared experiments that have traffic (the running one first)."""
    book = backend.experiments
    events = backend.store.events(kinds=EXPERIMENT_KINDS)
    seen = {p[0] for e in events if (p := split_variant(e.get("variant")))}
    running = book.running()
    state = book.state()
    out = []
    for exp in book.experiments:
        if exp.name not in seen:
            continue
        rep = report(events, exp)
        out.append(
            {
                **rep.to_dict(),
                "running": running is not None and running.name == exp.name,
                "stopped": state.get(exp.name),
                "summary": summary_lines(rep),
                "winner": rep.winner(),
            }
        )
    return sorted(out, key=lambda r: not r["running"])


def satisfaction(backend: Backend) -> dict[str, Any]:
    """CSAT (share of 4-5 star ratings) by the conversation's main intent and by experiment arm."""
    store = backend.store
    by_intent: dict[str, list[float]] = defaultdict(list)
    by_arm: dict[str, list[float]] = defaultdict(list)
    for ev in store.events(kinds=["rating"]):
        stars = float(ev.get("value") or 0)
        sid = ev.get("session_id")
        intents: Counter[str] = Counter()
        for m in store.messages(sid) if sid else []:
            if m["role"] == "user":
                intents.update(_intents(m.get("meta") or {})[:1])
        by_intent[intents.most_common(1)[0][0] if intents else "unknown"].append(stars)
        by_arm[ev.get("variant") or "no experiment"].append(stars)

    def block(d: dict[str, list[float]]) -> dict[str, Any]:
        return {
            k: {"ratings": len(v), "csat": sum(x >= 4 for x in v) / len(v), "mean": sum(v) / len(v)}
            for k, v in sorted(d.items())
        }

    return {"by_intent": block(by_intent), "by_arm": block(by_arm)}


def trajectories(backend: Backend, limit: int = 40) -> list[dict[str, Any]]:
    """Each recent conversation's sentiment series, and whether it is falling."""
    from assistant.insights.shop import sentiment_falling

    out = []
    for s in backend.store.list_sessions(limit=limit, with_messages=True):
        pts = sentiment_series(backend.store.messages(s["id"]))
        if len(pts) >= 2:
            scores = [p["score"] for p in pts]
            out.append({"session_id": s["id"], "points": pts, "falling": sentiment_falling(scores)})
    return out


def compute(backend: Backend) -> dict[str, Any]:
    ins = backend.insight.get(backend)
    return {
        "experiments": experiments(backend),
        "segments": ins.segment_summary() if ins else [],
        "at_risk": ins.at_risk(10) if ins else [],
        "churn_model": ins.figures if ins else None,
        "satisfaction": satisfaction(backend),
        "trajectories": trajectories(backend),
    }


def _bars_with_ci(ax: Any, arms: list[dict[str, Any]]) -> None:
    width = 0.8 / max(len(arms), 1)
    for j, arm in enumerate(arms):
        xs = [i + j * width for i in range(len(METRICS))]
        vals = [arm[m]["value"] for m, _ in METRICS]
        err = [
            [arm[m]["value"] - arm[m]["low"] for m, _ in METRICS],
            [arm[m]["high"] - arm[m]["value"] for m, _ in METRICS],
        ]
        ax.bar(xs, vals, width, yerr=err, capsize=3, label=f"{arm['arm']} (n={arm['exposures']})")
    ax.set_xticks([i + width * (len(arms) - 1) / 2 for i in range(len(METRICS))], [lab for _, lab in METRICS])
    ax.legend(fontsize=8)


def experiment_figure(reps: list[dict[str, Any]]) -> Figure:
    if not reps:
        fig, ax = _fig("Experiment: no traffic yet")
        return fig
    rep = reps[0]
    p = rep["arms"][1]["p_value"] if len(rep["arms"]) > 1 else {}
    title = f"Experiment {rep['experiment']}: 95% intervals; p conv {p.get('conversion', 1.0):.2g}"
    fig, ax = _fig(title + ("  (SAMPLE RATIO MISMATCH)" if rep["srm"] else ""))
    _bars_with_ci(ax, rep["arms"])
    return fig


def segments_figure(segs: list[dict[str, Any]]) -> Figure:
    fig, ax = _fig("Segments: customers (bars) and revenue")
    names = [s["segment"] for s in segs] or ["(none yet)"]
    ax.bar(names, [s["customers"] for s in segs] or [0], color="#0891b2")
    for i, s in enumerate(segs):
        ax.annotate(f"${s['revenue']:,.0f}", (i, s["customers"]), ha="center", va="bottom", fontsize=8)
    ax.tick_params(axis="x", labelrotation=15, labelsize=8)
    return fig


def churn_figure(at_risk: list[dict[str, Any]]) -> Figure:
    fig, ax = _fig("Customers most at risk of churning")
    rows = at_risk[:10][::-1]
    ax.barh(
        [r["customer_id"] for r in rows] or ["(none yet)"], [r["risk"] for r in rows] or [0], color="#b91c1c"
    )
    ax.set_xlim(0, 1)
    ax.set_xlabel("churn risk (next 60 days)")
    return fig


def satisfaction_figure(sat: dict[str, Any]) -> Figure:
    fig, ax = _fig("CSAT (share of 4-5 stars) by intent and by arm")
    rows = [(f"intent: {k}", v) for k, v in sat["by_intent"].items()]
    rows += [(f"arm: {k}", v) for k, v in sat["by_arm"].items()]
    ax.barh(
        [r[0] for r in rows] or ["(no ratings yet)"], [r[1]["csat"] for r in rows] or [0], color="#16a34a"
    )
    for i, (_, v) in enumerate(rows):
        ax.annotate(f" n={v['ratings']}", (v["csat"], i), va="center", fontsize=8)
    ax.set_xlim(0, 1.15)
    return fig


def trajectories_figure(trs: list[dict[str, Any]]) -> Figure:
    fig, ax = _fig("Sentiment trajectory per conversation (red: falling)")
    for t in trs[:12]:
        pts = t["points"]
        ax.plot(
            [p["turn"] for p in pts],
            [p["score"] for p in pts],
            marker="o",
            color="#dc2626" if t["falling"] else "#94a3b8",
            lw=2 if t["falling"] else 1,
        )
    ax.set_ylim(-1.05, 1.05)
    ax.axhline(0, color="#999", lw=0.5)
    ax.set_xlabel("shopper turn")
    return fig


def figures(data: dict[str, Any]) -> dict[str, Figure]:
    return {
        "experiment": experiment_figure(data["experiments"]),
        "segments": segments_figure(data["segments"]),
        "churn": churn_figure(data["at_risk"]),
        "satisfaction": satisfaction_figure(data["satisfaction"]),
        "trajectories": trajectories_figure(data["trajectories"]),
    }


def console_notes(backend: Backend, customer_id: str | None, points: list[dict[str, Any]]) -> list[str]:
    """What the agent console adds beside the customer: segment, churn risk with its top reasons, and
    a flag when this conversation's sentiment is falling."""
    from assistant.insights.shop import sentiment_falling

    notes = []
    if sentiment_falling([p["score"] for p in points]):
        notes.append("⚠ Sentiment is falling in this conversation: consider taking over.")
    ins = backend.insight.get(backend) if customer_id else None
    info = ins.customer(customer_id) if ins is not None and customer_id else None
    if info is not None:
        notes.append(f"Segment: {info['segment']}")
        notes.append(
            f"Churn risk: {info['risk']:.0%}"
            + (f" ({'; '.join(info['reasons'])})" if info["reasons"] else "")
        )
    return notes


def falling(backend: Backend, session_id: str) -> bool:
    from assistant.insights.shop import sentiment_falling

    return sentiment_falling([p["score"] for p in sentiment_series(backend.store.messages(session_id))])
