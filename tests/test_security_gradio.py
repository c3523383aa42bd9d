"""Security suite, the Gradio app (issue 15). The probe: "the Gradio app's API endpoints (sign-in,
'download my data', 'delete everything') do the same with no token at all". Driven over Gradio's
own HTTP protocol (queue/join + queue/data), as an attacker's script would, against the real app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_ui_fakes import FakeAssistant

from assistant.settings import Settings
from assistant.store import Store
from ui.api import create_app
from ui.privacy_panel import Visit, demo_sign_in


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    d = tmp_path_factory.mktemp("gr-sec")
    store = Store(f"sqlite:///{d / 'g.db'}")
    for cid in ("C0001", "C0002"):
        store.upsert_customer(cid, name=f"Name {cid}", email=f"{cid.lower()}@example.com")
    yield create_app(Settings(data_dir=d, demo_mode=True), FakeAssistant(store), store=store)


def _client(app: Any, host: str) -> TestClient:
    return TestClient(app, client=(host, 40000), base_url="http://127.0.0.1:7860")


def _fn(c: TestClient, name: str) -> int:
    deps = c.get("/config").json()["dependencies"]
    return int(next(d["id"] for d in deps if d["api_name"] == name))


def call(c: TestClient, name: str, data: list[Any], session: str) -> dict[str, Any]:
    """One event over Gradio's queue protocol; the completed message (output or error)."""
    r = c.post(
        "/gradio_api/queue/join",
        json={
            "data": data,
            "fn_index": _fn(c, name),
            "session_hash": session,
            "trigger_id": None,
            "event_data": None,
        },
    )
    assert r.status_code == 200, r.text
    with c.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return dict(msg.get("output") or {})
    raise AssertionError("no completion")


def test_gradio_api_exposes_no_endpoint(app: Any) -> None:
    with _client(app, "203.0.113.5") as c:
        info = c.get("/gradio_api/info").json()
        assert info["named_endpoints"] == {} and info["unnamed_endpoints"] == {}
        deps = c.get("/config").json()["dependencies"]
        assert deps and all(d["api_visibility"] == "private" for d in deps)


def test_gradio_demo_sign_in_refuses_other_machines(app: Any) -> None:
    with _client(app, "203.0.113.5") as c:
        loaded = call(c, "on_load", [], "far-1")["data"]
        assert loaded[2]["visible"] is False and loaded[2]["choices"] == []  # no names leak to the page
        out = call(c, "pick", ["C0001", None], "far-1")
        assert "data" not in out  # refused before the handler: not a choice for this visitor
        summary = call(c, "summary", [None, None], "far-1")["data"][0]
        assert "anonymous" in summary.lower() and "C0001" not in summary
    # The handler refuses on its own too, should the choice list ever be bypassed.
    token, note = demo_sign_in(
        app.state.backend, "C0001", Visit(address="203.0.113.5", host="127.0.0.1:7860")
    )
    assert token is None and "this machine" in note


def test_gradio_privacy_handlers_need_a_signed_in_tab(app: Any) -> None:
    store = app.state.backend.store
    with _client(app, "203.0.113.6") as c:
        # State inputs come from the server's session, never from the request: a forged token is ignored.
        forged = app.state.backend.authority.issue("C0002")
        for name, data in (
            ("download", [forged, None]),
            ("summary", [forged, None]),
            ("erase", [forged, True, None]),
        ):
            out = json.dumps(call(c, name, data, "far-2"))
            assert "Name C0002" not in out and "c0002@example.com" not in out
            assert "/api/exports/" not in out and "Deleted" not in out
    assert store.get_customer("C0002") is not None and not list(
        (Path(app.state.backend.settings.data_dir) / "exports").glob("*.json")
    )


def test_gradio_demo_sign_in_works_on_this_machine(app: Any) -> None:
    with _client(app, "127.0.0.1") as c:
        loaded = call(c, "on_load", [], "near-1")["data"]
        assert ["Name C0001 (C0001)", "C0001"] in loaded[2]["choices"]
        assert "signed in as C0001" in json.dumps(call(c, "pick", ["C0001", None], "near-1"))
        assert "Name C0001" in call(c, "summary", [None, None], "near-1")["data"][0]
        link = call(c, "download", [None, None], "near-1")["data"][0]
        name = link.split("/api/exports/")[1].split('"')[0]
        assert c.get(f"/api/exports/{name}").json()["customer"]["id"] == "C0001"
        assert c.get(f"/api/exports/{name}").status_code == 404  # one download only
