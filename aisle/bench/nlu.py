"""`aisle bench nlu`: the understanding benchmark.

Sections: ``commands`` (command exact match and slot F1 on the hand-labelled command sets of
eval/nlu/, written without reading the parser's code; the *_test files are held out and reported as
aggregates only), ``numbers`` (budget exact match), ``paths`` (share of messages the cascade sends to
the LLM; fast-path and LLM-path latency), ``cascade`` (with ``--llm``: the same sets read by the
fast parser and the LLM together), ``sentiment`` (held-out review domain vs VADER) and
``simmc`` (command family accuracy on real shopper turns of SIMMC 2.x, evaluation only: its license is
non-commercial). Per-message details are written for the dev sets only (``--details``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.nlu.commands import command_json
from assistant.nlu.read import Context
from assistant.nlu.reader import Reader
from assistant.nlu.score import load_jsonl, price_equal, price_of, score_commands, slots

EVAL_NLU = Path(__file__).resolve().parents[2] / "eval" / "nlu"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PRODUCT = {"FindProducts", "Refine", "Rank", "AskProduct", "Compare", "CheckStock"}
# SIMMC dialogue act -> the command types that serve it.
SIMMC_FAMILIES = {
    "REQUEST:GET": {"FindProducts", "Refine"},
    "INFORM:REFINE": {"Refine", "FindProducts"},
    "INFORM:GET": {"FindProducts", "Refine", "AskProduct"},
    "ASK:GET": {"AskProduct", "Rank", "CheckStock", "Compare"},
    "REQUEST:COMPARE": {"Compare", "Rank"},
}


def _context(row: dict[str, Any], products: dict[str, Any]) -> Context:
    ctx = row.get("context") or {}
    shown = ctx.get("shown") or []
    cats = tuple(dict.fromkeys(products[i].leaf_category for i in shown if i in products))
    return Context(cats, listed=bool(shown), asked=bool(ctx.get("asked")))


def commands_section(
    reader: Reader, path: Path, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    rows = load_jsonl(path)
    products = reader.resolver.v.products
    pairs = []
    for row in rows:
        got = reader.read(row["text"], _context(row, products))
        pred = [command_json(c) for c in got.commands]
        pairs.append((pred, row["commands"]))
        if details is not None:
            ps = set().union(*(slots(c) for c in pred)) if pred else set()
            gs = set().union(*(slots(c) for c in row["commands"]))
            if ps != gs:
                details.append(
                    {
                        "id": row["id"],
                        "text": row["text"],
                        "extra": sorted(ps - gs),
                        "missing": sorted(gs - ps),
                        "path": got.path,
                    }
                )
    return score_commands(pairs)


def numbers_section(
    reader: Reader, path: Path, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    rows = load_jsonl(path)
    ok = 0
    for row in rows:
        got = price_of([command_json(c) for c in reader.read(row["text"]).commands])
        hit = price_equal(got, row["price"])
        ok += int(hit)
        if details is not None and not hit:
            details.append({"id": row["id"], "text": row["text"], "got": got, "want": row["price"]})
    return {"n": len(rows), "exact": round(ok / max(len(rows), 1), 4)}


def paths_section(reader: Reader, texts: list[str], llm: Reader | None) -> dict[str, Any]:
    """How often the cascade needs the LLM, and what each path costs (ms, this machine)."""
    fast_ms, routed = [], 0
    for t in texts:
        t0 = time.perf_counter()
        p = reader.parser.parse(t)
        cmds = reader.read(t).commands
        fast_ms.append((time.perf_counter() - t0) * 1000 / 2)  # read() parses again: half the pair
        routed += int(reader.needs_llm(p, cmds))
    out: dict[str, Any] = {
        "messages": len(texts),
        "llm_share": round(routed / max(len(texts), 1), 4),
        "fast_ms": _pct(fast_ms),
    }
    if llm is not None and llm.llm is not None:
        llm_ms = []
        for t in texts[:40]:
            t0 = time.perf_counter()
            llm.llm.commands(t, Context())
            llm_ms.append((time.perf_counter() - t0) * 1000)
        out["llm_ms"] = _pct(llm_ms)
    return out


def simmc_section(reader: Reader, limit: int = 1500) -> dict[str, Any]:
    path = SHARED / "shopping-utterances" / "simmc_user_turns.jsonl.gz"
    if not path.is_file():
        return {"skipped": f"{path} not found (needs ../shared/data)"}
    import gzip

    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    rows = [r for r in rows if r["act"] in SIMMC_FAMILIES][:limit]
    fam = shop = 0
    for r in rows:
        types = [c.type for c in reader.read(r["utterance"]).commands]
        fam += int(bool(set(types) & SIMMC_FAMILIES[r["act"]]))
        shop += int(bool(set(types) & PRODUCT))
    n = max(len(rows), 1)
    return {"n": len(rows), "family_accuracy": round(fam / n, 4), "shopping_share": round(shop / n, 4)}


def _pct(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {}
    s = sorted(xs)
    return {
        "p50": round(statistics.median(s), 2),
        "p95": round(s[min(len(s) - 1, int(0.95 * len(s)))], 2),
        "n": len(s),
    }


def run(
    reader: Reader,
    llm_reader: Reader | None,
    sentiment: Callable[[], dict[str, Any]] | None,
    details: Path | None,
    held_out: bool = False,
) -> dict[str, Any]:
    dev_details: dict[str, list[dict[str, Any]]] = {"commands": [], "numbers": []}
    out: dict[str, Any] = {"commands": {}, "numbers": {}}
    for name in ("dev", "test") if held_out else ("dev",):
        f = EVAL_NLU / f"commands_{name}.jsonl"
        if f.is_file():
            out["commands"][name] = commands_section(
                reader, f, dev_details["commands"] if name == "dev" else None
            )
        f = EVAL_NLU / f"numbers_{name}.jsonl"
        if f.is_file():
            out["numbers"][name] = numbers_section(
                reader, f, dev_details["numbers"] if name == "dev" else None
            )
    if llm_reader is not None:  # the whole cascade: unsure messages go to the LLM command generator
        out["cascade"] = {}
        for name in ("test",) if held_out else ("dev",):  # the LLM is slow: the sets that are reported
            for kind, section in (("commands", commands_section), ("numbers", numbers_section)):
                f = EVAL_NLU / f"{kind}_{name}.jsonl"
                if f.is_file():
                    out["cascade"].setdefault(kind, {})[name] = section(llm_reader, f)
    test = EVAL_NLU / ("commands_test.jsonl" if held_out else "commands_dev.jsonl")
    texts = [r["text"] for r in load_jsonl(test)] if test.is_file() else []
    out["paths"] = paths_section(reader, texts, llm_reader)
    out["simmc"] = simmc_section(reader)
    if sentiment is not None:
        out["sentiment"] = sentiment()
    if details is not None:
        details.write_text(json.dumps(dev_details, indent=1), encoding="utf-8")
    return out


def shop_section(data_dir: Path, name: str, settings: Any, embedder: Any, held_out: bool) -> dict[str, Any]:
    """Another shop's parser (trained from its catalog alone) on its own hand-labelled sets."""
    from assistant.wiring import build_reader
    from knowledge.snapshot import load_catalog

    if not held_out:
        return {"skipped": "the other shops' sets are held out: pass --held-out for the final measurement"}
    shop_settings = settings.model_copy(update={"data_dir": data_dir, "parser_path": data_dir / "parser"})
    reader = build_reader(shop_settings, list(load_catalog(data_dir).products), embedder)
    out: dict[str, Any] = {"parser": str(data_dir / "parser")}
    for kind, section in (("commands", commands_section), ("numbers", numbers_section)):
        f = EVAL_NLU / f"{name}_{kind}_test.jsonl"
        if f.is_file():
            out[kind] = section(reader, f)
    return out


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="aisle bench nlu", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", type=Path, required=True, help="JSON file to write")
    ap.add_argument("--llm", action="store_true", help="also time the LLM command path (needs `make models`)")
    ap.add_argument("--details", type=Path, help="per-message misses on the dev sets (never the test sets)")
    ap.add_argument(
        "--held-out",
        action="store_true",
        help="also score the held-out *_test sets (aggregates only); "
        "they are for the final measurement, never for tuning",
    )
    ap.add_argument(
        "--shop",
        action="append",
        default=[],
        metavar="DATA_DIR:NAME",
        help="also score another shop: its ingested catalog and trained parser in DATA_DIR, against "
        "eval/nlu/NAME_commands_test.jsonl and NAME_numbers_test.jsonl (with --held-out)",
    )
    args = ap.parse_args(argv)
    from assistant.components import embedder_from_settings
    from assistant.settings import load_settings
    from assistant.wiring import build_reader
    from knowledge.demo import load_demo

    settings = load_settings(nlu_llm="off")
    products = list(load_demo().products)
    embedder = embedder_from_settings(settings)
    reader = build_reader(settings, products, embedder)
    llm_reader = (
        build_reader(settings.model_copy(update={"nlu_llm": "on"}), products, embedder) if args.llm else None
    )

    def sentiment() -> dict[str, Any]:
        try:
            from assistant.nlu.sentiment_eval import report
        except ImportError as exc:
            return {"skipped": f"sentiment report unavailable ({exc})"}
        return report(embedder.embed)

    result = run(reader, llm_reader, sentiment, args.details, args.held_out)
    for spec in args.shop:
        data_dir, _, name = spec.rpartition(":")
        result[f"shop:{name}"] = shop_section(Path(data_dir), name, settings, embedder, args.held_out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0
