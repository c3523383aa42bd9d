"""The Gradio app's identity and privacy handlers: sign in (demo picker or a shop's token), see,
download or delete one's data, opt out. Each resolves the caller from server-side state and asks
``Backend`` (the same checks as the REST routes); none is exposed through Gradio's API.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.errors import AisleError

if TYPE_CHECKING:
    from assistant.identity import Identity
    from ui.service import Backend


@dataclass(frozen=True)
class Visit:
    """One Gradio request: the client's address and Host header, and the tab's server-side key."""

    address: str | None = None
    host: str | None = None
    user_agent: str | None = None
    client_key: str = ""

    @classmethod
    def of(cls, request: Any, client_key: str | None) -> Visit:
        if request is None:
            return cls(client_key=client_key or "")
        headers = getattr(request, "headers", {}) or {}
        client = getattr(request, "client", None)
        return cls(
            getattr(client, "host", None), headers.get("host"), headers.get("user-agent"), client_key or ""
        )


def resolve(backend: Backend, token: str | None, visit: Visit) -> tuple[Identity, str | None, str]:
    """(identity, the token if still valid, a note when it was dropped: expired, revoked, unknown)."""
    ctx = {"client_key": visit.client_key, "address": visit.address, "user_agent": visit.user_agent}
    if token:
        try:
            return backend.identify(customer_token=token, **ctx), token, ""
        except AisleError as exc:
            return backend.identify(**ctx), None, f"You are signed out ({exc})."
    return backend.identify(**ctx), None, ""


def demo_people(backend: Backend, visit: Visit) -> list[tuple[str, str]] | None:
    """The demo sign-in choices, or None where demo sign-in is off (not demo mode, or another machine)."""
    from assistant.identity import Identity

    try:
        people = backend.customers(Identity(), visit.address, visit.host)
    except AisleError:
        return None
    return [("Anonymous", "")] + [(f"{c['name']} ({c['id']})", c["id"]) for c in people]


def _slowed(backend: Backend, visit: Visit) -> str:
    """The slow-down message when this address signed in too often (the same limit as the API)."""
    from assistant.ratelimit import slow_down_message

    d = backend.api_limits.check("login", visit.address)
    return "" if d.allowed else slow_down_message(d)


def demo_sign_in(backend: Backend, choice: str | None, visit: Visit) -> tuple[str | None, str]:
    """(token or None, status line)."""
    if not choice:
        return None, "New conversation (anonymous shopper)."
    slow = _slowed(backend, visit)
    if slow:
        return None, slow
    try:
        return backend.demo_sign_in(
            choice, visit.address, visit.host
        ), f"New conversation (signed in as {choice})."
    except AisleError as exc:
        return None, f"Sign-in refused: {exc}"


def token_sign_in(backend: Backend, token: str | None, visit: Visit) -> tuple[str | None, str]:
    """Sign in with a customer token the shop's backend signed (docs/security.md)."""
    token = (token or "").strip()
    if not token:
        return None, "New conversation (anonymous shopper)."
    slow = _slowed(backend, visit)
    if slow:
        return None, slow
    who, kept, note = resolve(backend, token, visit)
    if kept is None:
        return None, note or "That token was refused."
    return kept, f"New conversation (signed in as {who.customer_id})."


def opted_out(backend: Backend, who: Identity) -> bool:
    return who.customer_id is not None and not backend.store.personalization_allowed(who.customer_id)


def privacy_summary(backend: Backend, who: Identity) -> str:
    if not who.customer_id:
        return (
            "You are anonymous: we keep only this conversation's messages and the clicks you make, under a "
            "random session id. Sign in to see, download or delete a profile."
        )
    try:
        data = backend.export(who, who.customer_id)
    except AisleError as exc:
        return html.escape(str(exc))
    consent = "on" if (data.get("consent") or {}).get("personalization", True) else "off (opted out)"
    name = html.escape(backend.guard.clean(str(data["customer"].get("name") or who.customer_id)), quote=False)
    return (
        f"**{name}**: {len(data['sessions'])} conversations, "
        f"{len(data['messages'])} messages, {len(data['events'])} events (views, carts, purchases, ratings, "
        f"clicks), {len(data['orders'])} orders, {len(data['tickets'])} support tickets. "
        f"Personalization is {consent}."
    )


def privacy_export(backend: Backend, who: Identity) -> str:
    """A one-time download link (10 minutes) to the JSON export; the file lives in the data dir."""
    from assistant.exports import EXPORT_TTL_S

    if not who.customer_id:
        return "<p>Sign in first: anonymous sessions hold no profile.</p>"
    try:
        name = backend.export_file(who, who.customer_id)
    except AisleError as exc:
        return f"<p>{html.escape(str(exc))}</p>"
    return (
        f'<p><a href="/api/exports/{html.escape(name)}" download="my-data.json" id="aisle-export-link">'
        f"Download my data (JSON)</a>: the link works once, for {EXPORT_TTL_S // 60} minutes.</p>"
    )


def privacy_delete(backend: Backend, who: Identity, confirm: bool) -> str:
    if not who.customer_id:
        return "Sign in first: anonymous sessions hold no profile."
    if not confirm:
        return "Tick the confirmation box first."
    try:
        backend.erase(who, who.customer_id)
    except AisleError as exc:
        return html.escape(str(exc))
    return f"Deleted everything stored about {who.customer_id}. You are signed out."


def privacy_opt(backend: Backend, who: Identity, opt_out: bool) -> str:
    if not who.customer_id:
        return "Anonymous sessions are never personalized."
    try:
        backend.set_personalization(who, who.customer_id, not opt_out)
    except AisleError as exc:
        return html.escape(str(exc))
    return (
        "Personalization is off: recommendations no longer use your history."
        if opt_out
        else "Personalization is on."
    )
