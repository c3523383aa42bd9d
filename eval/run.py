"""`aisle eval`: scripted suites + simulated shoppers -> metrics.json, report.html, report.md.

Exit codes: 0 ok; 1 a metric regressed beyond --tolerance against --baseline; 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval import metrics as M
from eval.facts import Facts
from eval.harness import Engine
from eval.score import ConvResult, latency, run_conversation, scripted_metrics, transcript
from eval.simulator import Dialogue, holdout, pick_targets, simulate, summarize
from eval.suite import Conversation, available_suites, load_suites


def _suite_customers(convs: list[Conversation], shop: Any) -> set[str]:
    """Customers the scripts rely on (logged in, or owning an order they mention): never used as
    simulated shoppers, whose later history is held out."""
    owners = {o["id"]: o["customer_id"] for o in shop.orders}
    out = {c.customer_id for c in convs if c.customer_id}
    for c in convs:
        for t in c.turns:
            out.update(owners[o] for o in re.findall(r"ORD-\d{6}", t.user.upper()) if o in owners)
    return out


def evaluate(
    engine: Engine,
    convs: list[Conversation],
    facts: Facts,
    targets: list[Any],
    sim_turns: int = 5,
    progress: Callable[[str], None] | None = None,
    partial: Path | None = None,
) -> tuple[list[ConvResult], list[Dialogue], dict[str, float]]:
    """Run everything against one engine; returns results, dialogues and wall times. Each finished
    transcript is also appended to `partial`, so a run stopped half-way still leaves its evidence."""

    def keep(row: dict[str, Any]) -> None:
        if partial is not None:
            with partial.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")

    t0 = time.perf_counter()
    results = []
    for i, c in enumerate(convs, 1):
        results.append(run_conversation(engine, c, facts))
        keep(transcript(results[-1]))
        if progress:
            progress(f"[{i}/{len(convs)}] {c.id}: {'pass' if results[-1].passed else 'FAIL'}")
    t1 = time.perf_counter()
    dialogues = []
    for i, t in enumerate(targets, 1):
        dialogues.append(simulate(engine, t, max_turns=sim_turns))
        keep({"simulated": True, **_dialogue_json(dialogues[-1])})
        if progress:
            d = dialogues[-1]
            progress(
                f"[sim {i}/{len(targets)}] {t.customer_id} -> {t.product_id}: "
                f"{'found at turn ' + str(d.success_turn) if d.success_turn else 'not found'}"
            )
    return results, dialogues, {"scripted_s": t1 - t0, "simulator_s": time.perf_counter() - t1}


def build_metrics(results: list[ConvResult], dialogues: list[Dialogue], sim_turns: int = 5) -> dict[str, Any]:
    m = scripted_metrics(results)
    records = [r for res in results for r in res.records] + [r for d in dialogues for r in d.turns]
    m["latency_ms"] = latency(records)
    ns = tuple(sorted({1, 3, 5, sim_turns}))
    m["simulator"] = (
        summarize(dialogues, ns=ns) if dialogues else {"n": 0, "success@5": None, "per_category": {}}
    )
    m["stages"]["recommendation_hit_rate"] = m["simulator"].get("first_list_hit_rate")
    return m


def _dialogue_json(d: Dialogue) -> dict[str, Any]:
    return {
        "customer_id": d.target.customer_id,
        "target": d.target.product_id,
        "category": d.target.category,
        "success_turn": d.success_turn,
        "best_rank": d.best_rank,
        "turns": [
            {
                "user": r.user,
                "reply": r.text,
                "action": r.action,
                "cards": [f"{c.get('product_id')} {c.get('title')}" for c in r.cards],
            }
            for r in d.turns
        ],
    }


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="aisle eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--suite",
        action="append",
        help=f"suite name or .yaml path, repeatable (default: all but smoke; "
        f"available: {', '.join(available_suites())})",
    )
    ap.add_argument(
        "--backend", default="template", help="template | default | fast | test | fake | openai | X.gguf"
    )
    ap.add_argument(
        "--embedder", default="minilm", help="minilm (default; the trained NLU needs it) or hashing"
    )
    ap.add_argument(
        "--recsys-embedder",
        help="content embedder for the recommender fit (default: --embedder; "
        "hashing makes the sandbox setup ~50 s faster for smoke runs)",
    )
    ap.add_argument(
        "--no-cache",
        action="store_true",
        help="rebuild the indexes and the recommender instead of "
        "reusing the copies cached (by content, embedder and source hash) under <cache_dir>/eval",
    )
    ap.add_argument("--baseline", type=Path, help="metrics.json of an earlier run to compare against")
    ap.add_argument(
        "--tolerance", type=float, default=0.02, help="allowed drop per gated metric (default 0.02)"
    )
    ap.add_argument("--simulated", type=int, default=40, help="simulated shoppers (default 40; 0 = none)")
    ap.add_argument(
        "--sim-turns", type=int, default=5, help="shopper turns per simulated dialogue (default 5)"
    )
    ap.add_argument("--limit", type=int, help="only the first N scripted conversations (a bounded run)")
    ap.add_argument(
        "--per-suite",
        type=int,
        help="only the first N conversations of each suite (a bounded run "
        "that still covers every suite, e.g. for the slow default model)",
    )
    ap.add_argument(
        "--llama-threads",
        type=int,
        help="llama.cpp threads for a GGUF backend (default: "
        "AISLE_LLAMA_THREADS if set, else the CPUs this process may use, at most 4: an offline run has "
        "the machine to itself, unlike the web server, which keeps 1)",
    )
    ap.add_argument("--seed", type=int, default=0, help="simulated shopper selection seed")
    ap.add_argument("--out", type=Path, required=True, help="output folder")
    ap.add_argument("--quiet", action="store_true")
    return ap


def _parse_args(argv: list[str]) -> tuple[argparse.Namespace, dict[str, Any] | None]:
    """The checked arguments and the baseline metrics (None without --baseline); exits 2 on bad ones."""
    ap = _parser()
    args = ap.parse_args(argv)
    if args.simulated < 0 or args.sim_turns < 1:
        ap.error("--simulated must be >= 0 and --sim-turns >= 1")
    if args.llama_threads is not None and args.llama_threads < 1:
        ap.error("--llama-threads must be >= 1")
    baseline = None
    if args.baseline is not None:
        if not args.baseline.is_file():
            ap.error(
                f"baseline {args.baseline} not found: give the metrics.json of an earlier `aisle eval` run"
            )
        baseline = json.loads(args.baseline.read_text(encoding="utf-8"))
    return args, baseline


def _select(convs: list[Conversation], per_suite: int | None, limit: int | None) -> list[Conversation]:
    """The first `per_suite` conversations of each suite, then the first `limit` of those."""
    if per_suite is not None:
        kept: list[Conversation] = []
        for c in convs:
            if sum(1 for k in kept if k.suite == c.suite) < per_suite:
                kept.append(c)
        convs = kept
    return convs[:limit]


def cli(argv: list[str], *, engine: Engine | None = None) -> int:
    """`aisle eval`. `engine` (tests only) replaces the sandboxed real engine."""
    args, baseline = _parse_args(argv)

    from eval.sandbox import backend_overrides
    from knowledge.demo import load_demo

    backend_overrides(args.backend)  # fail fast on a bad name, before the minute of setup
    say = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    convs = _select(load_suites(args.suite), args.per_suite, args.limit)
    shop = load_demo()
    facts = Facts.from_shop(shop)
    skip = _suite_customers(convs, shop)
    targets = pick_targets(shop, args.simulated, seed=args.seed, exclude=skip)
    t0 = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    partial = args.out / "transcripts.partial.jsonl"
    partial.unlink(missing_ok=True)
    threads: int | None = None
    if engine is not None:
        setup_s = 0.0
        results, dialogues, times = evaluate(engine, convs, facts, targets, args.sim_turns, say, partial)
    else:
        results, dialogues, times, setup_s, threads = _sandboxed(
            args, shop, convs, facts, targets, say, partial, t0
        )
    m: dict[str, Any] = {
        "backend": args.backend,
        "embedder": args.embedder,
        "llama_threads": threads,
        "suites": sorted({c.suite for c in convs}),
        **build_metrics(results, dialogues, args.sim_turns),
    }
    m["timing_s"] = {"setup": setup_s, **times, "total": time.perf_counter() - t0}
    partial.unlink(missing_ok=True)
    _write_outputs(args.out, m, results, dialogues)
    say(
        f"task success {_p(m['task_success'])} · constraints {_p(m['constraint_satisfaction'])} · "
        f"groundedness {_p(m['groundedness'])} · unknown products {m['unknown_products']} · "
        f"wrong prices {m['wrong_prices']} · "
        f"sim success@5 {_p(m['simulator'].get('success@5'))} -> {args.out}/report.html"
    )
    if baseline is not None:
        return _gate(m, baseline, args.tolerance, args.out)
    return 0


def _sandboxed(
    args: argparse.Namespace,
    shop: Any,
    convs: list[Conversation],
    facts: Facts,
    targets: list[Any],
    say: Callable[[str], None],
    partial: Path,
    t0: float,
) -> tuple[list[ConvResult], list[Dialogue], dict[str, float], float, int | None]:
    """Run everything against the real engine in an isolated data dir built from the demo shop:
    results, dialogues, wall times, setup seconds and the llama.cpp threads (None off llama)."""
    from eval.sandbox import Sandbox

    say(f"building an isolated data dir from the demo shop ({len(targets)} shoppers' last visit held out)...")
    with Sandbox(
        args.backend,
        args.embedder,
        cutoffs=holdout(targets),
        shop=shop,
        recsys_embedder=args.recsys_embedder,
        use_cache=not args.no_cache,
        **_thread_override(args.llama_threads),
    ) as box:
        real = box.engine()
        threads = box.settings.llama_threads if box.settings.generator_backend == "llama" else None
        setup_s = time.perf_counter() - t0
        say(f"ready in {setup_s:.1f} s; {len(convs)} conversations, {sum(len(c.turns) for c in convs)} turns")
        results, dialogues, times = evaluate(real, convs, facts, targets, args.sim_turns, say, partial)
        real.store.close()
    return results, dialogues, times, setup_s, threads


def _write_outputs(
    out: Path, m: dict[str, Any], results: list[ConvResult], dialogues: list[Dialogue]
) -> None:
    """metrics.json, transcripts.jsonl (scripted, then simulated) and the reports."""
    (out / "metrics.json").write_text(json.dumps(m, indent=2, sort_keys=True), encoding="utf-8")
    trs = [transcript(r) for r in results]
    with (out / "transcripts.jsonl").open("w", encoding="utf-8") as fh:
        for t in trs:
            fh.write(json.dumps(t) + "\n")
        for d in dialogues:
            fh.write(json.dumps({"simulated": True, **_dialogue_json(d)}) + "\n")
    from eval.report import write

    records = [r for res in results for r in res.records] + [r for d in dialogues for r in d.turns]
    ms = {
        "products": [r.ms_products for r in records if r.ms_products is not None],
        "first token": [r.ms_first_token for r in records if r.ms_first_token is not None],
        "full reply": [r.ms_done for r in records if r.ms_done is not None],
    }
    write(out, m, trs, ms, [_dialogue_json(d) for d in dialogues])


def _gate(m: dict[str, Any], baseline: dict[str, Any], tolerance: float, out: Path) -> int:
    """1 when a gated metric dropped more than `tolerance` below the baseline (listed in regressions.json)."""
    regs = M.regressions(m, baseline, tolerance)
    for r in regs:
        print(
            f"REGRESSION {r['metric']}: {r['baseline']:.4g} -> {r['current']:.4g} "
            f"(tolerance {r['tolerance']:.4g})",
            file=sys.stderr,
        )
    (out / "regressions.json").write_text(json.dumps(regs, indent=2), encoding="utf-8")
    return 1 if regs else 0


def _thread_override(threads: int | None) -> dict[str, int]:
    """llama.cpp threads for the run: 2 threads write ~1.5x faster than 1 on this 2-core box when
    nothing else runs (9.0 vs 5.9 tokens/s measured), which is what keeps `make eval` under 45 min."""
    import os

    if threads is None and os.environ.get("AISLE_LLAMA_THREADS"):
        return {}  # the environment decides (Settings reads it)
    if threads is None:
        threads = min(
            4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        )
    return {"llama_threads": threads}


def _p(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"
