"""`aisle bench recsys`: every model, tuned on valid, evaluated once on test (full ranking).

Protocol (../shared/data/README.md): rank all items; valid masks train items, test masks train +
valid items; average over users with a positive. Hyper-parameters and blend weights are chosen by
``Tuner(train, valid)``, which never receives test. Models are fit on train only; at test time a
user's train + valid events are their history (folded in, no refit: item-based models score from
the history, PureSVD / ALS re-solve the user vector from it with the item factors fixed, BPR and
NeuMF keep their learned user vectors). ``train_history_ndcg@10`` also reports each model scored
from train events only, the way RecBole's general models are. On ml-100k the train / valid rows
carry the rating and time of each event (from ``ml-100k.inter``; ``--binary`` drops them).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from recommender.base import Recommender
from recommender.benchscale import save_synthetic, scale_report, synthetic_data
from recommender.data import (
    Interactions,
    read_amazon_seq,
    read_recbole,
    read_split_dir,
    read_tsv,
    split_loo,
    split_random,
)
from recommender.errors import ConfigError, DataError
from recommender.evaluation import METRICS as METRICS  # re-exported: the tests import it here
from recommender.evaluation import evaluate
from recommender.hybrid import Hybrid
from recommender.memory import MemoryTracker
from recommender.metrics import mae, rmse
from recommender.models import make_model
from recommender.models.content import Content, Embed
from recommender.models.rating import BiasedMF
from recommender.tuning import DEFAULT_GRIDS, DEFAULT_MODELS, OPT_IN, Tuned, Tuner

DATASETS = {"ml-100k": "ml-100k", "office": "office"}
# Seconds the tuner may spend beyond every model's first configuration (``--tune-budget``); on
# ml-100k and office the whole grid fits in it, on a 25,000 x 15,000 shop it keeps the run short.
DEFAULT_TUNE_BUDGET_S = 420.0


def shared_data_dir() -> Path:
    env = os.environ.get("AISLE_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def item_texts(dataset: str, root: Path) -> dict[str, str]:
    """Item descriptions for the content model (title, genres / brand, categories, description)."""
    if dataset == "ml-100k":
        import pandas as pd

        df = pd.read_csv(root / "ml-100k" / "ml-100k.item", sep="\t", dtype=str).fillna("")
        df.columns = [c.split(":")[0] for c in df.columns]
        return {
            r.item_id: f"{r.movie_title} ({r.release_year}). Genres: {r['class']}" for _, r in df.iterrows()
        }
    if dataset == "office":
        items = json.loads((root / "amazon-office" / "Office.item.json").read_text())
        return {
            k: f"{v.get('title', '')}. Brand: {v.get('brand', '')}. {v.get('categories', '')}. "
            f"{v.get('description', '')[:200]}"
            for k, v in items.items()
        }
    return {}


def attach_events(split: Interactions, inter_file: Path) -> Interactions:
    """The split rows with the rating (as weight) and the real timestamp of each event, looked up
    in the dataset's RecBole ``.inter`` file. The split TSVs carry only (user, item) and list a
    user's rows in random order; ``.inter`` has the rating and time of every event. Used for
    train and valid; the ranking test rows stay plain positives, and test ratings are read only
    as labels for the final RMSE / MAE (``rated_test_rows``)."""
    import pandas as pd

    df = pd.read_csv(inter_file, sep="\t", dtype=str)
    df.columns = [c.split(":")[0] for c in df.columns]
    key = pd.Series(np.arange(len(df)), index=pd.MultiIndex.from_arrays([df["user_id"], df["item_id"]]))
    if not key.index.is_unique:
        raise DataError(f"{inter_file} has duplicate (user, item) rows: cannot attach ratings unambiguously")
    pairs = pd.MultiIndex.from_arrays(
        [split.user_ids[split.rows].astype(str), split.item_ids[split.cols].astype(str)]
    )
    idx = key.reindex(pairs).to_numpy()
    if np.isnan(idx.astype(float)).any():
        raise DataError(f"{int(np.isnan(idx.astype(float)).sum())} split rows are missing from {inter_file}")
    idx = idx.astype(np.int64)
    ratings = df["rating"].astype(np.float32).to_numpy()[idx]
    ts = df["timestamp"].astype(np.float64).to_numpy()[idx]
    return Interactions(split.user_ids, split.item_ids, split.rows, split.cols, ratings, ts)


def load_splits(
    args: argparse.Namespace,
) -> tuple[str, Interactions, Interactions, Interactions, dict[str, str]]:
    """(name, train, valid, test, item texts). On ml-100k, train and valid carry ratings and times."""
    root = shared_data_dir()
    if args.dataset:
        folder = root / "splits" / DATASETS[args.dataset]
        if not folder.is_dir():
            raise DataError(f"{folder} not found: set AISLE_SHARED_DATA to the shared data folder")
        tr, va, te = read_split_dir(folder)
        inter = root / "ml-100k" / "ml-100k.inter"
        if args.dataset == "ml-100k" and not args.binary and inter.is_file():
            tr, va = attach_events(tr, inter), attach_events(va, inter)
        texts = item_texts(args.dataset, root) if not args.no_content else {}
        return args.dataset, tr, va, te, texts
    if args.synthetic:
        data = synthetic_data(args.synthetic, args.seed)
        tr, va, te = split_loo(data) if args.split == "loo" else split_random(data, seed=args.seed)
        return f"synthetic-{args.synthetic}", tr, va, te, {}
    readers: dict[str, Callable[[Path], Interactions]] = {
        "recbole": read_recbole,
        "amazon-seq": read_amazon_seq,
        "tsv": read_tsv,
    }
    if not Path(args.inter).is_file():
        raise DataError(f"{args.inter} not found: pass an existing interaction file to --inter")
    data = readers[args.format](Path(args.inter))
    tr, va, te = split_loo(data) if args.split == "loo" else split_random(data, seed=args.seed)
    return Path(args.inter).stem, tr, va, te, {}


def rated_test_rows(args: argparse.Namespace, te: Interactions) -> Interactions | None:
    """The test rows with their ratings, for RMSE / MAE only (read after all selection is done)."""
    inter = shared_data_dir() / "ml-100k" / "ml-100k.inter"
    if args.dataset != "ml-100k" or args.binary or not inter.is_file():
        return None
    return attach_events(te, inter)


def rating_report(
    tuner: Tuner, te_rated: Interactions | None, log: Callable[[str], None]
) -> dict[str, Any] | None:
    """RMSE / MAE of the rating model chosen on valid, and of the bias-only baseline, on test."""
    if te_rated is None or not np.ptp(tuner.train.weights) > 0:
        return None
    model, params, valid_rmse = tuner.select_rating(log=log)
    base = BiasedMF(factors=0).fit(tuner.train)
    pred, bpred = model.predict(te_rated.rows, te_rated.cols), base.predict(te_rated.rows, te_rated.cols)
    return {
        "model": "biased MF (alternating ridge)",
        "selected": params,
        "valid_rmse": round(valid_rmse, 4),
        "rmse": round(rmse(pred, te_rated.weights), 4),
        "mae": round(mae(pred, te_rated.weights), 4),
        "baseline_rmse": round(rmse(bpred, te_rated.weights), 4),
        "baseline_mae": round(mae(bpred, te_rated.weights), 4),
        "test_ratings": int(te_rated.nnz),
    }


def run(
    tr: Interactions,
    va: Interactions,
    te: Interactions,
    models: list[str],
    texts: dict[str, str],
    log: Callable[[str], None] = print,
    te_rated: Interactions | None = None,
    stack: bool = True,
    embed: Embed | None = None,
    tune_budget: float | None = None,
    memory: MemoryTracker | None = None,
) -> dict[str, Any]:
    """Select on train + valid, then score every model and the hybrid on test. The content model
    runs only with item ``texts`` and an ``embed`` function for them. ``tune_budget``: seconds
    for configurations beyond each model's first (None: the whole grid)."""
    memory = memory or MemoryTracker()
    for part, d in (("train", tr), ("valid", va), ("test", te)):
        if d.nnz == 0:
            raise DataError(f"the {part} split is empty: use more events per user or --split loo")
    weighted = bool(np.ptp(tr.weights) > 0)  # weighted configs equal binary ones on constant weights
    grids = {
        m: [g for g in DEFAULT_GRIDS[m] if weighted or g.get("binary", True)]
        for m in models
        if m != "content" or (texts and embed)
    }
    extras = {"content": {"item_text": texts, "embed": embed}} if texts and embed else {}
    # ---- selection: train + valid only ------------------------------------------------------
    t_tune = time.perf_counter()
    tuner = Tuner(tr, va, memory=memory)
    tuned = tuner.select(grids, extras, log=log, budget_s=tune_budget)
    tune_s = time.perf_counter() - t_tune
    with memory.stage("blend"):
        hybrid, blend_s = tuner.blend(tuned, stack=stack)
    log(
        f"  hybrid weights {json.dumps({k: round(v, 3) for k, v in hybrid.weights.items()})} "
        f"valid ndcg@10={hybrid.valid_ndcg:.4f}; stacker check {json.dumps(hybrid.stack_report)}"
    )
    # ---- test, once per protocol ---------------------------------------------------------
    history = tr.concat(va)
    fits = {n: t.fit_seconds for n, t in tuned.items()}
    models_ = {n: t.model for n, t in tuned.items()}
    main = evaluate(models_, hybrid, fits, blend_s, history, te, fold_in=True, memory=memory)
    # Protocol 2: refit the chosen configs (and keep the chosen blend weights) on train + valid.
    del models_
    refit_models, refit_fits = refit(tuned, extras, history, log, memory)
    refit_h = Hybrid(refit_models, hybrid.weights)
    if hybrid.stacker is not None:  # same selected stacker, features from the refit models
        refit_h.use_stacker(hybrid.stacker, hybrid.stack_models, hybrid.stack_n_cand)
    refitted = evaluate(refit_models, refit_h, refit_fits, 0.0, history, te, fold_in=False, memory=memory)
    main["hybrid_details"].update(
        {
            "weights": {k: round(v, 3) for k, v in hybrid.weights.items()},
            "valid_ndcg@10": round(float(hybrid.valid_ndcg or 0.0), 4),
            "stacker": {**(hybrid.stack_report or {}), "enabled": hybrid.stacker is not None},
            "selected": {n: t.params for n, t in tuned.items()},
            "valid_ndcg@10_per_model": {n: round(t.valid_ndcg, 4) for n, t in tuned.items()},
        }
    )
    out = {
        **main,
        "models_refit_train_valid": refitted["models"],
        "tuning": {**tuner.budget.report(), "seconds": round(tune_s, 1)},
        "scale": scale_report(main["models"], tuner, memory),
    }
    rating = rating_report(tuner, te_rated, log)
    if rating is not None:
        out["rating_prediction"] = rating
    return out


def refit(
    tuned: dict[str, Tuned],
    extras: Mapping[str, Mapping[str, Any]],
    history: Interactions,
    log: Callable[[str], None],
    memory: MemoryTracker | None = None,
) -> tuple[dict[str, Recommender], dict[str, float]]:
    """The chosen config of every model fit again on ``history`` (train + valid): models and fit seconds."""
    refit_models: dict[str, Recommender] = {}
    refit_fits: dict[str, float] = {}
    for n, t in tuned.items():
        params = {**t.params, **extras.get(n, {})}
        if isinstance(t.model, Content):  # item vectors do not depend on interactions: reuse, don't re-embed
            params = {"embedder": t.params.get("embedder", "minilm"), "embeddings": t.model.E}
        if getattr(t.model, "early_stopping", False):  # no valid left: train for the epochs it chose
            params["epochs"] = getattr(t.model, "best_epoch_", 0) or params.get("epochs", 12)
        t0 = time.perf_counter()
        with (memory or MemoryTracker()).stage(f"refit:{n}"):
            refit_models[n] = make_model(n, **params).fit(history)
        refit_fits[n] = time.perf_counter() - t0
        log(f"  refit {n} on train+valid in {refit_fits[n]:.1f}s")
    return refit_models, refit_fits


def print_table(report: dict[str, Any]) -> None:
    print(f"\n{report['dataset']} — {report['protocol']}")
    print(f"{'model':<12}" + "".join(f"{m:>13}" for m in METRICS) + f"{'fit s':>9}{'p95 ms':>9}")
    for name, r in sorted(report["models"].items(), key=lambda kv: -kv[1]["ndcg@10"]):
        print(
            f"{name:<12}"
            + "".join(f"{r[m]:>13.4f}" for m in METRICS)
            + f"{r['fit_seconds']:>9.1f}{r['recommend_ms_p95']:>9.2f}"
        )


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="aisle bench recsys", description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", choices=sorted(DATASETS), help="a fixed split under ../shared/data/splits")
    src.add_argument("--inter", help="any interaction file (see --format), split with --split")
    src.add_argument(
        "--synthetic",
        metavar="users=N,items=N,interactions=N",
        help="generated data (recommender.synthetic: power-law popularity, taste clusters, sequences)",
    )
    ap.add_argument(
        "--save-synthetic",
        type=Path,
        metavar="FILE.inter",
        help="with --synthetic: write the data as a RecBole .inter file and exit",
    )
    ap.add_argument(
        "--tune-budget",
        type=float,
        default=DEFAULT_TUNE_BUDGET_S,
        help="seconds for configurations beyond each model's first; 0: the whole grid "
        f"(default {DEFAULT_TUNE_BUDGET_S:g})",
    )
    ap.add_argument("--format", choices=("recbole", "amazon-seq", "tsv"), default="recbole")
    ap.add_argument("--split", choices=("loo", "random"), default="loo")
    ap.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        help=f"comma-separated models (default: all but the opt-in {', '.join(OPT_IN)})",
    )
    ap.add_argument("--no-content", action="store_true", help="skip the content model (no embedder load)")
    ap.add_argument(
        "--binary",
        action="store_true",
        help="ml-100k: ignore the ratings and times of train/valid events (plain (user, item) pairs)",
    )
    ap.add_argument(
        "--no-stacker",
        action="store_true",
        help="skip the learning-to-rank stacker check (linear blend only)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="write the JSON report here")
    return ap


def print_report(report: dict[str, Any]) -> None:
    """Both tables (fold-in and refit), the rating prediction when there is one, and the total time."""
    print_table(report)
    print_table({**report, "models": report["models_refit_train_valid"], "protocol": "refit on train+valid"})
    if "rating_prediction" in report:
        r = report["rating_prediction"]
        print(
            f"rating prediction ({r['model']}, {r['selected']}): test RMSE {r['rmse']} MAE {r['mae']} "
            f"(bias baseline {r['baseline_rmse']} / {r['baseline_mae']})"
        )
    print(f"total {report['total_seconds']} s, peak resident memory {report.get('peak_rss_mb', 0):.0f} MiB")
    tuning = report.get("tuning", {})
    if tuning.get("skipped") or tuning.get("discarded_early"):
        print(
            f"tuning: {len(tuning['skipped'])} configs skipped by the {tuning['budget_s']:g} s budget, "
            f"{len(tuning['discarded_early'])} discarded early on probe users"
        )


def cli(argv: list[str], embed: Embed | None = None) -> int:
    """The benchmark's command line; ``embed`` (texts -> vectors) enables the content model."""
    args = _parser().parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(DEFAULT_GRIDS))
    if unknown:
        raise DataError(f"unknown models {unknown}: choose from {', '.join(DEFAULT_GRIDS)}")
    if args.save_synthetic:
        return save_synthetic(args)
    t0 = time.perf_counter()
    memory = MemoryTracker()
    with memory.stage("load"):
        name, tr, va, te, texts = load_splits(args)
    if "content" in models and texts and embed is None:
        raise ConfigError(
            "the content model needs an embed function: run `aisle bench recsys` (it supplies "
            "the packaged MiniLM), pass embed= to cli(), or add --no-content"
        )
    print(f"{name}: {tr.n_users} users, {tr.n_items} items; train/valid/test rows {tr.nnz}/{va.nnz}/{te.nnz}")
    out = run(
        tr,
        va,
        te,
        models,
        texts,
        te_rated=rated_test_rows(args, te),
        stack=not args.no_stacker,
        embed=embed,
        tune_budget=args.tune_budget or None,
        memory=memory,
    )
    report = {
        "dataset": name,
        "protocol": "full ranking; test masks train+valid; hyper-parameters and blend weights selected "
        "on valid. models: fit on train only, test-time history = train+valid (fold-in, "
        "no refit). models_refit_train_valid: the same configs refit on train+valid. "
        "sampled_*: 1 test positive vs 99 sampled unseen items.",
        "event_weights": "ratings and times from ml-100k.inter (train, valid)"
        if np.ptp(tr.weights) > 0
        else "none (plain user-item pairs)",
        **out,
        "total_seconds": round(time.perf_counter() - t0, 1),
        "peak_rss_mb": memory.finish(),
    }
    print_report(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
        print(f"wrote {args.out}")
    return 0
