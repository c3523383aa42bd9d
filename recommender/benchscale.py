"""The scale half of `aisle bench recsys`: synthetic data from the command line, and the per-model
fit / tuning / latency / peak-memory table that ``--synthetic`` and ``--inter`` runs report."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from recommender.data import Interactions
from recommender.errors import ConfigError
from recommender.memory import MemoryTracker
from recommender.tuning import Tuner


def synthetic_data(spec: str, seed: int) -> Interactions:
    """``users=N,items=N,interactions=N[,seed=N]`` -> ``recommender.synthetic.synthetic`` data."""
    from recommender.synthetic import parse_spec, synthetic

    p = parse_spec(spec)
    return synthetic(p["users"], p["items"], p["interactions"], seed=p.get("seed", seed))


def save_synthetic(args: argparse.Namespace) -> int:
    """``--save-synthetic FILE``: write the generated data as a RecBole file and stop."""
    from recommender.synthetic import write_recbole

    if not args.synthetic:
        raise ConfigError("--save-synthetic needs --synthetic users=N,items=N,interactions=N")
    data = synthetic_data(args.synthetic, args.seed)
    write_recbole(data, args.save_synthetic)
    print(f"wrote {args.save_synthetic}: {data.n_users} users, {data.n_items} items, {data.nnz} events")
    return 0


def scale_report(models: Mapping[str, Any], tuner: Tuner, memory: MemoryTracker) -> dict[str, Any]:
    """Per model: fit seconds (chosen config), tuning seconds (every config's fit and valid
    evaluation), recommend p50 / p95 ms and the peak resident MiB while it was fit, tuned or
    scored; with the run's peak so far (``memory.resettable`` false: peaks are cumulative)."""
    per: dict[str, dict[str, float]] = {}
    for name, r in models.items():
        stages = [v for k, v in memory.stage_peaks.items() if k.split(":", 1)[-1] == name]
        per[name] = {
            "fit_seconds": r["fit_seconds"],
            "tune_seconds": round(tuner.tune_seconds.get(name, 0.0), 1),
            "recommend_ms_p50": r["recommend_ms_p50"],
            "recommend_ms_p95": r["recommend_ms_p95"],
            "peak_rss_mb": max(stages, default=0.0),
        }
    return {"models": per, "stage_peak_rss_mb": dict(memory.stage_peaks), "per_stage": memory.resettable}
