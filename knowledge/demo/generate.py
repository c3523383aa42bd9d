"""Generate the demo shop: `python -m knowledge.demo.generate --seed 7 --out knowledge/demo`.

Only the standard library's seeded `random.Random` is used, and every file is written with sorted
keys in a stable order, so the same seed always gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from knowledge.demo._orders import make_orders
from knowledge.demo._policies import make_policies
from knowledge.demo._products import make_products, spec_for
from knowledge.demo._reviews import INJECTIONS, review_text
from knowledge.demo._shoppers import make_customers, make_interactions, top_up_reviews
from knowledge.records import Product, Review

DEFAULT_SEED = 7
N_CUSTOMERS = 540
FILES = ("products", "reviews", "policies", "customers", "interactions", "orders")


def build(seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """Every table of the shop as lists of plain dicts, plus a manifest."""
    rng = random.Random(seed)
    products, latents = make_products(rng)
    customers, tastes = make_customers(rng, N_CUSTOMERS, products)
    events = make_interactions(rng, customers, tastes, products, latents)
    events = top_up_reviews(rng, events, customers, tastes, products, latents)
    events.sort(key=lambda e: (e["ts"], e["customer_id"]))  # stable: keeps view < cart < purchase
    by_id = {p.id: p for p in products}

    reviews: list[Review] = []
    for e in (e for e in events if e["event"] == "rate"):
        title, text = review_text(rng, e["rating"], spec_for(by_id[e["product_id"]]))
        reviews.append(
            Review(
                id=f"R{len(reviews) + 1:05d}",
                product_id=e["product_id"],
                rating=e["rating"],
                title=title,
                text=text,
                customer_id=e["customer_id"],
                ts=e["ts"],
            )
        )
    poisoned = sorted(rng.sample(range(len(reviews)), len(INJECTIONS)))
    for idx, injection in zip(poisoned, INJECTIONS, strict=True):
        r = reviews[idx]
        reviews[idx] = Review(**{**r.to_dict(), "text": f"{r.text} {injection}"})

    products = [_with_rating(p, [r.rating for r in reviews if r.product_id == p.id]) for p in products]
    orders = make_orders(rng, events, customers, by_id)
    manifest = {
        "seed": seed,
        "generator": "knowledge/demo/generate.py",
        "poisoned_review_ids": [reviews[i].id for i in poisoned],
        "counts": {},
        "currency": "USD",
        "now": events[-1]["ts"],
    }
    tables: dict[str, Any] = {
        "products": [p.to_dict() for p in products],
        "reviews": [r.to_dict() for r in reviews],
        "policies": [p.to_dict() for p in make_policies()],
        "customers": customers,
        "interactions": events,
        "orders": orders,
    }
    manifest["counts"] = {name: len(rows) for name, rows in tables.items()}
    tables["manifest"] = manifest
    return tables


def _with_rating(p: Product, ratings: list[int]) -> Product:
    if not ratings:
        return p
    return Product(
        **{**p.to_dict(), "rating": round(sum(ratings) / len(ratings), 2), "rating_count": len(ratings)}
    )


def _line(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def write(tables: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FILES:
        path = out / f"{name}.jsonl"
        path.write_text("".join(_line(row) + "\n" for row in tables[name]), encoding="utf-8")
        written.append(path)
    manifest = out / "manifest.json"
    manifest.write_text(json.dumps(tables["manifest"], sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return [*written, manifest]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.demo.generate", description=__doc__)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    for path in write(build(args.seed), args.out):
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
