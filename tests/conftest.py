"""Shared fixtures. Every test gets its own data dir and settings; nothing touches ~/.aisle state."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

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


# --- the demo shop, built once a session -------------------------------------------------------------
# Loading the demo shop into a fresh database takes up to two seconds (with purchase histories) and
# loading the packaged parser up to one more; dozens of engine tests pay both. A test copies a
# database built once (``Store.load_demo`` then finds the shop present and skips) and reads with a
# fresh Reader around one loaded parser. Nothing here is shared in a way a test could mutate: each
# test gets its own database file, Store, ShopIndex, Resolver and Reader; the parser holds no state
# beyond its loaded weights.
class DemoShop:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._parser: Any = None
        self._products: list[Any] = []  # the demo shop's products (frozen records)

    def _template(self, history: bool) -> Path:
        path = self.folder / ("history.db" if history else "plain.db")
        if not path.exists():
            from dataclasses import replace

            from assistant.store import Store
            from knowledge.demo import load_demo

            demo = load_demo()
            store = Store(f"sqlite:///{path}")
            store.load_demo(demo if history else replace(demo, interactions=[]))
            store.close()
            con = sqlite3.connect(path)  # fold the WAL into the file: the copy is one self-contained file
            try:
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                con.close()
            assert not path.with_name(path.name + "-wal").exists()
        return path

    def db_url(self, dest: Path, history: bool = False) -> str:
        """A fresh copy of the demo shop's database at ``dest`` (what ``demo_assistant`` would load
        there: customers and orders, and with ``history`` the purchase histories too)."""
        if dest.exists():
            raise FileExistsError(dest)
        shutil.copyfile(self._template(history), dest)
        return f"sqlite:///{dest}"

    def reader(self, products: list[Any] | None = None) -> Any:
        """``assistant.fakes.demo_reader(products)`` (the demo shop's products by default) around the
        session's one packaged parser."""
        from assistant.fakes import demo_reader
        from assistant.nlu.parser import FastParser
        from knowledge.demo import load_demo

        if self._parser is None:
            self._parser = FastParser()
            self._products = list(load_demo().products)
        return demo_reader(products or self._products, parser=self._parser)

    def assistant(self, dest: Path, model: Any = None, **kw: Any) -> Any:
        """``demo_assistant(f"sqlite:///{dest}", model, **kw)``, from a copied database and, unless a
        reader is given, the packaged reader."""
        from assistant.fakes import demo_assistant

        if "reader" not in kw:
            kw["reader"] = self.reader()
        return demo_assistant(self.db_url(dest, history=bool(kw.get("history"))), model, **kw)


@pytest.fixture(scope="session")
def demo_shop(tmp_path_factory: pytest.TempPathFactory) -> DemoShop:
    return DemoShop(tmp_path_factory.mktemp("demo-shop"))
