from __future__ import annotations

import subprocess
import sys

from aisle.cli import COMMANDS, main


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


def test_every_command_loads_its_handler() -> None:
    """Each subcommand's loader imports a callable handler (mypy checks its type)."""
    for name, cmd in COMMANDS.items():
        assert callable(cmd.load()), name


def test_help_is_fast_and_light() -> None:
    code = (
        "import sys; from aisle.cli import main; main(['--help']);"
        "heavy=[m for m in ('torch','gradio','chromadb','sentence_transformers','llama_cpp','fastapi')"
        " if m in sys.modules];"
        "print(','.join(heavy), file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "usage: aisle" in out.stdout and out.stderr.strip() == "", out.stderr


def test_python_dash_m_aisle_is_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "aisle", "--help"], capture_output=True, text=True, check=True
    )
    assert "bench load" in out.stdout


def test_importing_packages_stays_light() -> None:
    code = (
        "import sys, aisle, aisle.cli, assistant, assistant.settings, assistant.store,"
        " recommender, knowledge, ui, eval;"
        "heavy=[m for m in ('torch','gradio','chromadb','sentence_transformers','llama_cpp')"
        " if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"heavy modules imported at package import time: {out}"
