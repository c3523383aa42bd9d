"""Pure metric functions for the evaluation suite: no I/O, no engine, plain values in and out."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

# Metrics where lower is better; every other numeric metric is higher-is-better.
LOWER_IS_BETTER = ("unknown_products", "wrong_prices", "wrong_ratings", "latency_ms", "turns_to_success")


def ratio(num: float, den: float) -> float | None:
    """num/den, or None when there is nothing to measure (not 0: "no data" is not "all wrong")."""
    return None if den == 0 else num / den


def accuracy(pairs: Iterable[tuple[Any, Any]]) -> float | None:
    """Share of (expected, predicted) pairs where predicted is expected (or in it, when expected is a set)."""
    n = hits = 0
    for exp, pred in pairs:
        n += 1
        ok = pred in exp if isinstance(exp, set | frozenset | list | tuple) else pred == exp
        hits += int(ok)
    return ratio(hits, n)


def set_prf(pairs: Iterable[tuple[set[Any], set[Any]]]) -> dict[str, float | None]:
    """Micro precision / recall / F1 over (expected items, predicted items) pairs, e.g. entity
    (type, value) tuples per turn. A turn with nothing expected and nothing predicted adds nothing."""
    tp = fp = fn = 0
    for exp, pred in pairs:
        tp += len(exp & pred)
        fp += len(pred - exp)
        fn += len(exp - pred)
    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = None if p is None or r is None else (0.0 if p + r == 0 else 2 * p * r / (p + r))
    return {"precision": p, "recall": r, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[Hashable], relevant: set[Hashable], k: int) -> float | None:
    """Binary-relevance NDCG@k; IDCG over min(|relevant|, k). None when nothing is relevant."""
    if not relevant:
        return None
    gains = [1.0 if x in relevant else 0.0 for x in list(ranked)[:k]]
    ideal = dcg([1.0] * min(len(relevant), k))
    return dcg(gains) / ideal


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return None if not vals else sum(vals) / len(vals)


def precision_recall(labels: Iterable[tuple[bool, bool]]) -> dict[str, float | None]:
    """(expected, predicted) booleans -> precision, recall, F1 of the positive class (e.g. hand-off)."""
    tp = fp = fn = 0
    for exp, pred in labels:
        tp += int(exp and pred)
        fp += int(pred and not exp)
        fn += int(exp and not pred)
    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = None if p is None or r is None else (0.0 if p + r == 0 else 2 * p * r / (p + r))
    return {"precision": p, "recall": r, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_summary(values_ms: Sequence[float]) -> dict[str, float | None]:
    return {
        "p50": percentile(values_ms, 50),
        "p95": percentile(values_ms, 95),
        "mean": mean(values_ms),
        "n": len(values_ms),
    }


def success_at_n(turns_to_success: Sequence[int | None], n: int) -> float | None:
    """Share of dialogues whose target was shown within n shopper turns (None = never shown)."""
    return ratio(sum(1 for t in turns_to_success if t is not None and t <= n), len(turns_to_success))


def recall_at_k(best_ranks: Sequence[int | None], k: int) -> float | None:
    """Single-target recall@k: share of dialogues whose target reached rank <= k (1-based) in some
    product list shown during the dialogue."""
    return ratio(sum(1 for r in best_ranks if r is not None and r <= k), len(best_ranks))


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, bool):
            continue
        elif isinstance(v, int | float) and not (isinstance(v, float) and math.isnan(v)):
            out[key] = float(v)
    return out


# Only these are gated by --baseline: quality figures, not counts of runs or timings (latency on
# a shared CPU swings far beyond any useful tolerance).
GATED = (
    "task_success",
    "turn_pass_rate",
    "constraint_satisfaction",
    "groundedness",
    "unknown_products",
    "wrong_prices",
    "wrong_ratings",
    "stages.intent_accuracy",
    "stages.entity_f1",
    "stages.retrieval_ndcg@5",
    "handoff.precision",
    "handoff.recall",
    "simulator.success@5",
)


def regressions(
    current: Mapping[str, Any], baseline: Mapping[str, Any], tolerance: float, keys: Sequence[str] = GATED
) -> list[dict[str, Any]]:
    """Metrics in `keys` that got worse than the baseline by more than `tolerance` (absolute for
    rates in [0, 1]; for counts, any increase beyond tolerance x max(1, baseline))."""
    cur, base = _flatten(current), _flatten(baseline)
    out = []
    for key in keys:
        if key not in cur or key not in base:
            continue
        c, b = cur[key], base[key]
        lower = any(key.split(".")[0] == name for name in LOWER_IS_BETTER)
        allowed = tolerance * max(1.0, abs(b)) if lower else tolerance
        worse = (c - b) if lower else (b - c)
        if worse > allowed + 1e-12:
            out.append({"metric": key, "baseline": b, "current": c, "tolerance": allowed})
    return out
