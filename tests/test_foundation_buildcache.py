"""The cache key of built artifacts follows the code and data that build them."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from assistant.buildcache import source_hash


def test_key_follows_code_data_and_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "builtpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "fit.py").write_text("ALPHA = 1\n")
    (pkg / "shop.jsonl").write_text('{"id": 1}\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    sys.modules.pop("builtpkg", None)
    first = source_hash("builtpkg", suffixes={".py", ".jsonl"})
    py_only = source_hash("builtpkg")
    assert source_hash("builtpkg", suffixes={".py", ".jsonl"}) == first
    (pkg / "shop.jsonl").write_text('{"id": 2}\n')
    data_changed = source_hash("builtpkg", suffixes={".py", ".jsonl"})
    assert data_changed != first
    assert source_hash("builtpkg") == py_only  # .py only: the data edit is not seen
    (pkg / "fit.py").rename(pkg / "fit2.py")
    assert source_hash("builtpkg", suffixes={".py", ".jsonl"}) != data_changed
    assert source_hash("builtpkg.fit2") != source_hash("builtpkg")
    with pytest.raises(ModuleNotFoundError):
        source_hash("no_such_pkg_here")
