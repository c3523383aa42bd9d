from __future__ import annotations

import subprocess
import sys

from assistant.cli import COMMANDS, main


def test_help_lists_every_command(capsys) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("run", "ingest", "index", "train", "bench", "eval", "doctor", "models"):
        assert f"  {name}" in out


def test_unknown_command_fails_cleanly(capsys) -> None:
    assert main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_group_without_subcommand_lists_choices(capsys) -> None:
    assert main(["bench"]) == 2
    err = capsys.readouterr().err
    assert "recsys" in err and "retrieval" in err


def test_every_command_target_resolves() -> None:
    """Each subcommand is implemented by its owning package (none may be a dangling name)."""
    import importlib

    for name, (target, _, _) in COMMANDS.items():
        module, _, func = target.partition(":")
        mod = importlib.import_module(module)
        assert callable(getattr(mod, func)), name


def test_importing_packages_stays_light() -> None:
    code = ("import sys, assistant, assistant.cli, assistant.settings, assistant.store, recommender, knowledge, ui, eval;"
            "heavy=[m for m in ('torch','gradio','chromadb','sentence_transformers','llama_cpp') if m in sys.modules];"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"heavy modules imported at package import time: {out}"
