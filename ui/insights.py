"""Read-only aggregates for the Insights tab and the agent console, plus their charts.

Pure functions over what the store already holds (messages with their meta, events); charts are
matplotlib figures built only when the tab asks for them.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from assistant.store import Store

VARIANTS = ("A", "B")
SENTIMENT_SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}
SEARCH_ACTIONS = {"recommend", "search_products"}


def variant_for(key: str | None, variants: tuple[str, ...] = VARIANTS) -> str:
    """Deterministic A/B assignment: the same customer (or anonymous session) always gets the same arm."""
    digest = hashlib.sha256(f"aisle-ab:{key or 'anonymous'}".encode()).digest()
    return variants[int.from_bytes(digest[:4], "big") % len(variants)]


def _intents(meta: dict[str, Any]) -> list[str]:
    val = meta.get("intents") or meta.get("intent") or []
    return [val] if isinstance(val, str) else [str(x) for x in val]


def _score(meta: dict[str, Any]) -> float | None:
    if isinstance(meta.get("sentiment_score"), int | float):
        return float(meta["sentiment_score"])
    return SENTIMENT_SCORE.get(str(meta.get("sentiment", "")))


def sentiment_series(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One point per shopper message that carries a sentiment (turn index, score in -1..1)."""
    out = []
    for i, m in enumerate(x for x in messages if x.get("role") == "user"):
        s = _score(m.get("meta") or {})
        if s is not None:
            out.append({"turn": i + 1, "score": s, "ts": m.get("created_at")})
    return out


def compute(store: Store, max_sessions: int = 500) -> dict[str, Any]:
    intents: Counter[str] = Counter()
    by_day: dict[str, list[float]] = defaultdict(list)
    unanswered: Counter[str] = Counter()
    for sess in store.list_sessions(limit=max_sessions):
        if str(sess["id"]).startswith("agent-draft-"):  # the console's scratch drafts are not shoppers
            continue
        prev_user: dict[str, Any] | None = None
        for m in store.messages(sess["id"]):
            meta = m.get("meta") or {}
            if m["role"] == "user":
                prev_user = m
                intents.update(_intents(meta)[:1])
                s = _score(meta)
                if s is not None:
                    by_day[str(m["created_at"])[:10]].append(s)
            elif m["role"] == "assistant" and prev_user is not None:
                action = (list(meta.get("actions") or []) + [""])[0]
                user_intents = _intents(prev_user.get("meta") or {})
                # Unanswered: out of scope, nothing found for a product request, or an ungrounded answer.
                if (
                    action == "out_of_scope"
                    or user_intents[:1] == ["out_of_scope"]
                    or meta.get("grounded") is False
                    or (action in SEARCH_ACTIONS and "cards" in meta and not meta["cards"])
                ):
                    unanswered[" ".join(prev_user["text"].lower().split())[:120]] += 1
                prev_user = None
    shown: Counter[str] = Counter()
    clicked: Counter[str] = Counter()
    for ev in store.events(kinds=["impression", "click", "cart"]):
        if (
            str(ev.get("session_id") or "").startswith("agent-draft-")
            or (ev.get("payload") or {}).get("source") == "demo"
        ):
            continue
        # Rows outside any experiment are counted apart, not hashed into fictitious arms.
        arm = ev.get("variant") or "no experiment"
        (shown if ev["kind"] == "impression" else clicked)[arm] += 1
    ctr = {
        arm: {
            "impressions": shown[arm],
            "clicks": clicked[arm],
            "ctr": (clicked[arm] / shown[arm]) if shown[arm] else 0.0,
        }
        for arm in sorted(set(shown) | set(clicked))
    }
    return {
        "intents": dict(intents.most_common()),
        "sentiment_by_day": [
            {"day": d, "mean": sum(v) / len(v), "n": len(v)} for d, v in sorted(by_day.items())
        ],
        "ctr_by_variant": ctr,
        "unanswered": [{"question": q, "count": n} for q, n in unanswered.most_common(10)],
    }


def _fig(title: str) -> tuple[Figure, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.2), dpi=96, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    return fig, ax


def charts(data: dict[str, Any]) -> dict[str, Figure]:
    figs: dict[str, Figure] = {}
    fig, ax = _fig("Intents")
    items = list(data["intents"].items())[:12]
    ax.barh(
        [k for k, _ in items][::-1] or ["(none yet)"], [v for _, v in items][::-1] or [0], color="#2563eb"
    )
    figs["intents"] = fig
    fig, ax = _fig("Shopper sentiment by day (-1..1)")
    days = data["sentiment_by_day"]
    ax.plot([d["day"] for d in days], [d["mean"] for d in days], marker="o", color="#059669")
    ax.set_ylim(-1.05, 1.05)
    ax.axhline(0, color="#999", lw=0.5)
    figs["sentiment"] = fig
    fig, ax = _fig("Recommendation CTR by variant")
    arms = data["ctr_by_variant"]
    ax.bar(list(arms) or ["(none yet)"], [a["ctr"] for a in arms.values()] or [0], color="#d97706")
    for i, a in enumerate(arms.values()):
        ax.annotate(f"{a['clicks']}/{a['impressions']}", (i, a["ctr"]), ha="center", va="bottom")
    figs["ctr"] = fig
    fig, ax = _fig("Top unanswered questions")
    qs = data["unanswered"][:8]
    ax.barh(
        [q["question"][:40] for q in qs][::-1] or ["(none yet)"],
        [q["count"] for q in qs][::-1] or [0],
        color="#dc2626",
    )
    figs["unanswered"] = fig
    return figs
