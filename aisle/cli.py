"""The `aisle` command: a thin dispatcher over a typed registry.

Each command is a small loader that imports its handler only when the command runs, so
`aisle --help` stays fast (no torch, gradio or chromadb). A handler is ``(argv) -> exit code``;
mypy checks every loader against that type, so a renamed handler fails the lint, not a user.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from assistant.errors import AisleError

Handler = Callable[[list[str]], int]


@dataclass(frozen=True)
class Command:
    load: Callable[[], Handler]
    help: str


def _run() -> Handler:
    from ui.serve import cli

    return cli


def _ingest() -> Handler:
    from assistant.ingest import ingest_cli

    return ingest_cli


def _index() -> Handler:
    from assistant.ingest import index_cli

    return index_cli


def _train_nlu() -> Handler:
    from assistant.nlu.train import cli

    return cli


def _train_parser() -> Handler:
    from assistant.nlu.train_parser import cli

    return cli


def _train_recsys() -> Handler:
    from assistant.recsys_cli import train_cli

    return train_cli


def _bench_recsys() -> Handler:
    from aisle.bench.recsys import bench_cli

    return bench_cli


def _bench_stacker() -> Handler:
    from aisle.bench.recsys import stacker_cli

    return stacker_cli


def _bench_retrieval() -> Handler:
    from aisle.bench.retrieval import cli

    return cli


def _bench_nlu() -> Handler:
    from aisle.bench.nlu import cli

    return cli


def _bench_chat() -> Handler:
    from aisle.bench.chat import cli

    return cli


def _bench_load() -> Handler:
    from aisle.bench.load import cli

    return cli


def _experiments() -> Handler:
    from assistant.experiments_cli import cli

    return cli


def _bench_experiments() -> Handler:
    from aisle.bench.experiments import cli

    return cli


def _bench_insights() -> Handler:
    from aisle.bench.insights import cli

    return cli


def _eval() -> Handler:
    from eval.run import cli

    return cli


def _doctor() -> Handler:
    from assistant.doctor import cli

    return cli


def _models() -> Handler:
    from assistant.models import cli

    return cli


# Nested groups use "group sub".
COMMANDS: dict[str, Command] = {
    "run": Command(_run, "serve the web app and API on 127.0.0.1:7860"),
    "ingest": Command(_ingest, "load a catalog (or --demo) into the database and indexes"),
    "index": Command(_index, "build or update the vector indexes"),
    "train nlu": Command(_train_nlu, "train intent and sentiment classifiers (seeded)"),
    "train parser": Command(_train_parser, "fit the command parser for the shop's catalog (minutes)"),
    "train recsys": Command(
        _train_recsys, "fit the shop's recommender on its history (content-based without one)"
    ),
    "bench recsys": Command(_bench_recsys, "recommender benchmark on the fixed splits"),
    "bench stacker": Command(_bench_stacker, "learning-to-rank stacker vs the linear blend, on valid only"),
    "bench retrieval": Command(
        _bench_retrieval, "retrieval benchmark (demo queries, Amazon Office known-item)"
    ),
    "bench nlu": Command(_bench_nlu, "understanding benchmark: commands, numbers, paths, sentiment"),
    "bench chat": Command(_bench_chat, "end-to-end chat latency and grounding benchmark"),
    "bench load": Command(_bench_load, "concurrent shoppers against the REST/SSE API"),
    "bench experiments": Command(
        _bench_experiments, "simulated shoppers as experiment traffic: known-worse arm and A/A seeds"
    ),
    "bench insights": Command(
        _bench_insights, "churn model (later time window, Amazon Office) and segment stability"
    ),
    "experiments": Command(_experiments, "list, report, stop and promote experiments"),
    "eval": Command(_eval, "offline conversation evaluation suite"),
    "doctor": Command(_doctor, "check versions, models and settings; smoke every component"),
    "models": Command(_models, "list, assemble and verify model files"),
}
GROUPS = frozenset(name.split()[0] for name in COMMANDS if " " in name)

# Offline by design: nothing may reach a model hub at run time. No progress bars from model
# loading: they are noise in a server's log (and `--no-progress` asks for none).
ENVIRONMENT = (
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
    ("GRADIO_ANALYTICS_ENABLED", "False"),
    ("ANONYMIZED_TELEMETRY", "False"),
)


def usage() -> str:
    lines = ["usage: aisle COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<18} {cmd.help}" for name, cmd in COMMANDS.items()]
    lines += ["", "`aisle COMMAND --help` shows a command's options."]
    return "\n".join(lines)


def resolve(argv: list[str]) -> tuple[str, list[str]] | None:
    """(command name, its arguments), or None when argv names no command."""
    if argv and argv[0] in GROUPS and len(argv) > 1 and f"{argv[0]} {argv[1]}" in COMMANDS:
        return f"{argv[0]} {argv[1]}", argv[2:]
    if argv and argv[0] in COMMANDS:
        return argv[0], argv[1:]
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for key, val in ENVIRONMENT:
        os.environ.setdefault(key, val)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    found = resolve(argv)
    if found is None:
        if argv[0] in GROUPS:
            subs = [n.split()[1] for n in COMMANDS if n.startswith(argv[0] + " ")]
            print(f"aisle {argv[0]}: choose one of: {', '.join(subs)}", file=sys.stderr)
        else:
            print(f"aisle: unknown command {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    name, rest = found
    try:
        return COMMANDS[name].load()(rest)
    except AisleError as exc:
        print(f"aisle {name}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
