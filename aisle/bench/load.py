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
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aisle.bench.server import prepared_data_dir, start_server, stop_server, wait_ready

if TYPE_CHECKING:
    import httpx

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
BACKENDS = {
    "template": {"AISLE_GENERATOR_BACKEND": "template"},
    "default": {"AISLE_GENERATOR_BACKEND": "llama", "AISLE_GENERATOR_MODEL": "default"},
}


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


def sse_events(resp: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, JSON data) for each Server-Sent Event of a streamed response."""
    from httpx_sse import EventSource

    for sse in EventSource(resp).iter_sse():
        yield sse.event, sse.json()


@dataclass
class _Reply:
    """One message's streamed answer, timed from ``t0``."""

    t0: float
    first_event: float | None = None
    first_text: float | None = None
    done: dict[str, Any] | None = None


@dataclass
class _Shopper:
    client: httpx.Client
    sid: str
    tag: str
    rng: random.Random
    res: ShopperResult

    def send(self, text: str, t: int) -> _Reply | float | None:
        """One POST /api/chat streamed: the reply, the seconds to wait on 'busy', or None on a failure."""
        reply = _Reply(time.perf_counter())
        try:
            with self.client.stream(
                "POST",
                "/api/chat",
                json={"session_id": self.sid, "message": text},
                headers={"Accept": "text/event-stream"},
            ) as r:
                if r.status_code == 503:
                    r.read()
                    return float(r.headers.get("Retry-After", 1))
                if r.status_code != 200:
                    self.res.errors.append(f"turn {t}: HTTP {r.status_code} {r.read()[:200]!r}")
                    return None
                for name, data in sse_events(r):
                    reply.first_event = reply.first_event or time.perf_counter()
                    if name == "text" and reply.first_text is None:
                        reply.first_text = time.perf_counter()
                    elif name == "error":
                        self.res.errors.append(f"turn {t}: stream error {data.get('error')}")
                    elif name == "done":
                        reply.done = data
        except Exception as exc:  # timeouts and resets are errors, never a hang
            self.res.errors.append(f"turn {t}: {type(exc).__name__}: {exc}")
            return None
        return reply

    def turn(self, text: str, t: int, max_busy_retries: int) -> bool:
        """Send one message until it is answered, retrying 'busy'; True when it was."""
        for _ in range(max_busy_retries + 1):
            got = self.send(text, t)
            if got is None:
                return False
            if isinstance(got, float):
                self.res.busy += 1
                # Honour Retry-After, but short, so the run measures the queue, not the sleep.
                time.sleep(min(got, 2.0) * self.rng.uniform(0.5, 1.0))
                continue
            if got.done is None:
                self.res.errors.append(f"turn {t}: stream ended without a done event")
                return False
            self.record(got, got.done, t)
            return True
        self.res.busy_gave_up += 1  # an explicit 'busy', not a failure
        return False

    def record(self, reply: _Reply, done: dict[str, Any], t: int) -> None:
        res = self.res
        res.turns_ok += 1
        how = str(done.get("backend") or "none") + "".join(
            f" ({a})" for a in done.get("actions", []) if str(a).startswith("fallback:")
        )
        res.answered_by[how] = res.answered_by.get(how, 0) + 1
        res.latencies_ms.append((time.perf_counter() - reply.t0) * 1000)
        if reply.first_text is not None:
            res.first_text_ms.append((reply.first_text - reply.t0) * 1000)
            res.text_wait_ms.append((reply.first_text - (reply.first_event or reply.t0)) * 1000)
        if done.get("session_id") not in ("", self.sid):
            res.leaks.append(f"turn {t}: done event for session {done.get('session_id')!r}")
        text = str(done.get("text", ""))
        if "(shopper zq" in text and f"(shopper {self.tag})" not in text:
            res.leaks.append(f"turn {t}: reply quotes another shopper")


def run_shopper(
    base_url: str,
    index: int,
    turns: int,
    *,
    think_s: float,
    timeout_s: float,
    seed: int,
    max_busy_retries: int = 60,
) -> ShopperResult:
    import httpx

    rng = random.Random(seed * 1000 + index)
    tag = _tag(index)
    res = ShopperResult()
    sent: list[str] = []
    # A fresh connection per request: a kept-alive socket that the server closes while the
    # shopper "thinks" would otherwise race with the next request (a reset, not a server fault).
    with httpx.Client(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s, connect=10.0),
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        try:  # issued by the server, as for any client
            sid = str(client.post("/api/sessions").json()["session_id"])
        except Exception as exc:
            res.errors.append(f"start: {type(exc).__name__}: {exc}")
            return res
        shopper = _Shopper(client, sid, tag, rng, res)
        for t in range(turns):
            text = f"{MESSAGES[(index + t * 7) % len(MESSAGES)]} (shopper {tag})"
            if shopper.turn(text, t, max_busy_retries):
                sent.append(text)
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


def run_load(
    base_url: str, users: int, turns: int, *, think_s: float = 1.0, timeout_s: float = 120.0, seed: int = 7
) -> dict[str, Any]:
    results: list[ShopperResult] = [ShopperResult() for _ in range(users)]

    def one(i: int) -> None:
        try:
            results[i] = run_shopper(base_url, i, turns, think_s=think_s, timeout_s=timeout_s, seed=seed)
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
        "users": users,
        "turns": turns,
        "errors": len(errors),
        "busy": sum(r.busy for r in results),
        "leaks": len(leaks),
        "latency_ms": {
            "p50": percentile(lat, 50),
            "p95": percentile(lat, 95),
            "max": round(max(lat), 1) if lat else None,
        },
        # Time to the first streamed text: for a real model this is the generation queue wait plus
        # time to first token.
        "first_text_ms": {"p50": percentile(first, 50), "p95": percentile(first, 95)},
        # Cards arrive first; the wait from them to the first words is the generation queue plus
        # time to first token (for the template backend it is ~0).
        "queue_wait_ms": {
            "p50": percentile(wait, 50),
            "p95": percentile(wait, 95),
            "max": round(max(wait), 1) if wait else None,
        },
        "busy_gave_up": sum(r.busy_gave_up for r in results),
        "answered_by": {
            k: sum(r.answered_by.get(k, 0) for r in results)
            for k in sorted({k for r in results for k in r.answered_by})
        },
        "turns_completed": sum(r.turns_ok for r in results),
        "think_s": think_s,
        "wall_s": round(wall, 1),
        "error_samples": errors[:10],
        "leak_samples": leaks[:10],
    }


def _data_dir(args: argparse.Namespace) -> Path:
    """The private server's data dir: the one given (ingested once, kept), else a fresh copy of the
    cached demo data dir, so each run starts from the same database and the index and the
    recommender are built only when their inputs change."""
    if args.data_dir is not None:
        data_dir: Path = args.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        return data_dir
    from assistant.settings import load_settings

    prepared = prepared_data_dir(load_settings().cache_dir / "load", args.embedder, rebuild=args.rebuild)
    tmp = Path(tempfile.mkdtemp(prefix="aisle-load-"))
    shutil.copytree(prepared, tmp, dirs_exist_ok=True)
    return tmp


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aisle bench load", description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=10)
    p.add_argument("--turns", type=int, default=5)
    p.add_argument(
        "--backend",
        choices=sorted(BACKENDS),
        default="template",
        help="generator of the private server: template (no model) or default (llama.cpp 1.5B)",
    )
    p.add_argument("--out", type=Path, help="write the JSON result here")
    p.add_argument("--url", help="drive this running server instead of starting one (its own settings apply)")
    p.add_argument("--think", type=float, default=1.0, help="mean seconds a shopper pauses between turns")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds before one turn counts as hung")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--contention",
        type=int,
        default=0,
        help="run the load again beside N busy processes (started and stopped here); both figures",
    )
    p.add_argument(
        "--embedder",
        default="minilm",
        help="embedder of the private server (default minilm: the shipped NLU reads 384-d MiniLM vectors)",
    )
    p.add_argument("--keep", action="store_true", help="keep the private server's data dir")
    p.add_argument(
        "--data-dir", type=Path, help="reuse this data dir for the private server (ingested once, kept)"
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild the cached demo data dir (ingest, index, recommender) even if its inputs are the same",
    )
    return p


def _contended(base: str, args: argparse.Namespace, quiet: dict[str, Any]) -> dict[str, Any]:
    """The same load again (other shoppers' seeds, so fresh conversations) beside busy processes."""
    from aisle.bench.contention import busy

    print(f"again beside {args.contention} busy processes", file=sys.stderr)
    with busy(args.contention):
        run = run_load(
            base, args.users, args.turns, think_s=args.think, timeout_s=args.timeout, seed=args.seed + 1
        )
        run["loadavg_1m"] = round(os.getloadavg()[0], 2)
    run["busy_processes"] = args.contention
    run["ratio_to_quiet"] = {
        f"{k}.{p}": round(run[k][p] / quiet[k][p], 2)
        for k in ("latency_ms", "first_text_ms")
        for p in ("p50", "p95")
        if quiet[k][p] and run[k][p] is not None
    }
    return run


def cli(argv: list[str]) -> int:
    p = _parser()
    args = p.parse_args(argv)
    if args.users < 1 or args.turns < 1:
        p.error("--users and --turns must be >= 1")

    proc, tmp = None, None
    try:
        if args.url:
            base = args.url.rstrip("/")
            wait_ready(base, None, 60)
        else:
            tmp = _data_dir(args)
            # The simulated shoppers all come from 127.0.0.1: lift the per-address limit for this
            # private server, or the run would measure the rate limiter instead of the engine.
            extra = {
                **BACKENDS[args.backend],
                "AISLE_RATE_LIMIT_PER_MINUTE": "100000",
                "AISLE_RATE_LIMIT_API_PER_MINUTE": "100000",
                "AISLE_EMBEDDER": args.embedder,
            }
            print(f"starting a private server (backend {args.backend}) in {tmp} ...", file=sys.stderr)
            proc, base = start_server(tmp, extra, log_path=tmp / "server.log")
            wait_ready(base, proc, 600, tmp / "server.log")
        print(f"{args.users} shoppers x {args.turns} turns against {base}", file=sys.stderr)
        result = run_load(
            base, args.users, args.turns, think_s=args.think, timeout_s=args.timeout, seed=args.seed
        )
        if args.contention:
            result["contended"] = _contended(base, args, result)
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
    runs = [result, result.get("contended") or {}]
    return 0 if all(r.get("errors", 0) == 0 and r.get("leaks", 0) == 0 for r in runs) else 1
