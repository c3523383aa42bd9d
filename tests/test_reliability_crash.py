"""Crash safety: SIGKILL the real server mid-answer, restart it, and find every committed message
and event intact and the SQLite database consistent."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import httpx
from test_reliability_kit import Server

from aisle.bench.load import sse_events


def test_sigkill_mid_conversation_loses_nothing_committed(tmp_path: Path) -> None:
    # A slow model (0.08 s a word) so the kill lands while an answer is streaming. The subject is what
    # survives the kill, not the reading: the keyword reader spares each server the parser's load.
    srv = Server(tmp_path, T_DELAY="0.08", T_READER="keywords").start()
    sid = None  # issued by the server with the first answer
    committed: dict[int, str] = {}
    event_ids: list[int] = []
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            for msg in ("hi", "wireless headphones under $100", "what is your return policy?"):
                body = {"message": msg, **({"session_id": sid} if sid else {})}
                with c.stream("POST", "/api/chat", json=body, headers={"Accept": "text/event-stream"}) as r:
                    done = [d for n, d in sse_events(r) if n == "done"][0]
                committed[done["message_id"]] = done["text"]
                sid = done["session_id"]
            for pid in ("P0007", "P0102"):
                event_ids.append(
                    c.post(
                        "/api/events", json={"kind": "click", "session_id": sid, "product_id": pid}
                    ).json()["id"]
                )
            # The in-flight turn: kill the server after its first words arrive.
            got_text = threading.Event()
            seen: list[str] = []

            def in_flight() -> None:
                try:
                    with (
                        httpx.Client(base_url=srv.url, timeout=30) as c2,
                        c2.stream(
                            "POST",
                            "/api/chat",
                            json={"session_id": sid, "message": "show me running shoes"},
                            headers={"Accept": "text/event-stream"},
                        ) as r,
                    ):
                        for name, _data in sse_events(r):
                            seen.append(name)
                            if name == "text":
                                got_text.set()
                except httpx.HTTPError:
                    pass  # the server died under us: expected
                got_text.set()

            t = threading.Thread(target=in_flight)
            t.start()
            assert got_text.wait(20)
            srv.kill()
            t.join(20)
            assert "text" in seen and "done" not in seen, seen  # it really died mid-answer
    finally:
        srv.kill()

    db = tmp_path / "aisle.db"
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()

    srv2 = Server(tmp_path, T_READER="keywords").start()
    try:
        with httpx.Client(base_url=srv2.url, timeout=30) as c:
            msgs = c.get(f"/api/sessions/{sid}/messages").json()["messages"]
            by_id = {m["id"]: m for m in msgs}
            for mid, text in committed.items():
                assert by_id[mid]["text"] == text and by_id[mid]["role"] == "assistant"
            users = [m["text"] for m in msgs if m["role"] == "user"]
            # The in-flight user message was committed before generation started: it survives too.
            assert users == [
                "hi",
                "wireless headphones under $100",
                "what is your return policy?",
                "show me running shoes",
            ]
            # The conversation goes on after the restart.
            r = c.post("/api/chat", json={"session_id": sid, "message": "thanks, bye"})
            assert r.status_code == 200 and r.json()["done"]["session_id"] == sid
    finally:
        srv2.stop()
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            f"SELECT id, kind, product_id FROM events WHERE id IN ({','.join('?' * len(event_ids))})",
            event_ids,
        ).fetchall()
        assert sorted(r[0] for r in rows) == sorted(event_ids) and {r[1] for r in rows} == {"click"}
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
