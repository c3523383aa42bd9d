"""The `aisle` command: a thin dispatcher.

Each subcommand lives in the package that owns it and is imported only when used, so
`aisle --help` stays fast. A handler has the signature ``main(argv: list[str]) -> int``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable

from assistant.errors import AisleError

# name -> (module:function, one-line help, owning area). Nested groups use "group sub".
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("ui.serve:cli", "serve the web app and API on 127.0.0.1:7860", "UI (issue 7)"),
    "ingest": ("assistant.ingest:ingest_cli", "load a catalog (or --demo) into the database and indexes", "Knowledge (issue 4)"),
    "index": ("assistant.ingest:index_cli", "build or update the vector indexes", "Knowledge (issue 4)"),
    "train nlu": ("assistant.nlu.train:cli", "train intent and sentiment classifiers (seeded)", "Understanding (issue 5)"),
    "train parser": ("assistant.nlu.train_parser:cli", "fit the command parser for the shop's catalog (minutes)", "Understanding (issue 14)"),
    "train recsys": ("assistant.recsys_cli:train_cli", "fit the demo shop's hybrid recommender", "Recommender (issue 3)"),
    "bench recsys": ("assistant.recsys_cli:bench_cli", "recommender benchmark on the fixed splits", "Recommender (issue 3)"),
    "bench stacker": ("assistant.recsys_cli:stacker_cli", "learning-to-rank stacker vs the linear blend, on valid only", "Recommender (issue 3)"),
    "bench retrieval": ("knowledge.bench:cli", "retrieval benchmark (demo queries, Amazon Office known-item)", "Knowledge (issue 4)"),
    "bench nlu": ("assistant.nlu.bench:cli", "intent / entity / sentiment benchmark", "Understanding (issue 5)"),
    "bench chat": ("assistant.bench:cli", "end-to-end chat latency and grounding benchmark", "Engine (issue 6)"),
    "bench load": ("ui.loadtest:cli", "concurrent shoppers against the REST/SSE API", "Reliability (issue 9)"),
    "eval": ("eval.run:cli", "offline conversation evaluation suite", "Evaluation (issue 8)"),
    "doctor": ("assistant.doctor:cli", "check versions, models and settings; smoke every component", "Foundation (issue 2)"),
    "models": ("assistant.models:cli", "list, assemble and verify model files", "Foundation (issue 2)"),
}
GROUPS = {"train", "bench"}


def _usage() -> str:
    lines = ["usage: aisle COMMAND [ARGS...]", "", "commands:"]
    for name, (_, help_, _) in COMMANDS.items():
        lines.append(f"  {name:<18} {help_}")
    lines.append("")
    lines.append("`aisle COMMAND --help` shows a command's options.")
    return "\n".join(lines)


def _resolve(argv: list[str]) -> tuple[str, list[str]] | None:
    if not argv:
        return None
    if argv[0] in GROUPS and len(argv) > 1 and f"{argv[0]} {argv[1]}" in COMMANDS:
        return f"{argv[0]} {argv[1]}", argv[2:]
    if argv[0] in COMMANDS:
        return argv[0], argv[1:]
    return None


def _load(target: str) -> Callable[[list[str]], int]:
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Offline by design: nothing may reach a model hub at run time.
    for key, val in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                     ("GRADIO_ANALYTICS_ENABLED", "False"), ("ANONYMIZED_TELEMETRY", "False")):
        os.environ.setdefault(key, val)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    found = _resolve(argv)
    if found is None:
        if argv[0] in GROUPS:
            subs = [n.split()[1] for n in COMMANDS if n.startswith(argv[0] + " ")]
            print(f"aisle {argv[0]}: choose one of: {', '.join(subs)}", file=sys.stderr)
        else:
            print(f"aisle: unknown command {argv[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    name, rest = found
    target, _, owner = COMMANDS[name]
    try:
        handler = _load(target)
    except (ModuleNotFoundError, AttributeError) as exc:
        mod = target.partition(":")[0]
        if isinstance(exc, ModuleNotFoundError) and exc.name and not mod.startswith(exc.name):
            raise
        print(f"aisle {name}: not built yet; it belongs to the {owner} work.", file=sys.stderr)
        return 3
    try:
        return int(handler(rest) or 0)
    except AisleError as exc:
        print(f"aisle {name}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
