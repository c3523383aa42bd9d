"""Routes around the chat: conversations, events, customers and their privacy rights.

Every route takes the caller's Identity (``ui.http.identity_dependency``) and leaves the decision to
``Backend`` / ``assistant.access``, the same code the Gradio handlers call.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from assistant.errors import NotFoundError
from assistant.identity import Identity
from ui.http import client_address, identity_dependency, limit
from ui.service import Backend

ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
PRODUCT_ID_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]{1,64}$"


class EventIn(BaseModel):
    kind: Literal["click", "cart", "feedback", "thumbs", "view", "purchase", "impression", "rating"]
    session_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="The conversation (server-issued id); needed for anonymous events.",
    )
    customer_id: str | None = Field(
        default=None,
        pattern=ID_PATTERN,
        description="Needs that customer's token; purchases need the admin token.",
    )
    # A catalog's ids may hold any printable characters (spaces, "/", accents): knowledge.fields.product_id.
    product_id: str | None = Field(default=None, pattern=PRODUCT_ID_PATTERN)
    value: float | None = Field(default=None, ge=-5, le=5)
    variant: str | None = Field(default=None, max_length=32)


def router(backend: Backend) -> APIRouter:
    r = APIRouter(prefix="/api")
    who_is = identity_dependency(backend)

    @r.post("/sessions", summary="Start a conversation: returns its server-issued id")
    def start(request: Request, who: Identity = Depends(who_is)) -> dict[str, Any]:
        limit(backend, "sessions", request)
        return {"session_id": backend.open_session(who, None)}

    @r.get(
        "/sessions/{session_id}/messages",
        summary="A conversation's messages (poll with ?after=ID); order details are redacted unless you are "
        "its customer or staff",
    )
    def messages(
        session_id: str, after: int = Query(0, ge=0), who: Identity = Depends(who_is)
    ) -> dict[str, Any]:
        return {"session_id": session_id, "messages": backend.messages(who, session_id, after_id=after)}

    @r.post(
        "/events", summary="Record a click, cart add, thumbs up/down or a 1-5 rating of your conversation"
    )
    def post_event(ev: EventIn, request: Request, who: Identity = Depends(who_is)) -> dict[str, Any]:
        limit(backend, "events", request)
        kind = "feedback" if ev.kind == "thumbs" else ev.kind
        eid = backend.access.record_event(
            who,
            kind,
            session_id=ev.session_id,
            customer_id=ev.customer_id,
            product_id=ev.product_id,
            value=ev.value,
            variant=ev.variant,
        )
        return {"ok": True, "id": eid}

    @r.get(
        "/customers",
        summary="Demo customers one can sign in as (demo mode on this machine, or staff); no emails",
    )
    def customers(request: Request, who: Identity = Depends(who_is)) -> dict[str, Any]:
        return {"customers": backend.customers(who, client_address(request), request.headers.get("host"))}

    @r.post(
        "/customers/{customer_id}/login",
        summary="Demo sign-in (demo mode, from this machine only): a short-lived customer token",
    )
    def login(customer_id: str, request: Request) -> dict[str, Any]:
        limit(backend, "login", request)
        token = backend.demo_sign_in(customer_id, client_address(request), request.headers.get("host"))
        return {
            "customer_id": customer_id,
            "token": token,
            "expires_in": backend.settings.customer_token_max_ttl_s,
        }

    _privacy_routes(r, backend, who_is)
    return r


def _privacy_routes(r: APIRouter, backend: Backend, who_is: Any) -> None:
    """Export, one-time download, deletion and opt-out: the customer's token or staff."""

    @r.get("/customers/{customer_id}/export", summary="Everything stored about a customer (JSON)")
    def export(customer_id: str, who: Identity = Depends(who_is)) -> JSONResponse:
        return JSONResponse(
            backend.export(who, customer_id),
            headers={
                "Content-Disposition": 'attachment; filename="my-data.json"',
                "Cache-Control": "no-store",
            },
        )

    @r.get(
        "/exports/{name}",
        summary="A one-time download of an export made in the web app",
        include_in_schema=False,
    )
    def download(name: str) -> Response:
        body = backend.take_export(name)
        if body is None:
            raise NotFoundError("this download link was used already or has expired: make a new one")
        return Response(
            body,
            media_type="application/json",
            headers={
                "Content-Disposition": 'attachment; filename="my-data.json"',
                "Cache-Control": "no-store",
            },
        )

    @r.delete(
        "/customers/{customer_id}", summary="Delete everything stored about a customer; revokes their tokens"
    )
    def delete(customer_id: str, who: Identity = Depends(who_is)) -> dict[str, Any]:
        backend.erase(who, customer_id)
        return {"deleted": customer_id}

    @r.post(
        "/customers/{customer_id}/opt-out",
        summary="Stop personalization for a customer (opt back in with ?allow=1)",
    )
    def opt_out(
        customer_id: str, allow: bool = Query(False), who: Identity = Depends(who_is)
    ) -> dict[str, Any]:
        backend.set_personalization(who, customer_id, allow)
        return {"customer_id": customer_id, "personalization": allow}
