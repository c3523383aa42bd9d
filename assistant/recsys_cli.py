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

import numpy as np


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
    """`aisle train recsys`: fit the demo shop's hybrid and save it under <data_dir>/recommender."""
    ap = argparse.ArgumentParser(prog="aisle train recsys", description=train_cli.__doc__)
    ap.add_argument("--out", type=Path, help="output folder (default: <AISLE_DATA_DIR>/recommender)")
    ap.add_argument("--embedder", help="embedder spec for the content model (default: settings.embedder)")
    args = ap.parse_args(argv)
    from assistant.recsys import ShopRecommender
    from assistant.settings import load_settings

    settings = load_settings()
    out = args.out or settings.ensure_data_dir() / "recommender"
    t0 = time.perf_counter()
    rec = ShopRecommender.fit(embedder=args.embedder or settings.embedder)
    rec.save(out)
    h = rec.hybrid
    weights = ", ".join(f"{k}={v:g}" for k, v in h.weights.items() if v)
    print(
        f"fitted shop recommender in {time.perf_counter() - t0:.1f}s: {h.data.n_users} customers, "
        f"{h.data.n_items} products, {h.data.nnz} (customer, product) pairs"
    )
    print(f"blend weights (valid NDCG@10 {h.valid_ndcg or 0:.4f}): {weights}")
    print(f"saved to {out}")
    return 0


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
