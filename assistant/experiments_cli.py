"""`aisle experiments list | report NAME | stop NAME [--promote ARM]`."""

from __future__ import annotations

import argparse
import json
import sys

from assistant.experiment_report import report, summary_lines
from assistant.experiments import ExperimentBook

KINDS = ("impression", "click", "cart", "purchase")


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="aisle experiments", description=__doc__)
    sub = ap.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="declared experiments, their arms and state")
    rep = sub.add_parser("report", help="per-arm exposures, CTR, add-to-cart, conversion, p-values, SRM")
    rep.add_argument("name")
    rep.add_argument("--json", action="store_true", help="print the report as JSON")
    stop = sub.add_parser("stop", help="stop an experiment; --promote serves one arm to everyone")
    stop.add_argument("name")
    stop.add_argument("--promote", metavar="ARM", default=None)
    stop.add_argument(
        "--winner",
        action="store_true",
        help="promote the arm the report finds significantly best on conversion (none: stop only)",
    )
    return ap


def cli(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from assistant.settings import load_settings

    settings = load_settings()
    book = ExperimentBook.from_settings(settings)
    if args.action == "list":
        state, running = book.state(), book.running()
        for e in book.experiments:
            st = state.get(e.name)
            status = (
                f"stopped {st['stopped'][:19]}" + (f", promoted {st['winner']}" if st.get("winner") else "")
                if st
                else ("running" if running is not None and running.name == e.name else "not running")
            )
            shares = ", ".join(f"{a}={s:.0%}" for a, s in e.shares().items())
            print(f"{e.name}: {status}; arms {shares}")
        if not book.experiments:
            print("no experiments declared (see docs/insights.md: <data_dir>/experiments.toml)")
        return 0
    exp = book.get(args.name)
    if args.action == "report" or args.winner:
        from assistant.store import Store

        store = Store.from_settings(settings)
        try:
            rep = report(store.events(kinds=list(KINDS)), exp)
        finally:
            store.close()
        if args.action == "report":
            print(json.dumps(rep.to_dict(), indent=2) if args.json else "\n".join(summary_lines(rep)))
            return 0
        args.promote = rep.winner()
    book.stop(exp.name, args.promote)
    print(f"stopped {exp.name}" + (f"; {args.promote} now serves everyone" if args.promote else ""))
    if args.winner and args.promote is None:
        print(
            "no arm was significantly better on conversion: the default configuration serves", file=sys.stderr
        )
    return 0
