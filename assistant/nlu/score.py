"""Scoring commands against hand-labelled test sets (eval/nlu/*.jsonl, docs/commands.md's schema).

Pure functions: command exact match (the multiset of command types), slot precision/recall/F1 over
(command type, slot, value) triples, and exact budget match for the number/currency sets.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _v(x: Any) -> str:
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int | float):
        return f"{float(x):.2f}"
    s = unicodedata.normalize("NFKD", str(x)).encode("ascii", "ignore").decode()
    return " ".join(s.lower().replace("-", " ").split())


def _order_id(x: Any) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(x).upper())


def _constraints(prefix: str, c: Mapping[str, Any]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for k in ("categories", "brands", "exclude_brands"):
        out.update((f"{prefix}{k}", _v(x)) for x in c.get(k) or [])
    for k in ("attributes", "exclude_attributes"):
        for key, vals in (c.get(k) or {}).items():
            vals = vals if isinstance(vals, list) else [vals]
            out.update((f"{prefix}{k}.{key}", _v(x)) for x in vals)
    for key, b in (c.get("bounds") or {}).items():
        out.update(
            (f"{prefix}bounds.{key}.{end}", _v(b[end])) for end in ("min", "max") if b.get(end) is not None
        )
    price = c.get("price") or {}
    out.update(
        (f"{prefix}price.{end}", _v(price[end])) for end in ("min", "max") if price.get(end) is not None
    )
    cur = price.get("currency") or c.get("currency")
    if cur:
        out.add((f"{prefix}price.currency", _v(cur)))
    if c.get("min_rating") is not None:
        out.add((f"{prefix}min_rating", _v(c["min_rating"])))
    if c.get("in_stock"):
        out.add((f"{prefix}in_stock", "true"))
    return out


def _ref(prefix: str, r: Mapping[str, Any] | None) -> set[tuple[str, str]]:
    if not r:
        return set()
    out = set()
    for k, v in r.items():
        if k == "extreme" and isinstance(v, Mapping):
            out.add((f"{prefix}extreme", f"{_v(v.get('attribute'))}:{_v(v.get('direction'))}"))
        else:
            out.add((f"{prefix}{k}", _v(v)))
    return out


def slots(cmd: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(slot, value) pairs of one command in the docs/commands.md JSON shape, prefixed by its type."""
    t = str(cmd.get("type"))
    out: set[tuple[str, str]] = set()
    if "constraints" in cmd:
        out |= _constraints("", cmd["constraints"])
    if "set" in cmd:
        out |= _constraints("set.", cmd["set"])
    out.update(("unset", _v(x)) for x in cmd.get("unset") or [])
    out.update(
        ("relative", f"{_v(r.get('attribute'))}:{_v(r.get('direction'))}") for r in cmd.get("relative") or []
    )
    for k in ("continue", "reject_shown"):
        if cmd.get(k):
            out.add((k, "true"))
    for k in ("attribute", "direction", "aspect", "topic", "kind"):
        if cmd.get(k) not in (None, ""):
            out.add((k, _v(cmd[k])))
    out |= _ref("ref.", cmd.get("ref"))
    for i, r in enumerate(cmd.get("refs") or []):
        out |= _ref(f"refs{i}.", r)
    if cmd.get("order_id"):
        out.add(("order_id", _order_id(cmd["order_id"])))
    if cmd.get("email"):
        out.add(("email", str(cmd["email"]).strip().lower()))
    return {(f"{t}.{k}", v) for k, v in out}


def score_commands(pairs: Iterable[tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> dict[str, Any]:
    """pairs: (predicted commands, gold commands) per message."""
    n = exact = tp = fp = fn = 0
    per_type: Counter[str] = Counter()
    per_type_ok: Counter[str] = Counter()
    for pred, gold in pairs:
        n += 1
        same = Counter(c["type"] for c in pred) == Counter(c["type"] for c in gold)
        exact += int(same)
        for c in gold:
            per_type[c["type"]] += 1
            per_type_ok[c["type"]] += int(any(p["type"] == c["type"] for p in pred))
        ps = set().union(*(slots(c) for c in pred)) if pred else set()
        gs = set().union(*(slots(c) for c in gold)) if gold else set()
        tp, fp, fn = tp + len(ps & gs), fp + len(ps - gs), fn + len(gs - ps)
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {
        "n": n,
        "command_exact": round(exact / max(n, 1), 4),
        "slot_precision": round(prec, 4),
        "slot_recall": round(rec, 4),
        "slot_f1": round(2 * prec * rec / (prec + rec) if prec + rec else 0.0, 4),
        "type_recall": {t: round(per_type_ok[t] / per_type[t], 3) for t in sorted(per_type)},
    }


def price_of(cmds: list[dict[str, Any]]) -> dict[str, Any]:
    """The budget a message's commands state: {min, max, currency} (None where not stated)."""
    for c in cmds:
        cons = c.get("constraints") or c.get("set") or {}
        price = cons.get("price") or {}
        if price.get("min") is not None or price.get("max") is not None:
            return {
                "min": price.get("min"),
                "max": price.get("max"),
                "currency": price.get("currency") or cons.get("currency"),
            }
    return {"min": None, "max": None, "currency": None}


def price_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    for end in ("min", "max"):
        x, y = a.get(end), b.get(end)
        if x is None or y is None:
            if (x is None) != (y is None):
                return False
            continue
        if abs(float(x) - float(y)) > 0.011:
            return False
    return (
        (a.get("currency") or None) == (b.get("currency") or None)
        or a.get("min") is None
        and a.get("max") is None
    )
