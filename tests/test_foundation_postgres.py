"""The same Store code on a real PostgreSQL server (a throwaway cluster on a free loopback port)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from assistant.store import Store


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pg_url():
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg not installed (pip install -e '.[postgres]')")
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' user to own the cluster")
        run_as = ["runuser", "-u", "postgres", "--"]
    # pytest's tmp_path sits under a root-only folder the postgres user cannot enter.
    base = Path(tempfile.mkdtemp(prefix="aisle-pg-"))
    data = base / "pg"
    data.mkdir()
    if run_as:
        shutil.chown(base, "postgres")
        shutil.chown(data, "postgres")
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "aisle"],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    proc = subprocess.Popen(
        [
            *run_as,
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-k",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        time.sleep(0.3)
        yield f"postgresql+psycopg://aisle@127.0.0.1:{port}/postgres"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)


def test_store_runs_unchanged_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    from assistant.settings import load_settings

    settings = load_settings(data_dir=tmp_path / "data", database_url=pg_url)
    store = Store.from_settings(settings)
    try:
        assert store.engine.dialect.name == "postgresql"
        store.upsert_customer("C1", "Ana", "ana@example.com")
        store.ensure_session("s1", "C1")
        store.add_message("s1", "user", "hello")
        store.add_event("view", session_id="s1", customer_id="C1", product_id="P1")
        store.save_state("s1", {"shown": ["P1"]})
        assert store.load_state("s1") == {"shown": ["P1"]}
        assert [m["text"] for m in store.messages("s1")] == ["hello"]
        assert store.delete_customer("C1") and store.export_customer("C1")["events"] == []
    finally:
        store.close()
