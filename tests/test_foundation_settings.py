from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.errors import ConfigError, ModelMissingError
from assistant.settings import load_settings


def test_defaults_are_local_and_safe(settings) -> None:
    assert settings.host == "127.0.0.1"
    assert settings.port == 7860
    assert settings.llama_threads == 1
    assert settings.db_url.startswith("sqlite:///")
    assert settings.chroma_path == settings.data_dir / "chroma"


def test_env_vars_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AISLE_PORT", "9999")
    monkeypatch.setenv("AISLE_GENERATOR_BACKEND", "template")
    s = load_settings()
    assert (s.port, s.generator_backend) == (9999, "template")


def test_toml_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aisle.toml").write_text('generator_model = "fast"\nllama_threads = 2\n')
    s = load_settings()
    assert (s.generator_model, s.llama_threads) == ("fast", 2)
    monkeypatch.setenv("AISLE_LLAMA_THREADS", "3")  # env beats the file
    assert load_settings().llama_threads == 3


def test_unknown_backend_is_one_line_naming_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(generator_backend="gpt9", data_dir=tmp_path)
    msg = str(exc.value)
    assert "\n" not in msg and "gpt9" in msg and "template" in msg and "AISLE_GENERATOR_BACKEND" in msg


def test_malformed_database_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(database_url="not a url", data_dir=tmp_path)
    assert "\n" not in str(exc.value) and "sqlite:///" in str(exc.value)
    with pytest.raises(ConfigError, match="unsupported database"):
        load_settings(database_url="mysql://u@h/db", data_dir=tmp_path)


def test_unknown_setting_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(genrator_backend="llama", data_dir=tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere, so an unwritable dir can't be made")
def test_unwritable_data_dir_non_root(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    with pytest.raises(ConfigError, match="AISLE_DATA_DIR"):
        load_settings(data_dir=ro / "x").ensure_data_dir()


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(ConfigError) as exc:
        load_settings(data_dir=blocker / "data").ensure_data_dir()
    assert "not writable" in str(exc.value) and "AISLE_DATA_DIR" in str(exc.value)


def test_missing_model_file_names_the_fix(tmp_path: Path) -> None:
    from assistant.models import generator_model_path

    s = load_settings(data_dir=tmp_path, cache_dir=tmp_path / "cache")
    with pytest.raises(ModelMissingError, match="make models"):
        generator_model_path(s)
    s = load_settings(data_dir=tmp_path, generator_model=str(tmp_path / "nope.gguf"))
    with pytest.raises(ModelMissingError, match="AISLE_GENERATOR_MODEL"):
        generator_model_path(s)


def test_cli_reports_bad_settings_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    from aisle.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AISLE_GENERATOR_BACKEND", "nonsense")
    assert main(["models", "list"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nonsense" in err
