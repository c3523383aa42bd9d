"""Write ``demo_queries.jsonl``: hand-written shopper queries with graded relevance judged from the catalog.

Each query below is written by hand together with what the shopper means (target leaf categories,
attribute conditions, description keywords, related categories, known items, and the structured
constraints the NLU would pass as Filters). The grades are then computed from the catalog:

  3  in a target leaf and every condition holds (and all filters hold)
  2  in a target leaf, all filters hold, at most one condition misses (needs >= 2 conditions)
  1  in a target leaf with more misses, or in a related leaf with every condition holding
  0  otherwise (any filter violated -> 0)

Known-item queries give the named product 3 and the rest of its leaf 1. ``MANUAL`` holds grades
changed after reading the judged lists by hand. Every third query (by position) is in the
validation part, used to choose the fusion weights; the rest are the test part.

The queries themselves are in ``demo_query_table``. Run: python -m knowledge.bench_data.make_demo_queries
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from knowledge.bench_data.demo_query_table import MANUAL, QUERIES
from knowledge.records import Product

HERE = Path(__file__).resolve().parent


def _leaf(p: Product) -> str:
    return p.category.split(">")[-1].strip()


def _attr_ok(p: Product, key: str, want: Any) -> bool:
    have = p.attributes.get(key)
    if have is None:
        return False
    for w in want if isinstance(want, list) else [want]:
        w = str(w)
        if w.startswith((">=", "<=")):
            try:
                x, t = float(have.split()[0]), float(w[2:])
            except ValueError:
                continue
            if (x >= t) if w.startswith(">=") else (x <= t):
                return True
        elif have.lower() == w.lower():
            return True
    return False


def filters_ok(p: Product, f: dict[str, Any]) -> bool:
    if "price_max" in f and (p.price is None or p.price > f["price_max"]):
        return False
    if "price_min" in f and (p.price is None or p.price < f["price_min"]):
        return False
    if "min_rating" in f and (p.rating is None or p.rating < f["min_rating"]):
        return False
    if f.get("in_stock") and not (p.stock or 0) > 0:
        return False
    return not (p.brand and p.brand in f.get("exclude_brands", []))


def grade(p: Product, q: dict[str, Any]) -> int:
    if not filters_ok(p, q["filters"]):
        return 0
    leaf = _leaf(p)
    in_leaf, in_related = leaf in q["leaves"], leaf in q["related"]
    if q["ids"]:
        return 3 if p.id in q["ids"] else int(in_leaf)
    checks = [_attr_ok(p, k, v) for k, v in q["attrs"].items()]
    checks += [t.lower() in (p.description + " " + p.title).lower() for t in q["text"]]
    if q["brand"]:
        checks.append((p.brand or "").lower() == q["brand"].lower())
    misses = checks.count(False)
    if in_leaf:
        if misses == 0:
            return 3
        return 2 if misses == 1 and len(checks) >= 2 else 1
    return 1 if in_related and misses == 0 else 0


def judge(products: list[Product]) -> list[dict[str, Any]]:
    out = []
    for n, q in enumerate(QUERIES):
        rel = {p.id: g for p in products if (g := grade(p, q))}
        rel.update(MANUAL.get(n, {}))
        rel = {k: v for k, v in rel.items() if v}
        out.append(
            {
                "qid": f"q{n:03d}",
                "split": "valid" if n % 3 == 0 else "test",
                "query": q["query"],
                "filters": q["filters"],
                "relevance": rel,
            }
        )
    return out


def main() -> None:
    from knowledge.demo import load_demo

    rows = judge(load_demo().products)
    empty = [r["qid"] for r in rows if not any(v == 3 for v in r["relevance"].values())]
    if empty:
        raise SystemExit(f"queries without a fully relevant product: {empty}")
    with (HERE / "demo_queries.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, sort_keys=True) + "\n")
    print(f"wrote {len(rows)} queries ({sum(r['split'] == 'valid' for r in rows)} valid)")


if __name__ == "__main__":
    main()
