"""Scale-out: two Aisle processes on one PostgreSQL database and one Chroma server, one conversation.

Its turns alternate between the two processes, as a load balancer without sticky sessions would send
them. The conversation must carry on as if one process served it (the dialogue state is in the
database), the transcript must be whole and in order, and the per-conversation rate limit must be one
quota across both processes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_foundation_postgres import pg_url  # noqa: F401 - the throwaway PostgreSQL cluster fixture

from aisle.bench.server import free_port, server_env, stop_server, wait_ready
from knowledge.testing import chroma_server

PER_MINUTE = 6  # the conversation's quota across both processes


@pytest.fixture
def chroma_port(tmp_path: Path) -> Iterator[int]:
    try:
        server = chroma_server(tmp_path / "chroma")
        port = server.__enter__()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    try:
        yield port
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def two_workers(tmp_path: Path, pg_url: str, chroma_port: int) -> Iterator[list[str]]:  # noqa: F811
    data = tmp_path / "data"
    data.mkdir()
    shared = {
        "AISLE_DATABASE_URL": pg_url,
        "AISLE_CHROMA_MODE": "server",
        "AISLE_CHROMA_PORT": str(chroma_port),
        "AISLE_RATE_LIMIT_STORE": "database",
        "AISLE_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE),
        "AISLE_GENERATOR_BACKEND": "template",
        # One secret for both: a client's identity (and so its conversations) must mean the same to each.
        "AISLE_SHOP_SECRET": "scale-out-test-secret-0123456789-abcdefghij",
        "AISLE_CONFIG": str(data / "none.toml"),
    }
    aisle = [sys.executable, "-m", "aisle"]
    env = server_env(data, free_port(), shared)
    # Products and policies go to the Chroma server; the 1,297 reviews (five times the embedding work,
    # and not what this test is about) stay lexical.
    for step in (["ingest", "--demo", "--no-index"], ["index", "--kinds", "product,policy"]):
        done = subprocess.run(
            [*aisle, *step, "--no-progress"], env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stderr[-2000:]
    procs: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for i in range(2):
            port = free_port()
            with (tmp_path / f"worker{i}.log").open("wb") as log:  # the child keeps its own handle
                procs.append(
                    subprocess.Popen(
                        [*aisle, "run", "--port", str(port)],
                        env=server_env(data, port, shared),
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            urls.append(f"http://127.0.0.1:{port}")
        for i, (url, proc) in enumerate(zip(urls, procs, strict=True)):
            wait_ready(url, proc, 300, tmp_path / f"worker{i}.log")
        yield urls
    finally:
        for proc in procs:
            stop_server(proc)


def _turn(url: str, sid: str | None, text: str) -> httpx.Response:
    body: dict[str, Any] = {"message": text, **({"session_id": sid} if sid else {})}
    # One client (same address and agent) talking to whichever process the balancer picks.
    return httpx.post(f"{url}/api/chat", json=body, headers={"User-Agent": "scale-out-test"}, timeout=120)


def _cards(reply: dict[str, Any]) -> list[dict[str, Any]]:
    return list(reply.get("products") or [])


TURNS = ("wireless headphones under $150", "tell me more about the second one", "and a cheaper one?")


def _conversation(urls: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """Play TURNS, turn i on urls[i % len(urls)]; the session id and each reply."""
    sid: str | None = None
    replies = []
    for i, text in enumerate(TURNS):
        r = _turn(urls[i % len(urls)], sid, text)
        assert r.status_code == 200, r.text
        sid = sid or r.headers["X-Session-Id"]
        replies.append(r.json())
    assert sid is not None
    return sid, replies


def _seen(reply: dict[str, Any]) -> tuple[str, list[tuple[str, float]]]:
    return reply["text"], [(c["product_id"], c["price"]) for c in _cards(reply)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="starts PostgreSQL and Chroma servers")
def test_one_conversation_alternating_between_two_workers(two_workers: list[str]) -> None:
    a, b = two_workers
    sid, mixed = _conversation([a, b])  # turns on a, b, a
    _, alone = _conversation([a])  # the same turns, all on one process
    # Process B never saw the list, yet "the second one" is the second product listed on A ...
    listed = _cards(mixed[0])
    assert len(listed) >= 2 and all(c["price"] <= 150 for c in listed)
    about = mixed[1]
    assert listed[1]["title"] in about["text"] or [c["product_id"] for c in _cards(about)] == [
        listed[1]["product_id"]
    ]
    # ... and every reply is the one a single process gives (the template backend is deterministic).
    assert [_seen(r) for r in mixed] == [_seen(r) for r in alone]

    # The transcript, read through either process, is the whole conversation in order.
    for url in (a, b):
        msgs = _transcript(url, sid)
        assert [m["text"] for m in msgs if m["role"] == "user"] == list(TURNS)
        assert [m["role"] for m in msgs] == ["user", "assistant"] * len(TURNS)

    # One quota across both processes: PER_MINUTE turns in all, then "slow down" from either.
    for i in range(PER_MINUTE - len(TURNS)):
        assert _turn(b if i % 2 == 0 else a, sid, f"thanks {i}").status_code == 200
    for url in (a, b):
        refused = _turn(url, sid, "one more")
        assert refused.status_code == 429 and refused.json()["scope"] == "session"


def _transcript(url: str, sid: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{url}/api/sessions/{sid}/messages", headers={"User-Agent": "scale-out-test"}, timeout=30)
    assert r.status_code == 200, r.text
    data = r.json()
    return list(data["messages"] if isinstance(data, dict) else data)
