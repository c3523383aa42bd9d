"""Who is asking: staff (the agent or admin token), a customer the shop vouched for, or a stranger.

A customer is identified only by a token the shop's backend signed: an HS256 JWT with the claims
``sub`` (the customer id), ``iat``, ``exp`` and ``aud = "aisle"``, keyed with the shop secret
(``AISLE_SHOP_SECRET``, or a random one Aisle writes to ``<data_dir>/shop-secret`` with mode 0600).
Tokens are short-lived (``exp - iat`` at most ``customer_token_max_ttl_s``) and revoked when the
customer is deleted: a keyed hash of the id and the time of deletion are kept, never the id.

The demo shop's "sign in as a demo customer" mints the same tokens, but only in demo mode and only
for a client on this machine (``require_demo_sign_in``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import AccessDeniedError, ConfigError, NotFoundError
from assistant.settings import DEMO_ADMIN_TOKEN, DEMO_AGENT_TOKEN
from assistant.tokens import TokenDigests

if TYPE_CHECKING:
    from assistant.settings import Settings
    from assistant.store import Store

__all__ = ["AUDIENCE", "Authority", "Identity", "is_loopback", "load_or_create_secret", "serving_problem"]
log = logging.getLogger(__name__)

AUDIENCE = "aisle"
ALGORITHM = "HS256"
SECRET_FILE = "shop-secret"
CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
CLIENT_KEY = re.compile(r"^[A-Za-z0-9_\-]{16,128}$")
LEEWAY_S = 30  # clock skew between the shop's backend and Aisle
SHOP_TOKEN_HELP = "get a fresh customer token from the shop's backend (docs/security.md)"


@dataclass(frozen=True)
class Identity:
    """The caller of one request. ``client_id`` is opaque and stable per browser / API client."""

    customer_id: str | None = None
    staff: bool = False
    client_id: str = ""
    token_iat: float | None = None

    def may_act_for(self, customer_id: str | None) -> bool:
        return self.staff or (customer_id is not None and self.customer_id == customer_id)


def is_loopback(address: str | None) -> bool:
    """A client address (or a bind host) on this machine. Names other than localhost are not resolved."""
    if not address:
        return False
    host = address.strip().lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_header_is_loopback(host: str | None) -> bool:
    """The Host header names this machine: a web page elsewhere cannot use DNS rebinding to reach us."""
    if not host:
        return False
    h = host.strip()
    if h.startswith("[") and "]" in h:  # [::1]:7860
        return is_loopback(h[1 : h.index("]")])
    if h.count(":") == 1:  # name:port
        h = h.split(":", 1)[0]
    return is_loopback(h)


def serving_problem(settings: Settings) -> str | None:
    """Why ``aisle run`` must not serve on ``settings.host``, or None. One line naming the setting."""
    if is_loopback(settings.host):
        return None
    for env, secret, demo in (
        ("AISLE_AGENT_TOKEN", settings.agent_token, DEMO_AGENT_TOKEN),
        ("AISLE_ADMIN_TOKEN", settings.admin_token, DEMO_ADMIN_TOKEN),
    ):
        value = secret.get_secret_value()
        why = (
            "empty"
            if not value
            else "the public demo default"
            if value == demo
            else "shorter than 16 characters"
            if len(value) < 16
            else ""
        )
        if why:
            return (
                f"refusing to serve on {settings.host}: {env} is {why}; set it to a long random secret "
                "(python -c 'import secrets; print(secrets.token_urlsafe(32))') or serve on 127.0.0.1"
            )
    return None


def load_or_create_secret(settings: Settings) -> bytes:
    """The shop secret: configured, or generated once into ``<data_dir>/shop-secret`` (mode 0600)."""
    if settings.shop_secret is not None:
        return settings.shop_secret.get_secret_value().encode()
    path = settings.ensure_data_dir() / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_urlsafe(48) + "\n")
    log.warning("generated a shop secret in %s: give it to the shop's backend to sign customer tokens", path)
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:  # someone loosened it: only this user may read the key
        os.chmod(path, 0o600)
        log.warning("%s was readable by other users; its mode is now 0600", path)
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < 32:
        raise ConfigError(
            f"{path} holds a key shorter than 32 characters: delete it (a new one is generated) "
            "or set AISLE_SHOP_SECRET"
        )
    return value.encode()


class Authority:
    """Verifies staff and customer tokens, mints demo tokens, revokes a deleted customer's tokens."""

    def __init__(self, settings: Settings, secret: bytes, store: Callable[[], Store]) -> None:
        self.settings = settings
        self._secret = secret
        self._store = store
        self._staff = TokenDigests.from_settings(settings)

    @classmethod
    def from_settings(cls, settings: Settings, store: Callable[[], Store]) -> Authority:
        return cls(settings, load_or_create_secret(settings), store)

    def __repr__(self) -> str:  # never the secret
        return f"Authority(demo_mode={self.settings.demo_mode}, staff={self._staff!r})"

    # --- keyed hashes: stable, unguessable, and never the identifier itself ----------------------
    def tag(self, kind: str, value: str) -> str:
        return hmac.new(self._secret, f"{kind}|{value}".encode(), hashlib.sha256).hexdigest()[:32]

    def client_id(self, customer_id: str | None, client_key: str) -> str:
        return "c-" + self.tag("client", f"{customer_id or ''}|{client_key}")

    # --- tokens --------------------------------------------------------------------------------
    def issue(self, customer_id: str, ttl_s: int | None = None) -> str:
        """A customer token, as the shop's backend would sign it (demo sign-in, tests)."""
        import jwt

        now = int(time.time())
        ttl = min(ttl_s or self.settings.customer_token_max_ttl_s, self.settings.customer_token_max_ttl_s)
        return jwt.encode(
            {"sub": customer_id, "iat": now, "exp": now + ttl, "aud": AUDIENCE},
            self._secret,
            algorithm=ALGORITHM,
        )

    def verify(self, token: str) -> tuple[str, float]:
        """(customer id, issued-at) of a valid token for a known, not deleted customer."""
        claims = self._claims(token)
        cid, iat = str(claims["sub"]), float(claims["iat"])
        if not CUSTOMER_ID.match(cid):
            raise AccessDeniedError(
                f"customer token rejected: its subject is not a customer id; {SHOP_TOKEN_HELP}"
            )
        store = self._store()
        revoked = store.revoked_at(self.tag("subject", cid))
        if revoked is not None and iat <= revoked:
            raise AccessDeniedError("customer token revoked: the customer's data was deleted; sign in again")
        if store.get_customer(cid) is None:
            raise NotFoundError(
                f"the customer token names {cid!r}, a customer Aisle does not know: "
                "load the shop's customers first (aisle ingest)"
            )
        return cid, iat

    def _claims(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                leeway=LEEWAY_S,
                options={"require": ["sub", "iat", "exp", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AccessDeniedError(f"customer token expired: {SHOP_TOKEN_HELP}") from None
        except jwt.PyJWTError as exc:
            raise AccessDeniedError(f"customer token rejected ({exc}); {SHOP_TOKEN_HELP}") from None
        if float(claims["exp"]) - float(claims["iat"]) > self.settings.customer_token_max_ttl_s:
            raise AccessDeniedError(
                "customer token rejected: it lives longer than customer_token_max_ttl_s "
                f"({self.settings.customer_token_max_ttl_s} s); sign shorter-lived tokens"
            )
        return claims

    def revoke(self, customer_id: str) -> None:
        """Every token issued for this customer until now stops working."""
        # The next whole second: a token minted in the same second as the deletion is revoked too.
        self._store().revoke(self.tag("subject", customer_id), float(int(time.time()) + 1))

    # --- who is asking -------------------------------------------------------------------------
    def identify(
        self,
        *,
        authorization: str | None = None,
        customer_token: str | None = None,
        client_key: str | None = None,
        address: str | None = None,
        user_agent: str | None = None,
    ) -> Identity:
        """The request's identity; a token that is present but invalid is an error, never 'anonymous'."""
        bearer = _bearer(authorization)
        key = (
            client_key
            if client_key and CLIENT_KEY.match(client_key)
            else f"{address or ''}|{user_agent or ''}"
        )
        if bearer and self._staff.ok(bearer):
            return Identity(staff=True, client_id=self.client_id("staff", key))
        token = customer_token or bearer
        if not token:
            return Identity(client_id=self.client_id(None, key))
        cid, iat = self.verify(token)
        return Identity(customer_id=cid, client_id=self.client_id(cid, key), token_iat=iat)

    def require_demo_sign_in(self, address: str | None, host: str | None) -> None:
        if not self.settings.demo_mode:
            raise AccessDeniedError(
                "demo sign-in is off: it exists only in demo mode (`aisle run --demo`, the "
                "demo shop on 127.0.0.1); a real shop signs its customers in with a token "
                "from its backend (docs/security.md)"
            )
        if not (is_loopback(address) and host_header_is_loopback(host)):
            raise AccessDeniedError("demo sign-in answers only clients on this machine (http://127.0.0.1)")


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None
