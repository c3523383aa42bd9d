"""`aisle bench recsys` and `aisle bench stacker`: the ``recommender`` library's benchmark with the
app's packaged embedder for the content model (the library takes an ``embed`` function, never settings)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

import numpy as np


def lazy_embed(spec: str) -> Callable[[list[str]], np.ndarray]:
    """An embed function that loads the model on first use (not when a run skips content)."""
    from knowledge.embed import Embedder, make_embedder

    loaded: list[Embedder] = []

    def embed(texts: list[str]) -> np.ndarray:
        if not loaded:
            loaded.append(make_embedder(spec))
        return loaded[0].embed(texts)

    return embed


def bench_cli(argv: list[str]) -> int:
    """`aisle bench recsys`: the library's benchmark, with the packaged MiniLM for the content model."""
    from recommender.bench import cli

    return cli(argv, embed=lazy_embed("minilm"))


def stacker_cli(argv: list[str]) -> int:
    """`aisle bench stacker`: the learning-to-rank stacker against the linear blend, on valid only."""
    from recommender.bench import load_splits
    from recommender.stacker import compare_on_valid
    from recommender.tuning import DEFAULT_GRIDS, DEFAULT_MODELS, Tuner

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
        for m in DEFAULT_MODELS
        if m != "content"
    }
    tuned = Tuner(tr, va).select(grids, log=lambda s: None)
    res = compare_on_valid({n: t.model for n, t in tuned.items()}, tr, va, n_cand=args.n_cand)
    res.pop("model", None)
    print(json.dumps(res, indent=2))
    return 0
