"""`aisle train recsys`: fit the demo shop's hybrid and save it under <data_dir>/recommender."""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="aisle train recsys", description=__doc__)
    ap.add_argument("--out", type=Path, help="output folder (default: <AISLE_DATA_DIR>/recommender)")
    ap.add_argument("--embedder", help="embedder spec for the content model (default: settings.embedder)")
    args = ap.parse_args(argv)
    from assistant.settings import load_settings
    from recommender.shop import ShopRecommender

    settings = load_settings()
    out = args.out or settings.ensure_data_dir() / "recommender"
    t0 = time.perf_counter()
    rec = ShopRecommender.fit(embedder=args.embedder or settings.embedder)
    rec.save(out)
    h = rec.hybrid
    weights = ", ".join(f"{k}={v:g}" for k, v in h.weights.items() if v)
    print(f"fitted shop recommender in {time.perf_counter() - t0:.1f}s: {h.data.n_users} customers, "
          f"{h.data.n_items} products, {h.data.nnz} (customer, product) pairs")
    print(f"blend weights (valid NDCG@10 {h.valid_ndcg or 0:.4f}): {weights}")
    print(f"saved to {out}")
    return 0
