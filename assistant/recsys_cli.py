"""Recommender commands: `aisle train recsys`, `aisle bench recsys` and `aisle bench stacker`.

The ``recommender`` library takes an ``embed`` function, never settings; these commands are where
the embedder is chosen and the shop's data folder is read.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from assistant.recsys import ShopRecommender
    from assistant.settings import Settings


def _lazy_embed(spec: str) -> Callable[[list[str]], np.ndarray]:
    """An embed function that loads the model on first use (not when a run skips content)."""
    from knowledge.embed import Embedder, make_embedder

    loaded: list[Embedder] = []

    def embed(texts: list[str]) -> np.ndarray:
        if not loaded:
            loaded.append(make_embedder(spec))
        return loaded[0].embed(texts)

    return embed


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
    events = [{"customer_id": e["customer_id"], "product_id": e["product_id"], "event": seen.get(e["kind"], e["kind"]),
               "rating": e["value"], "ts": str(e["ts"])} for e in rows if e["customer_id"] and e["product_id"]]
    return ShopHistory(products, events)


def describe(rec: ShopRecommender, seconds: float) -> str:
    h = rec.hybrid
    if rec.cold:
        return (f"fitted the recommender in {seconds:.1f}s: {h.data.n_items} products and no history, so "
                "suggestions are content-based (similar to what the shopper looks at); load history with "
                "`aisle ingest --interactions FILE`, then run `aisle train recsys`")
    weights = ", ".join(f"{k}={v:g}" for k, v in h.weights.items() if v)
    return (f"fitted shop recommender in {seconds:.1f}s: {h.data.n_users} customers, {h.data.n_items} products, "
            f"{h.data.nnz} (customer, product) pairs\nblend weights (valid NDCG@10 {h.valid_ndcg or 0:.4f}): "
            f"{weights}")


def bench_cli(argv: list[str]) -> int:
    """`aisle bench recsys`: the library's benchmark, with the packaged MiniLM for the content model."""
    from recommender.bench import cli

    return cli(argv, embed=_lazy_embed("minilm"))


def stacker_cli(argv: list[str]) -> int:
    """`aisle bench stacker`: the learning-to-rank stacker against the linear blend, on valid only."""
    from recommender.bench import load_splits
    from recommender.stacker import compare_on_valid
    from recommender.tuning import DEFAULT_GRIDS, Tuner

    ap = argparse.ArgumentParser(prog="aisle bench stacker", description=stacker_cli.__doc__)
    ap.add_argument("--dataset", choices=("ml-100k", "office"), required=True)
    ap.add_argument("--n-cand", type=int, default=50)
    args = ap.parse_args(argv)
    _, tr, va, _test_unused, _ = load_splits(
        argparse.Namespace(dataset=args.dataset, binary=False, no_content=True)
    )
    del _test_unused  # selection and this comparison see train + valid only
    weighted = bool(np.ptp(tr.weights) > 0)
    grids = {
        m: [g for g in DEFAULT_GRIDS[m] if weighted or g.get("binary", True)]
        for m in DEFAULT_GRIDS
        if m != "content"
    }
    tuned = Tuner(tr, va).select(grids, log=lambda s: None)
    res = compare_on_valid({n: t.model for n, t in tuned.items()}, tr, va, n_cand=args.n_cand)
    res.pop("model", None)
    print(json.dumps(res, indent=2))
    return 0
