"""`aisle bench experiments`: the proof that experiments measure what shoppers see.

Simulated shoppers (eval.simulator, their last visit held out) are the traffic, through the real
engine (template replies) in an isolated data dir:

- known-worse: the control blends popularity alone in the recommender's share of the ranking; the
  second arm serves the fitted hybrid's learned blend, which a pilot run (seed 0) found worse for
  these shoppers; each replication (new experiment name, so a new assignment, and new behaviour
  draws) must find it worse (negative difference, p < 0.05) on conversion;
- A/A: two identical arms, once per seed (a new experiment name, so a new assignment; a new sample
  of shoppers and new behaviour draws); the share of seeds with p < level is the false-positive
  rate, which must stay within the level.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

METRICS = ("ctr", "add_to_cart", "conversion")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="aisle bench experiments", description=__doc__)
    ap.add_argument("--shoppers", type=int, default=400, help="known-worse traffic (capped by eligible)")
    ap.add_argument("--worse-seeds", type=int, default=3, help="known-worse replications")
    ap.add_argument("--aa-seeds", type=int, default=20)
    ap.add_argument("--aa-first", type=int, default=0, help="first A/A seed (to extend an earlier run)")
    ap.add_argument("--aa-shoppers", type=int, default=120, help="shoppers per A/A seed")
    ap.add_argument("--max-turns", type=int, default=3, help="shopper turns before giving up")
    ap.add_argument("--level", type=float, default=0.05)
    ap.add_argument("--out", type=Path, default=Path("bench-out/experiments.json"))
    return ap


def _arms(kind: str) -> list[Any]:
    """ "worse": control "pop" (the recommender's share of the ranking blends popularity alone)
    against "learned" (the fitted hybrid's learned blend), the arm the pilot run found worse for
    these shoppers (docs/benchmarks.md); "aa": two identical arms."""
    from assistant.experiments import Arm

    if kind == "worse":
        return [Arm("pop", blend={"popularity": 1.0}), Arm("learned")]
    return [Arm("a"), Arm("b")]


def _brief(rep: Any) -> dict[str, Any]:
    return {
        "arms": {
            a.arm: {
                "exposures": a.exposures,
                **{m: round(getattr(a, m).value, 4) for m in METRICS},
                **{f"{m}_ci": [round(getattr(a, m).low, 4), round(getattr(a, m).high, 4)] for m in METRICS},
            }
            for a in rep.arms
        },
        "diff": {m: round(v, 4) for m, v in rep.arms[1].diff.items()},
        "p": {m: float(f"{v:.4g}") for m, v in rep.arms[1].p_value.items()},
        "srm_p": rep.srm_p,
        "srm": rep.srm,
    }


def run(args: argparse.Namespace, say: Any) -> dict[str, Any]:

    from eval.experiment_sim import forget_run, run_traffic
    from eval.sandbox import Sandbox
    from eval.simulator import holdout, pick_targets
    from knowledge.demo import load_demo

    shop = load_demo()
    targets = pick_targets(shop, args.shoppers, seed=0)
    say(f"{len(targets)} simulated shoppers; building the sandbox...")
    out: dict[str, Any] = {"shoppers": len(targets), "max_turns": args.max_turns, "level": args.level}
    with Sandbox("template", cutoffs=holdout(targets), shop=shop) as box:
        engine = box.engine()
        t0 = time.perf_counter()
        worse = []
        for seed in range(1, args.worse_seeds + 1):  # seed 0 was the pilot that named the worse arm
            name = f"worse-{seed}"
            r = run_traffic(engine, targets, _arms("worse"), name, seed, args.max_turns, say=say)
            forget_run(engine.store, name)
            worse.append({**_brief(r.report), "seconds": round(time.perf_counter() - t0, 1)})
            say(f"{name}: diff {worse[-1]['diff']} p {worse[-1]['p']}")
            t0 = time.perf_counter()
        found = sum(w["p"]["conversion"] < args.level and w["diff"]["conversion"] < 0 for w in worse)
        out["known_worse"] = {"replications": len(worse), "found_worse": found, "runs": worse}
        runs = []
        for seed in range(args.aa_first, args.aa_first + args.aa_seeds):
            sample = random.Random(seed).sample(targets, min(args.aa_shoppers, len(targets)))
            name = f"aa-{seed}"
            r = run_traffic(engine, sample, _arms("aa"), name, seed, args.max_turns)
            forget_run(engine.store, name)
            runs.append(_brief(r.report))
            say(f"A/A seed {seed}: p {runs[-1]['p']}")
        engine.store.close()
    if runs:
        out["aa"] = {
            "shoppers_per_seed": min(args.aa_shoppers, len(targets)),
            **_aa_summary(runs, args.level),
        }
    return out


def _aa_summary(runs: list[dict[str, Any]], level: float) -> dict[str, Any]:
    from scipy.stats import binomtest

    fp = {m: sum(r["p"][m] < level for r in runs) for m in METRICS}
    return {
        "seeds": len(runs),
        "false_positives": fp,
        "false_positive_rate": {m: fp[m] / len(runs) for m in METRICS},
        # one-sided: is the false-positive rate above the level? (p small = it is)
        "above_level_p": {
            m: float(binomtest(fp[m], len(runs), level, alternative="greater").pvalue) for m in METRICS
        },
        "srm_warnings": sum(r["srm"] for r in runs),
        "runs": runs,
    }


def cli(argv: list[str]) -> int:
    args = _parser().parse_args(argv)

    def say(s: str) -> None:
        print(s, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    out = run(args, say)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2), encoding="utf-8")
    for w in out["known_worse"]["runs"]:
        print(
            f"known-worse (learned blend vs popularity): conversion diff {w['diff']['conversion']:+.3f} "
            f"p {w['p']['conversion']:.3g}; CTR diff {w['diff']['ctr']:+.3f} p {w['p']['ctr']:.3g}"
        )
    if "aa" in out:
        print(
            f"A/A over {out['aa']['seeds']} seeds: false-positive rate "
            + ", ".join(f"{m} {v:.2f}" for m, v in out["aa"]["false_positive_rate"].items())
            + f" (level {args.level})"
        )
    print(f"-> {args.out}")
    return 0
