"""Shared fixtures. Every test gets its own data dir and settings; nothing touches ~/.aisle state."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("AISLE_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()


def shared_data() -> Path:
    """The shared datasets folder, or skip the test with the reason."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"needs the shared datasets at {SHARED_DATA} "
            "(set AISLE_SHARED_DATA or put ../shared beside the repo)"
        )
    return SHARED_DATA


@pytest.fixture
def shared_data_dir() -> Path:
    return shared_data()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Isolated settings: a fresh data dir, template generation, hashing embedder."""
    from assistant.settings import load_settings

    for key in list(os.environ):
        if key.startswith("AISLE_") and key not in ("AISLE_SHARED_DATA",):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return load_settings(data_dir=tmp_path / "data", generator_backend="template", embedder="hashing")
