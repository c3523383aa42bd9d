"""`aisle train recsys`: fit the shop's recommender and save it in the data folder.

The ``recommender`` library takes an ``embed`` function, never settings; this command is where the
embedder is chosen and the shop's data folder is read (its benchmark: ``aisle.bench.recsys``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.recsys import ShopRecommender
    from assistant.settings import Settings


def train_cli(argv: list[str]) -> int:
    """`aisle train recsys`: fit the shop's recommender on its catalog and history (events loaded with
    `aisle ingest --interactions FILE`, and live clicks, carts and purchases) and save it under
    <data_dir>/recommender. The demo shop uses its own simulated history. With no history it fits
    content-based suggestions only."""
    ap = argparse.ArgumentParser(prog="aisle train recsys", description=train_cli.__doc__)
    ap.add_argument("--out", type=Path, help="output folder (default: <AISLE_DATA_DIR>/recommender)")
    ap.add_argument("--embedder", help="embedder spec for the content model (default: settings.embedder)")
    args = ap.parse_args(argv)
    from assistant.settings import load_settings

    settings = load_settings()
    out = args.out or settings.ensure_data_dir() / "recommender"
    t0 = time.perf_counter()
    rec = fit_shop_recommender(settings, args.embedder or settings.embedder)
    rec.save(out)
    print(describe(rec, time.perf_counter() - t0))
    print(f"saved to {out}")
    return 0


def fit_shop_recommender(settings: Settings, embedder: str) -> ShopRecommender:
    """The recommender for the ingested shop (the packaged demo shop when nothing is ingested)."""
    from assistant.recsys import ShopRecommender

    return ShopRecommender.fit(shop_history(settings), embedder=embedder)


def shop_history(settings: Settings) -> Any:
    """The demo shop (with its simulated history) when the ingested catalog is the demo's; otherwise
    the catalog snapshot and the database's view / cart / purchase / rate events."""
    from assistant.recsys import ShopHistory
    from assistant.store import Store
    from knowledge.demo import load_demo
    from knowledge.errors import DataError
    from knowledge.snapshot import load_catalog

    demo = load_demo()
    try:
        products = load_catalog(settings.data_dir).products
    except DataError:
        return demo
    if {p.id for p in products} <= {p.id for p in demo.products}:
        return demo
    store = Store.from_settings(settings)
    try:
        rows = store.events(kinds=("view", "click", "cart", "purchase", "rate"))
    finally:
        store.close()
    seen = {"click": "view"}  # a click on a card in the chat is a product view
    events = [
        {
            "customer_id": e["customer_id"],
            "product_id": e["product_id"],
            "event": seen.get(e["kind"], e["kind"]),
            "rating": e["value"],
            "ts": str(e["ts"]),
        }
        for e in rows
        if e["customer_id"] and e["product_id"]
    ]
    return ShopHistory(products, events)


def describe(rec: ShopRecommender, seconds: float) -> str:
    h = rec.hybrid
    if rec.cold:
        return (
            f"fitted the recommender in {seconds:.1f}s: {h.data.n_items} products and no history, so "
            "suggestions are content-based (similar to what the shopper looks at); load history with "
            "`aisle ingest --interactions FILE`, then run `aisle train recsys`"
        )
    weights = ", ".join(f"{k}={v:g}" for k, v in h.weights.items() if v)
    return (
        f"fitted shop recommender in {seconds:.1f}s: {h.data.n_users} customers, {h.data.n_items} products, "
        f"{h.data.nnz} (customer, product) pairs\nblend weights (valid NDCG@10 {h.valid_ndcg or 0:.4f}): "
        f"{weights}"
    )
