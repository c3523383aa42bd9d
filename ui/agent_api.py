"""Agent routes (/api/agent/...): the hand-off queue, a conversation's details, a suggested reply,
sending into the customer's conversation, take over / release, and insights. All need the agent
token as ``Authorization: Bearer ...`` (compared in constant time)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field

from assistant.api import is_draft_session
from assistant.errors import AccessDeniedError, NotFoundError
from ui import insights
from ui.service import Backend


class AgentMessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


def session_view(backend: Backend, session_id: str) -> dict[str, Any]:
    """Everything the console shows for one conversation (shared with the Gradio console)."""
    sess = backend.store.get_session(session_id)
    if sess is None:
        raise NotFoundError(f"no conversation {session_id!r}: pick one from the queue")
    msgs = backend.store.messages(session_id)
    return {
        "session": sess,
        "messages": msgs,
        "profile": backend.profile(sess.get("customer_id")),
        "sentiment": insights.sentiment_series(msgs),
    }


def queue(backend: Backend) -> dict[str, Any]:
    tickets = backend.store.tickets(status=None)
    # Only conversations a shopper wrote in: a flood of empty sessions cannot push real ones out.
    live = [
        s for s in backend.store.list_sessions(limit=50, with_messages=True) if not is_draft_session(s["id"])
    ]
    return {"tickets": [t for t in tickets if t["status"] != "closed"], "sessions": live}


def send_as_agent(backend: Backend, session_id: str, text: str) -> int:
    if backend.store.get_session(session_id) is None:
        raise NotFoundError(f"no conversation {session_id!r}")
    return backend.store.add_message(session_id, "agent", text, meta={"source": "agent"})


def set_takeover(backend: Backend, session_id: str, paused: bool) -> None:
    if backend.store.get_session(session_id) is None:
        raise NotFoundError(f"no conversation {session_id!r}")
    backend.store.set_paused(session_id, paused)
    for t in backend.store.tickets(status=None):
        if t["session_id"] == session_id and t["status"] != "closed":
            backend.store.set_ticket_status(t["id"], "in_progress" if paused else "open")


def router(backend: Backend) -> APIRouter:
    settings = backend.settings

    from assistant.tokens import TokenDigests

    staff = TokenDigests.from_settings(settings)  # only SHA-256 digests are kept

    def require_agent(authorization: str | None = Header(None)) -> None:
        token = authorization.removeprefix("Bearer ").strip() if authorization else None
        if not staff.ok(token):
            raise AccessDeniedError(
                "agent routes need 'Authorization: Bearer <agent token>' (AISLE_AGENT_TOKEN)"
            )

    r = APIRouter(prefix="/api/agent", dependencies=[Depends(require_agent)], tags=["agent"])

    @r.get("/queue", summary="Open hand-off tickets and live conversations")
    def get_queue() -> dict[str, Any]:
        return queue(backend)

    @r.get("/sessions/{session_id}", summary="Transcript, profile summary and sentiment of one conversation")
    def get_session(session_id: str) -> dict[str, Any]:
        return session_view(backend, session_id)

    @r.get("/sessions/{session_id}/suggest", summary="Suggested reply, products and policy passages")
    def suggest(session_id: str) -> dict[str, Any]:
        if backend.store.get_session(session_id) is None:
            raise NotFoundError(f"no conversation {session_id!r}")
        return backend.suggest(session_id)

    @r.post("/sessions/{session_id}/messages", summary="Send a message into the customer's conversation")
    def send(session_id: str, body: AgentMessageIn) -> dict[str, Any]:
        return {"ok": True, "message_id": send_as_agent(backend, session_id, body.text)}

    @r.post("/sessions/{session_id}/takeover", summary="Pause the bot: the agent answers from now on")
    def takeover(session_id: str) -> dict[str, Any]:
        set_takeover(backend, session_id, True)
        return {"session_id": session_id, "paused": True}

    @r.post("/sessions/{session_id}/release", summary="Hand the conversation back to the bot")
    def release(session_id: str) -> dict[str, Any]:
        set_takeover(backend, session_id, False)
        return {"session_id": session_id, "paused": False}

    @r.post("/tickets/{ticket_id}/close", summary="Close a ticket")
    def close(ticket_id: int) -> dict[str, Any]:
        backend.store.set_ticket_status(ticket_id, "closed")
        return {"ticket_id": ticket_id, "status": "closed"}

    @r.get(
        "/insights",
        summary="Intents, sentiment over time, CTR by variant, unanswered questions, experiments (per arm "
        "with 95% intervals, p-values, SRM), segments, customers most at risk, CSAT by intent and arm, "
        "sentiment trajectories",
    )
    def get_insights() -> dict[str, Any]:
        from ui import insight_panels

        return {**insights.compute(backend.store), **insight_panels.compute(backend)}

    return r
