"""Auth: staff routes need a token (hashed, constant-time), customers reach only their own data,
and the widget API honours the CORS origin allow-list."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_ui_fakes import FakeAssistant, local_client

from assistant.settings import Settings
from assistant.store import Store
from assistant.tokens import TokenDigests
from ui.api import create_app

ALLOWED = "https://shop.example.com"
SID = "5" * 32


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, Any]:
    store = Store(f"sqlite:///{tmp_path / 'auth.db'}")
    for cid, email in (("C1", "one@example.com"), ("C2", "two@example.com")):
        store.upsert_customer(cid, name=cid, email=email)
    store.create_session(SID, "C1")
    settings = Settings(
        data_dir=tmp_path,
        cors_origins=[ALLOWED],
        agent_token="agent-s3cret",
        admin_token="admin-s3cret",
        demo_mode=True,
    )
    app = create_app(settings, FakeAssistant(store), store=store, with_ui=False)
    c = local_client(app)
    tokens = {cid: c.post(f"/api/customers/{cid}/login").json()["token"] for cid in ("C1", "C2")}
    return {"c": c, "tokens": tokens, "app": app}


def test_token_digests() -> None:
    t = TokenDigests("agent-s3cret", "admin-s3cret", "")
    assert t.ok("agent-s3cret") and t.ok("admin-s3cret")
    assert not t.ok("agent-s3cre") and not t.ok("") and not t.ok(None) and not t.ok("x" * 10_000)
    assert "s3cret" not in repr(t) and b"s3cret" not in b"".join(t._digests)
    assert t._digests[0] == hashlib.sha256(b"agent-s3cret").digest()


AGENT_ROUTES = [
    ("GET", "/api/agent/queue"),
    ("GET", f"/api/agent/sessions/{SID}"),
    ("GET", "/api/agent/insights"),
    ("POST", f"/api/agent/sessions/{SID}/takeover"),
    ("POST", f"/api/agent/sessions/{SID}/release"),
]


@pytest.mark.parametrize("method, path", AGENT_ROUTES)
def test_agent_routes_need_the_staff_token(env: dict[str, Any], method: str, path: str) -> None:
    c = env["c"]
    assert c.request(method, path).status_code == 403
    assert c.request(method, path, headers={"Authorization": "Bearer wrong"}).status_code == 403
    # A customer's token is not a staff token, in either header.
    assert (
        c.request(method, path, headers={"Authorization": f"Bearer {env['tokens']['C1']}"}).status_code == 403
    )
    assert c.request(method, path, headers={"X-Customer-Token": env["tokens"]["C1"]}).status_code == 403
    for tok in ("agent-s3cret", "admin-s3cret"):
        assert c.request(method, path, headers={"Authorization": f"Bearer {tok}"}).status_code == 200


def test_the_router_keeps_no_plain_token(env: dict[str, Any]) -> None:
    # Walk the agent dependency's closure: only digests, never the plain secret.
    for route in env["app"].routes:
        if getattr(route, "path", "").startswith("/api/agent"):
            for dep in route.dependant.dependencies:
                cells = [c.cell_contents for c in (dep.call.__closure__ or ())]
                assert any(isinstance(x, TokenDigests) for x in cells)
                assert not any(isinstance(x, str) and "s3cret" in x for x in cells)
            break


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/customers/{cid}/export"),
        ("POST", "/api/customers/{cid}/opt-out"),
        ("DELETE", "/api/customers/{cid}"),
        ("GET", "/api/recommendations?customer_id={cid}"),
    ],
)
def test_customers_reach_only_their_own_data(env: dict[str, Any], method: str, path: str) -> None:
    c, tok = env["c"], env["tokens"]
    assert c.request(method, path.format(cid="C2")).status_code == 403
    assert (
        c.request(method, path.format(cid="C2"), headers={"X-Customer-Token": tok["C1"]}).status_code == 403
    )
    assert (
        c.request(method, path.format(cid="C2"), headers={"Authorization": f"Bearer {tok['C1']}"}).status_code
        == 403
    )
    assert (
        c.request(method, path.format(cid="C2"), headers={"X-Customer-Token": tok["C2"]}).status_code == 200
    )


def test_chat_as_a_customer_needs_their_token(env: dict[str, Any]) -> None:
    c, tok = env["c"], env["tokens"]
    body = {"message": "my orders", "customer_id": "C2"}
    assert c.post("/api/chat", json=body).status_code == 403
    assert c.post("/api/chat", json=body, headers={"X-Customer-Token": tok["C1"]}).status_code == 403
    assert c.post("/api/chat", json=body, headers={"X-Customer-Token": tok["C2"]}).status_code == 200


def test_cors_allow_list(env: dict[str, Any]) -> None:
    c = env["c"]
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    ok = c.options("/api/chat", headers={"Origin": ALLOWED, **pre})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == ALLOWED
    bad = c.options("/api/chat", headers={"Origin": "https://evil.example", **pre})
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
    r = c.post("/api/chat", json={"message": "hi"}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers  # the browser will not hand the answer over
    r = c.post("/api/chat", json={"message": "hi"}, headers={"Origin": ALLOWED})
    assert r.headers["access-control-allow-origin"] == ALLOWED
    assert r.headers.get("access-control-allow-credentials") != "true"


def test_no_cors_without_an_allow_list(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'n.db'}")
    c = TestClient(create_app(Settings(data_dir=tmp_path), FakeAssistant(store), store=store, with_ui=False))
    r = c.post("/api/chat", json={"message": "hi"}, headers={"Origin": "https://any.example"})
    assert "access-control-allow-origin" not in r.headers
