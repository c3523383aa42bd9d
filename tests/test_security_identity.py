"""Security suite, identity (issue 15): every probe of the issue against sign-in, customer tokens,
secrets and `aisle run`'s exposure checks, as a named test. Real SQLite, the real API, a fake engine."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from test_ui_fakes import FakeAssistant, local_client

from assistant.identity import AUDIENCE, Authority, host_header_is_loopback, is_loopback, serving_problem
from assistant.settings import Settings, load_settings
from assistant.store import Store
from ui.api import create_app

IDS = [f"C{i:04d}" for i in range(1, 31)]  # sequential, as in the demo shop


def _app(tmp_path: Path, **settings: Any) -> Any:
    tmp_path.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{tmp_path / 'sec.db'}")
    for cid in IDS:
        store.upsert_customer(cid, name=f"Name {cid}", email=f"{cid.lower()}@example.com")
    return create_app(
        Settings(data_dir=tmp_path, **settings), FakeAssistant(store), store=store, with_ui=False
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _sign(claims: dict[str, Any], key: str | bytes) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def _secret(tmp_path: Path) -> bytes:
    return (tmp_path / "shop-secret").read_text().strip().encode()


# --- the probe: "login hands out a token for any existing id, no credential, no rate limit" ------
def test_login_is_refused_outside_demo_mode(tmp_path: Path) -> None:
    c = local_client(_app(tmp_path))  # default settings: no demo mode, even from this machine
    r = c.post("/api/customers/C0001/login")
    assert r.status_code == 403 and "demo mode" in r.json()["detail"] and "token" not in r.json()


def test_demo_login_is_refused_to_non_loopback_clients(tmp_path: Path) -> None:
    app = _app(tmp_path, demo_mode=True)
    far = TestClient(app, client=("203.0.113.7", 40000), base_url="http://127.0.0.1:7860")
    r = far.post("/api/customers/C0001/login")
    assert r.status_code == 403 and "this machine" in r.json()["detail"]
    assert local_client(app).post("/api/customers/C0001/login").status_code == 200  # the newcomer's demo


def test_demo_login_refuses_a_foreign_host_header(tmp_path: Path) -> None:
    # DNS rebinding: a web page on evil.example resolving to 127.0.0.1 reaches us with its own Host.
    app = _app(tmp_path, demo_mode=True)
    c = TestClient(app, client=("127.0.0.1", 40000), base_url="http://evil.example:7860")
    assert c.post("/api/customers/C0001/login").status_code == 403
    assert host_header_is_loopback("127.0.0.1:7860") and host_header_is_loopback("[::1]:7860")
    assert host_header_is_loopback("localhost") and not host_header_is_loopback("127.0.0.1.evil.example")


def test_enumerating_customer_ids_collects_no_tokens(tmp_path: Path) -> None:
    for settings in ({}, {"demo_mode": True}):  # default mode from here; demo mode from elsewhere
        app = _app(tmp_path / str(len(settings)), **settings)
        c = TestClient(app, client=("198.51.100.9", 40000)) if settings else local_client(app)
        got = [c.post(f"/api/customers/{cid}/login") for cid in IDS]
        assert all(r.status_code in (403, 429) for r in got)
        assert not any("token" in r.json() for r in got)


def test_demo_login_is_rate_limited(tmp_path: Path) -> None:
    c = local_client(_app(tmp_path, demo_mode=True, rate_limit_login_per_minute=5))
    codes = [c.post(f"/api/customers/{cid}/login").status_code for cid in IDS[:8]]
    assert codes == [200] * 5 + [429] * 3
    r = c.post("/api/customers/C0001/login")
    assert int(r.headers["Retry-After"]) >= 1 and "sign-ins" in r.json()["detail"]


def test_customer_list_is_staff_or_demo_only_and_shows_no_emails(tmp_path: Path) -> None:
    app = _app(tmp_path)
    c = local_client(app)
    assert c.get("/api/customers").status_code == 403
    staff = c.get("/api/customers", headers=_bearer("agent-demo-token")).json()["customers"]
    assert staff and set(staff[0]) == {"id", "name"} and "@" not in str(staff)
    demo = _app(tmp_path / "demo", demo_mode=True)
    assert local_client(demo).get("/api/customers").status_code == 200
    assert TestClient(demo).get("/api/customers").status_code == 403


# --- the probe: "tokens are an HMAC keyed with the public admin default; forged offline" ---------
# The forger signs with the short public defaults on purpose; PyJWT warns about the key's length.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_tokens_forged_with_public_defaults_are_refused(tmp_path: Path) -> None:
    c = local_client(_app(tmp_path))
    now = int(time.time())
    claims = {"sub": "C0002", "iat": now, "exp": now + 600, "aud": AUDIENCE}
    old_scheme = hmac.new(b"admin-demo-token", b"customer:C0002", hashlib.sha256).hexdigest()
    forged = [
        old_scheme,
        _sign(claims, "admin-demo-token"),
        _sign(claims, "agent-demo-token"),
        jwt.encode(claims, key="", algorithm="none"),
        _sign(claims, "x" * 32),
    ]
    for tok in forged:
        for headers in (_bearer(tok), {"X-Customer-Token": tok}):
            r = c.get("/api/customers/C0002/export", headers=headers)
            assert r.status_code == 403, (tok, r.text)


def test_a_token_for_one_customer_opens_no_other(tmp_path: Path) -> None:
    c = local_client(_app(tmp_path))
    mine = Authority.from_settings(Settings(data_dir=tmp_path), lambda: None).issue("C0001")  # type: ignore[arg-type,return-value]
    assert c.get("/api/customers/C0001/export", headers=_bearer(mine)).status_code == 200
    for path in ("/api/customers/C0002/export", "/api/customers/C0002/opt-out"):
        assert (
            c.request("GET" if path.endswith("export") else "POST", path, headers=_bearer(mine)).status_code
            == 403
        )
    assert c.delete("/api/customers/C0002", headers=_bearer(mine)).status_code == 403


def test_shop_signed_token_in_the_documented_format_is_accepted(tmp_path: Path) -> None:
    """The 10-line example of docs/security.md, as a shop's backend would run it."""
    c = local_client(_app(tmp_path, shop_secret="s" * 40))
    now = int(time.time())
    token = jwt.encode(
        {"sub": "C0003", "iat": now, "exp": now + 900, "aud": "aisle"}, "s" * 40, algorithm="HS256"
    )
    assert c.get("/api/customers/C0003/export", headers=_bearer(token)).json()["customer"]["id"] == "C0003"
    assert c.get("/api/customers/C0003/export", headers={"X-Customer-Token": token}).status_code == 200
    body = c.post("/api/chat", json={"message": "hi"}, headers=_bearer(token)).json()
    assert body["done"]["session_id"]


# --- the probe: "tokens never expire" ------------------------------------------------------------
def test_expired_and_long_lived_tokens_are_refused(tmp_path: Path) -> None:
    c = local_client(_app(tmp_path, shop_secret="k" * 40, customer_token_max_ttl_s=900))
    now = int(time.time())
    expired = _sign({"sub": "C0001", "iat": now - 2000, "exp": now - 1000, "aud": AUDIENCE}, "k" * 40)
    forever = _sign({"sub": "C0001", "iat": now, "exp": now + 10 * 365 * 86400, "aud": AUDIENCE}, "k" * 40)
    no_exp = _sign({"sub": "C0001", "iat": now, "aud": AUDIENCE}, "k" * 40)
    wrong_aud = _sign({"sub": "C0001", "iat": now, "exp": now + 60, "aud": "another-app"}, "k" * 40)
    for tok, why in ((expired, "expired"), (forever, "longer"), (no_exp, "exp"), (wrong_aud, "audience")):
        r = c.get("/api/customers/C0001/export", headers=_bearer(tok))
        assert r.status_code == 403 and why in r.json()["detail"].lower(), r.text


# --- the probe: "tokens still validate after the customer is deleted; her old token gets a 500" ---
def test_token_is_revoked_when_the_customer_is_deleted(tmp_path: Path) -> None:
    app = _app(tmp_path, demo_mode=True)
    c = local_client(app)
    tok = c.post("/api/customers/C0004/login").json()["token"]
    assert c.delete("/api/customers/C0004", headers=_bearer(tok)).json() == {"deleted": "C0004"}
    for method, path in (
        ("GET", "/api/customers/C0004/export"),
        ("DELETE", "/api/customers/C0004"),
        ("POST", "/api/customers/C0004/opt-out"),
        ("GET", "/api/recommendations?customer_id=C0004"),
    ):
        r = c.request(method, path, headers=_bearer(tok))
        assert r.status_code == 403 and "revoked" in r.json()["detail"], (path, r.text)
    r = c.post("/api/chat", json={"message": "hi"}, headers=_bearer(tok))
    assert r.status_code == 403  # not a 500 from a dangling customer id
    # The same customer id created again (the shop re-syncs) needs a token issued after the deletion.
    app.state.backend.store.upsert_customer("C0004", name="New C0004")
    assert c.get("/api/customers/C0004/export", headers=_bearer(tok)).status_code == 403


def test_token_for_an_unknown_customer_is_404_never_500(tmp_path: Path) -> None:
    c = local_client(_app(tmp_path))
    tok = Authority.from_settings(Settings(data_dir=tmp_path), lambda: None).issue("C9999")  # type: ignore[arg-type,return-value]
    for method, path in (
        ("GET", "/api/customers/C9999/export"),
        ("DELETE", "/api/customers/C9999"),
        ("POST", "/api/chat"),
    ):
        r = c.request(
            method, path, headers=_bearer(tok), json={"message": "hi"} if path == "/api/chat" else None
        )
        assert r.status_code == 404 and "does not know" in r.json()["detail"], (path, r.text)


# --- the probe: "the secret is a public default" ---------------------------------------------------
def test_shop_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    _app(tmp_path)
    path = tmp_path / "shop-secret"
    first = _secret(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 32
    assert b"demo" not in first
    _app(tmp_path / "other")  # another data dir: another secret
    assert (tmp_path / "other" / "shop-secret").read_bytes().strip() != first
    _app(tmp_path)  # the same data dir again: the same secret (issued tokens stay valid)
    assert _secret(tmp_path) == first
    os.chmod(path, 0o644)
    _app(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # loosened: tightened again
    with pytest.raises(Exception, match="at least 32"):
        load_settings(data_dir=tmp_path, shop_secret="short")


def test_authority_never_shows_its_secret(tmp_path: Path) -> None:
    auth = Authority.from_settings(Settings(data_dir=tmp_path), lambda: None)  # type: ignore[arg-type,return-value]
    assert _secret(tmp_path).decode() not in repr(auth)


# --- the probe: "`aisle run` starts with the demo staff tokens without a warning, on any host" -----
def test_serving_problem_names_the_setting() -> None:
    assert serving_problem(Settings(host="127.0.0.1")) is None
    msg = serving_problem(Settings(host="0.0.0.0"))
    assert msg and "\n" not in msg and "AISLE_AGENT_TOKEN" in msg and "demo default" in msg
    msg = serving_problem(Settings(host="0.0.0.0", agent_token="a" * 40, admin_token=""))
    assert msg and "AISLE_ADMIN_TOKEN" in msg and "empty" in msg
    assert serving_problem(Settings(host="0.0.0.0", agent_token="a" * 40, admin_token="b" * 40)) is None
    assert is_loopback("::1") and is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}
    return subprocess.run(
        [sys.executable, "-m", "aisle", "run", "--port", "1", *args],
        cwd=tmp_path,
        env={**clean, "AISLE_DATA_DIR": str(tmp_path / "d"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_aisle_run_refuses_a_public_host_with_demo_tokens(tmp_path: Path) -> None:
    r = _run(tmp_path, "--host", "0.0.0.0")
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "AISLE_AGENT_TOKEN" in lines[0] and "refusing" in lines[0]
    r = _run(tmp_path, "--host", "0.0.0.0", AISLE_AGENT_TOKEN="x" * 32, AISLE_ADMIN_TOKEN="")
    assert r.returncode == 1 and "AISLE_ADMIN_TOKEN is empty" in r.stderr


def test_aisle_run_demo_mode_is_for_the_demo_shop_only(tmp_path: Path) -> None:
    from dataclasses import replace

    from knowledge.catalog import Catalog, load_demo_catalog
    from knowledge.snapshot import save_catalog

    demo = load_demo_catalog()
    save_catalog(tmp_path / "d", Catalog([replace(demo.products[0], id="MY-1")], [], []))
    r = _run(tmp_path, "--demo", "--host", "127.0.0.1")
    assert r.returncode == 1 and "only for the demo shop" in r.stderr
