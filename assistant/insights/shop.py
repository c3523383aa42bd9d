"""The shop's database as activity records, and the customer insight the console and Insights show.

Activity: every event a customer made (views, carts, purchases, ratings, clicks); spend is a
purchase's catalog price; returns are returned orders; complaints are conversations with a
complaint or a hand-off; sentiment is each chat message's score and each rating as (stars-3)/2.
The churn model is refitted on the shop's own history when Insights asks (seconds on a shop this
size), with the same time-split protocol as the benchmark, so its figures travel with it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from assistant.insights.activity import Activity, FeatureTable, features
from assistant.insights.churn import ChurnModel, time_split
from assistant.insights.segments import Segments, cluster

DAY = 86400.0
# Insights refits on page load: two grid points (shallow and deeper trees) keep that to seconds.
SERVING_GRID = (
    {"max_depth": 2, "learning_rate": 0.1, "n_estimators": 100},
    {"max_depth": 3, "learning_rate": 0.05, "n_estimators": 100},
)
MOVES = {
    "view": "activity",
    "cart": "activity",
    "click": "activity",
    "rate": "activity",
    "purchase": "purchase",
}


def _days(ts: Any) -> float:
    if isinstance(ts, datetime):
        return ts.timestamp() / DAY
    return datetime.fromisoformat(str(ts).replace("Z", "+00:00")).timestamp() / DAY


def activities_from_records(
    events: Iterable[Mapping[str, Any]],
    prices: Mapping[str, float],
    orders: Iterable[Mapping[str, Any]] = (),
    complaints: Iterable[tuple[str, Any]] = (),
    sentiments: Iterable[tuple[str, Any, float]] = (),
) -> list[Activity]:
    """Events are {customer_id, kind or event, product_id, ts, value or rating}."""
    out: list[Activity] = []
    for e in events:
        cid, kind = e.get("customer_id"), str(e.get("kind") or e.get("event") or "")
        if not cid or kind not in MOVES:
            continue
        t = _days(e["ts"])
        amount = float(prices.get(str(e.get("product_id")), 0.0)) if kind == "purchase" else 0.0
        out.append(Activity(str(cid), t, MOVES[kind], amount))
        stars = e.get("value") if e.get("value") is not None else e.get("rating")
        if kind == "rate" and stars is not None:
            out.append(Activity(str(cid), t, "sentiment", score=(float(stars) - 3.0) / 2.0))
    for o in orders:
        if o.get("status") == "returned" and o.get("customer_id"):
            out.append(Activity(str(o["customer_id"]), _days(o["created_at"]), "return"))
    out += [Activity(str(c), _days(ts), "complaint") for c, ts in complaints]
    out += [Activity(str(c), _days(ts), "sentiment", score=float(s)) for c, ts, s in sentiments]
    return out


def store_activities(store: Any, prices: Mapping[str, float]) -> list[Activity]:
    events = [e for e in store.events() if e.get("customer_id")]
    orders = [o for c in store.list_customers(limit=100000) for o in store.orders_for_customer(c["id"])]
    complaints: list[tuple[str, Any]] = [
        (t["customer_id"], t["created_at"])
        for t in store.tickets(status=None, kind="handoff")
        if t.get("customer_id")
    ]
    sentiments: list[tuple[str, Any, float]] = []
    for sess in store.list_sessions(limit=2000, with_messages=True):
        cid = sess.get("customer_id")
        if not cid:
            continue
        for m in store.messages(sess["id"]):
            meta = m.get("meta") or {}
            if m["role"] != "user":
                continue
            if isinstance(meta.get("sentiment_score"), int | float):
                sentiments.append((cid, m["created_at"], float(meta["sentiment_score"])))
            if "complaint" in (meta.get("intents") or []):
                complaints.append((cid, m["created_at"]))
    return activities_from_records(events, prices, orders, complaints, sentiments)


@dataclass
class CustomerInsight:
    """Segments and churn risk for every customer active in the window before ``now``."""

    table: FeatureTable
    segments: Segments
    risk: dict[str, float]
    model: ChurnModel
    figures: dict[str, Any]
    spend: dict[str, float] = field(default_factory=dict)
    built_at: float = field(default_factory=time.time)

    def customer(self, customer_id: str) -> dict[str, Any] | None:
        if customer_id not in self.risk:
            return None
        x = self.table.X[self.table.customers.index(customer_id)]
        return {
            "segment": self.segments.of(customer_id),
            "risk": self.risk[customer_id],
            "reasons": self.model.reasons(x),
        }

    def at_risk(self, n: int = 10) -> list[dict[str, Any]]:
        top = sorted(self.risk, key=lambda c: -self.risk[c])[:n]
        return [{"customer_id": c, **(self.customer(c) or {})} for c in top]

    def segment_summary(self) -> list[dict[str, Any]]:
        out = []
        for i, name in enumerate(self.segments.names):
            members = [
                c for c, lab in zip(self.segments.customers, self.segments.labels, strict=True) if lab == i
            ]
            out.append(
                {
                    "segment": name,
                    "customers": len(members),
                    "revenue": round(sum(self.spend.get(c, 0.0) for c in members), 2),
                }
            )
        return sorted(out, key=lambda s: -s["customers"])


def build_insight(
    acts: list[Activity], now: float | None = None, window: float = 180.0, horizon: float = 60.0
) -> CustomerInsight:
    """Fit and score as of ``now`` (days; default the latest activity): the model is chosen and
    tested on earlier windows (time_split with test cutoff now - horizon), then refitted on the
    latest complete window and applied to everyone active in the window before now."""
    now = now if now is not None else max(a.t for a in acts)
    split = time_split(acts, now - horizon, window, horizon, grid=SERVING_GRID)
    latest = features(acts, now - horizon, window)
    from assistant.insights.activity import churned

    model = ChurnModel(split["params"]).fit(latest.X, churned(acts, latest.customers, now - horizon, horizon))
    table = features(acts, now, window)
    risk = dict(zip(table.customers, model.risk(table.X).tolist(), strict=True))
    figures = {k: v for k, v in split.items() if k != "fitted"}
    spend = dict(zip(table.customers, table.column("spend").tolist(), strict=True))
    return CustomerInsight(table, cluster(table), risk, model, figures, spend)


def prices_of(products: Iterable[Any]) -> dict[str, float]:
    return {str(p.id): float(p.price) for p in products if getattr(p, "price", None) is not None}


def sentiment_falling(scores: list[float], window: int = 3, drop: float = 0.5) -> bool:
    """A conversation whose sentiment is falling: the mean of its last ``window`` shopper messages is
    at least ``drop`` below the mean of the earlier ones, and it ends negative."""
    if len(scores) < window + 1:
        return False
    recent, before = np.mean(scores[-window:]), np.mean(scores[:-window])
    return bool(recent <= before - drop and scores[-1] < 0)
