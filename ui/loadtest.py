"""`aisle bench load`: N concurrent simulated shoppers against the REST/SSE API over loopback.

Each shopper owns one session, sends T messages tagged with its own marker, streams every answer
over SSE, and finally reads its transcript back: a message it did not send, a missing one, or an
answer addressed to another session counts as a leak. By default the command starts its own
server (``aisle run``) on a free loopback port with a fresh copy of a prepared demo data dir
(`aisle ingest --demo` + `aisle train recsys`, cached by content hash under <cache_dir>/load), and
stops it by PID.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MESSAGES = [
    "hi there",
    "I'm looking for wireless headphones under $100",
    "any good running shoes?",
    "show me coffee makers",
    "which one has the best reviews?",
    "something cheaper please",
    "what is your return policy?",
    "how long does shipping take?",
    "compare the first two",
    "I need a gift for my dad who likes camping",
    "do you have a quiet vacuum?",
    "tell me more about the second one",
    "is there a warranty?",
    "a yoga mat that is not too thick",
    "where is my order ORD-104233",
]
BACKENDS = {"template": {"AISLE_GENERATOR_BACKEND": "template"},
            "default": {"AISLE_GENERATOR_BACKEND": "llama", "AISLE_GENERATOR_MODEL": "default"}}


@dataclass
class ShopperResult:
    latencies_ms: list[float] = field(default_factory=list)
    first_text_ms: list[float] = field(default_factory=list)
    text_wait_ms: list[float] = field(default_factory=list)  # first event -> first text: queue + TTFT
    busy_gave_up: int = 0
    answered_by: dict[str, int] = field(default_factory=dict)  # done.backend + fallback reason
    errors: list[str] = field(default_factory=list)
    busy: int = 0
    leaks: list[str] = field(default_factory=list)
    turns_ok: int = 0


def _tag(i: int) -> str:
    # Letters only, so the marker cannot read as a price, quantity or order id.
    alphabet = "bcdfghjklmnpqrstvwxz"
    a, b = divmod(i, len(alphabet))
    return f"zq{alphabet[a % len(alphabet)]}{alphabet[b]}"


def _sse_events(resp: Any) -> Any:
    name: str = "message"
    data: list[str] = []
    for line in resp.iter_lines():
        if not line:
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    if data:
        yield name, json.loads("\n".join(data))


def run_shopper(base_url: str, index: int, turns: int, *, think_s: float, timeout_s: float, seed: int,
                max_busy_retries: int = 60, run_id: str = "") -> ShopperResult:
    import httpx

    rng = random.Random(seed * 1000 + index)
    tag = _tag(index)
    sid = ""  # issued by the server (POST /api/sessions), as for any client
    res = ShopperResult()
    sent: list[str] = []
    # A fresh connection per request: a kept-alive socket that the server closes while the
    # shopper "thinks" would otherwise race with the next request (a reset, not a server fault).
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout_s, connect=10.0),
                      limits=httpx.Limits(max_keepalive_connections=0)) as client:
        try:
            sid = str(client.post("/api/sessions").json()["session_id"])
        except Exception as exc:
            res.errors.append(f"start: {type(exc).__name__}: {exc}")
            return res
        for t in range(turns):
            text = f"{MESSAGES[(index + t * 7) % len(MESSAGES)]} (shopper {tag})"
            retries = 0
            while True:
                t0 = time.perf_counter()
                first_text = first_event = None
                done: dict[str, Any] | None = None
                try:
                    with client.stream("POST", "/api/chat", json={"session_id": sid, "message": text},
                                       headers={"Accept": "text/event-stream"}) as r:
                        if r.status_code == 503:
                            r.read()
                            res.busy += 1
                            retries += 1
                            if retries > max_busy_retries:  # an explicit 'busy', not a failure
                                res.busy_gave_up += 1
                                break
                            # Honour Retry-After, but short, so the run measures the queue, not the sleep.
                            time.sleep(min(float(r.headers.get("Retry-After", 1)), 2.0) * rng.uniform(0.5, 1.0))
                            continue
                        if r.status_code != 200:
                            res.errors.append(f"turn {t}: HTTP {r.status_code} {r.read()[:200]!r}")
                            break
                        for name, data in _sse_events(r):
                            if first_event is None:
                                first_event = time.perf_counter()
                            if name == "text" and first_text is None:
                                first_text = time.perf_counter()
                            elif name == "error":
                                res.errors.append(f"turn {t}: stream error {data.get('error')}")
                            elif name == "done":
                                done = data
                except Exception as exc:  # timeouts and resets are errors, never a hang
                    res.errors.append(f"turn {t}: {type(exc).__name__}: {exc}")
                    break
                elapsed = (time.perf_counter() - t0) * 1000
                if done is None:
                    res.errors.append(f"turn {t}: stream ended without a done event")
                    break
                sent.append(text)
                res.turns_ok += 1
                how = str(done.get("backend") or "none") + "".join(
                    f" ({a})" for a in done.get("actions", []) if str(a).startswith("fallback:"))
                res.answered_by[how] = res.answered_by.get(how, 0) + 1
                res.latencies_ms.append(elapsed)
                if first_text is not None:
                    res.first_text_ms.append((first_text - t0) * 1000)
                    res.text_wait_ms.append((first_text - (first_event or t0)) * 1000)
                if done.get("session_id") not in ("", sid):
                    res.leaks.append(f"turn {t}: done event for session {done.get('session_id')!r}")
                reply = str(done.get("text", ""))
                if "(shopper zq" in reply and f"(shopper {tag})" not in reply:
                    res.leaks.append(f"turn {t}: reply quotes another shopper")
                break
            if think_s > 0 and t < turns - 1:
                time.sleep(rng.uniform(0.5, 1.5) * think_s)
        try:
            msgs = client.get(f"/api/sessions/{sid}/messages").json()["messages"]
        except Exception as exc:
            res.errors.append(f"transcript: {type(exc).__name__}: {exc}")
            return res
    res.leaks += transcript_leaks(msgs, sid, tag, sent)
    return res


def transcript_leaks(msgs: list[dict[str, Any]], sid: str, tag: str, sent: list[str]) -> list[str]:
    """Everything in a shopper's transcript that is not its own conversation."""
    leaks = []
    users = [m for m in msgs if m.get("role") == "user"]
    for m in msgs:
        if m.get("session_id") not in (None, sid):
            leaks.append(f"message {m.get('id')} belongs to session {m.get('session_id')!r}")
        txt = str(m.get("text", ""))
        if "(shopper zq" in txt and f"(shopper {tag})" not in txt:
            leaks.append(f"message {m.get('id')} carries another shopper's marker")
    if [str(m.get("text", "")) for m in users] != sent:
        leaks.append(f"user messages differ from what was sent ({len(users)} stored, {len(sent)} sent)")
    return leaks


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)


def run_load(base_url: str, users: int, turns: int, *, think_s: float = 1.0, timeout_s: float = 120.0,
             seed: int = 7) -> dict[str, Any]:
    import secrets

    results: list[ShopperResult] = [ShopperResult() for _ in range(users)]
    run_id = secrets.token_hex(4)

    def one(i: int) -> None:
        try:
            results[i] = run_shopper(base_url, i, turns, think_s=think_s, timeout_s=timeout_s, seed=seed,
                                     run_id=run_id)
        except Exception as exc:
            results[i].errors.append(f"shopper crashed: {type(exc).__name__}: {exc}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,), name=f"shopper-{i}") for i in range(users)]
    for th in threads:
        th.start()
        time.sleep(0.02)  # a ramp of one second for 50 users, not one thundering herd
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    lat = [x for r in results for x in r.latencies_ms]
    first = [x for r in results for x in r.first_text_ms]
    wait = [x for r in results for x in r.text_wait_ms]
    errors = [e for r in results for e in r.errors]
    leaks = [e for r in results for e in r.leaks]
    return {
        "users": users, "turns": turns, "errors": len(errors), "busy": sum(r.busy for r in results),
        "leaks": len(leaks),
        "latency_ms": {"p50": percentile(lat, 50), "p95": percentile(lat, 95),
                       "max": round(max(lat), 1) if lat else None},
        # Time to the first streamed text: for a real model this is the generation queue wait plus
        # time to first token.
        "first_text_ms": {"p50": percentile(first, 50), "p95": percentile(first, 95)},
        # Cards arrive first; the wait from them to the first words is the generation queue plus
        # time to first token (for the template backend it is ~0).
        "queue_wait_ms": {"p50": percentile(wait, 50), "p95": percentile(wait, 95), "max": round(max(wait), 1) if wait else None},
        "busy_gave_up": sum(r.busy_gave_up for r in results),
        "answered_by": {k: sum(r.answered_by.get(k, 0) for r in results)
                        for k in sorted({k for r in results for k in r.answered_by})},
        "turns_completed": sum(r.turns_ok for r in results), "think_s": think_s,
        "wall_s": round(wall, 1), "error_samples": errors[:10], "leak_samples": leaks[:10],
    }


# --- a private server -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(data_dir: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_") or k == "AISLE_SHARED_DATA"}
    env.update({"AISLE_DATA_DIR": str(data_dir), "AISLE_PORT": str(port), "AISLE_HOST": "127.0.0.1",
                "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
                "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1"})
    env.update(extra or {})
    return env


def wait_ready(base_url: str, proc: subprocess.Popen[bytes] | None, timeout_s: float,
               log_path: Path | None = None) -> None:
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
PREP_SOURCES = ("knowledge", "recommender", "assistant.components", "assistant.ingest", "assistant.recsys",
                "assistant.store", "assistant.schema")
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
        aisle = [sys.executable, "-m", "assistant.cli"]
        t0 = time.perf_counter()
        for step in (["ingest", "--demo", "--no-progress"], ["train", "recsys"]):
            print(f"preparing the demo data dir: aisle {' '.join(step)} ...", file=sys.stderr)
            done = subprocess.run([*aisle, *step], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if done.returncode != 0:
                raise RuntimeError(f"aisle {' '.join(step)} failed:\n" + done.stderr.decode(errors="replace")[-1500:])
        (work / ".complete").write_text(json.dumps({"embedder": embedder, "built_s": round(time.perf_counter() - t0, 1)}))
        if final.exists():
            shutil.rmtree(final)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = sorted((d for d in cache.glob("demo-*") if d.is_dir() and d != final), key=lambda d: d.stat().st_mtime)
    for d in old[: max(0, len(old) - (PREP_KEEP - 1))]:
        shutil.rmtree(d, ignore_errors=True)
    return final


def start_server(data_dir: Path, env_extra: dict[str, str], *, ingest: bool = True,
                 log_path: Path | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = server_env(data_dir, port, env_extra)
    aisle = [sys.executable, "-m", "assistant.cli"]
    if ingest and not (data_dir / "catalog" / "products.jsonl").is_file():
        subprocess.run([*aisle, "ingest", "--demo", "--no-progress"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen([*aisle, "run", "--port", str(port)], env=env, stdout=log, stderr=log)
    return proc, f"http://127.0.0.1:{port}"


def cli(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="aisle bench load", description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=10)
    p.add_argument("--turns", type=int, default=5)
    p.add_argument("--backend", choices=sorted(BACKENDS), default="template",
                   help="generator of the private server: template (no model) or default (llama.cpp 1.5B)")
    p.add_argument("--out", type=Path, help="write the JSON result here")
    p.add_argument("--url", help="drive this running server instead of starting one (its own settings apply)")
    p.add_argument("--think", type=float, default=1.0, help="mean seconds a shopper pauses between turns")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds before one turn counts as hung")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--embedder", default="minilm", help="embedder of the private server (default minilm: the shipped NLU reads 384-d MiniLM vectors)")
    p.add_argument("--keep", action="store_true", help="keep the private server's data dir")
    p.add_argument("--data-dir", type=Path, help="reuse this data dir for the private server (ingested once, kept)")
    p.add_argument("--rebuild", action="store_true",
                   help="rebuild the cached demo data dir (ingest + index + recommender) even if its inputs are unchanged")
    args = p.parse_args(argv)
    if args.users < 1 or args.turns < 1:
        p.error("--users and --turns must be >= 1")

    proc, tmp = None, None
    try:
        if args.url:
            base = args.url.rstrip("/")
            wait_ready(base, None, 60)
        else:
            if args.data_dir is not None:
                tmp = args.data_dir
                tmp.mkdir(parents=True, exist_ok=True)
            else:
                # A fresh copy of the cached demo data dir: each run starts from the same database, and
                # the index and the recommender are built only when their inputs change.
                from assistant.settings import load_settings

                cache = load_settings().cache_dir / "load"
                prepared = prepared_data_dir(cache, args.embedder, rebuild=args.rebuild)
                tmp = Path(tempfile.mkdtemp(prefix="aisle-load-"))
                shutil.copytree(prepared, tmp, dirs_exist_ok=True)
            # The simulated shoppers all come from 127.0.0.1: lift the per-address limit for this
            # private server, or the run would measure the rate limiter instead of the engine.
            extra = {**BACKENDS[args.backend], "AISLE_RATE_LIMIT_PER_MINUTE": "100000",
                     "AISLE_RATE_LIMIT_API_PER_MINUTE": "100000", "AISLE_EMBEDDER": args.embedder}
            print(f"starting a private server (backend {args.backend}) in {tmp} ...", file=sys.stderr)
            proc, base = start_server(tmp, extra, log_path=tmp / "server.log")
            wait_ready(base, proc, 600, tmp / "server.log")
        print(f"{args.users} shoppers x {args.turns} turns against {base}", file=sys.stderr)
        result = run_load(base, args.users, args.turns, think_s=args.think, timeout_s=args.timeout, seed=args.seed)
        result["backend"] = args.backend if not args.url else "external"
    finally:
        if proc is not None:
            stop_server(proc)
        if tmp is not None and not args.keep and args.data_dir is None:
            shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if result["errors"] == 0 and result["leaks"] == 0 else 1
