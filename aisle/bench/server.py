"""A private Aisle server for a benchmark: `aisle run` on a free loopback port over a data dir, stopped
by its PID; and the prepared demo data dir (`aisle ingest --demo` + `aisle train recsys`) that runs
copy, built once per content hash under <cache_dir>/load."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(data_dir: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_") or k == "AISLE_SHARED_DATA"}
    env.update(
        {
            "AISLE_DATA_DIR": str(data_dir),
            "AISLE_PORT": str(port),
            "AISLE_HOST": "127.0.0.1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "ANONYMIZED_TELEMETRY": "False",
            "TOKENIZERS_PARALLELISM": "false",
        }
    )
    env.update(extra or {})
    return env


def wait_ready(
    base_url: str, proc: subprocess.Popen[bytes] | None, timeout_s: float, log_path: Path | None = None
) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before it was ready")
        log = log_path.read_text(errors="replace") if log_path is not None and log_path.is_file() else ""
        if "engine failed to start" in log:
            raise RuntimeError("the server's engine failed to start:\n" + log[-1500:])
        try:
            if httpx.get(f"{base_url}/api/health", timeout=2).json().get("engine_ready"):
                return
        except Exception:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"server at {base_url} not ready after {timeout_s:.0f} s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server we started, by its PID only."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)


# What an `aisle ingest --demo` + `aisle train recsys` data dir depends on: the demo shop (data files
# in knowledge), the code that ingests, indexes and fits it, the database schema, and the embedder.
PREP_SOURCES = (
    "knowledge",
    "recommender",
    "assistant.components",
    "assistant.ingest",
    "assistant.recsys",
    "assistant.store",
    "assistant.schema",
)
PREP_SUFFIXES = {".py", ".json", ".jsonl", ".csv", ".yaml", ".yml", ".txt", ".parquet"}
PREP_KEEP = 3  # prepared dirs kept in the cache (newest first)


def prep_key(embedder: str) -> str:
    """Content hash of everything a prepared demo data dir is built from."""
    import hashlib

    from assistant.buildcache import source_hash

    code = source_hash(*PREP_SOURCES, suffixes=PREP_SUFFIXES)
    return hashlib.sha256(f"embedder={embedder}\n{code}".encode()).hexdigest()[:16]


def prepared_data_dir(cache: Path, embedder: str, *, rebuild: bool = False) -> Path:
    """A demo data dir (catalog, vector indexes, demo customers, fitted recommender) built once per
    content hash under ``cache`` and never served from: callers copy it. Built aside, then renamed."""
    cache.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in embedder)[:32]
    final = cache / f"demo-{slug}-{prep_key(embedder)}"
    if (final / ".complete").is_file() and not rebuild:
        return final
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=cache))
    try:
        env = server_env(work, free_port(), {"AISLE_EMBEDDER": embedder})  # the port is unused but validated
        aisle = [sys.executable, "-m", "aisle"]
        t0 = time.perf_counter()
        for step in (["ingest", "--demo", "--no-progress"], ["train", "recsys"]):
            print(f"preparing the demo data dir: aisle {' '.join(step)} ...", file=sys.stderr)
            done = subprocess.run([*aisle, *step], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if done.returncode != 0:
                raise RuntimeError(
                    f"aisle {' '.join(step)} failed:\n" + done.stderr.decode(errors="replace")[-1500:]
                )
        (work / ".complete").write_text(
            json.dumps({"embedder": embedder, "built_s": round(time.perf_counter() - t0, 1)})
        )
        if final.exists():
            shutil.rmtree(final)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = sorted(
        (d for d in cache.glob("demo-*") if d.is_dir() and d != final), key=lambda d: d.stat().st_mtime
    )
    for d in old[: max(0, len(old) - (PREP_KEEP - 1))]:
        shutil.rmtree(d, ignore_errors=True)
    return final


def start_server(
    data_dir: Path, env_extra: dict[str, str], *, ingest: bool = True, log_path: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = server_env(data_dir, port, env_extra)
    aisle = [sys.executable, "-m", "aisle"]
    if ingest and not (data_dir / "catalog" / "products.jsonl").is_file():
        subprocess.run(
            [*aisle, "ingest", "--demo", "--no-progress"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen([*aisle, "run", "--port", str(port)], env=env, stdout=log, stderr=log)
    return proc, f"http://127.0.0.1:{port}"
