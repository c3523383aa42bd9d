"""The shopper's rating of a conversation (1-5 stars) in the web chat, recorded as a "rating" event
with the tab's identity and the experiment arm the shopper is served (CSAT by intent and by arm)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.errors import AisleError
from ui.identity_panel import PRIVATE
from ui.privacy_panel import Visit, resolve

if TYPE_CHECKING:
    from ui.service import Backend

STARS = ["1", "2", "3", "4", "5"]


def rating_row() -> tuple[Any, Any, Any]:
    with gr.Row():
        stars = gr.Radio(
            STARS, label="How was this conversation? (1-5 stars)", elem_id="aisle-rating", scale=3
        )
        send = gr.Button("Rate", elem_id="aisle-rate", scale=1)
        note = gr.Markdown("", elem_id="aisle-rating-note")
    return stars, send, note


def rate(backend: Backend, stars: str | None, sid: str | None, token: str | None, visit: Visit) -> str:
    if not sid:
        return "Chat first, then rate the conversation."
    if stars not in STARS:
        return "Pick 1 to 5 stars."
    who, _, _ = resolve(backend, token, visit)
    if not backend.api_limits.check("events", visit.address).allowed:
        return "Too many requests; try again in a minute."
    try:
        backend.access.record_event(who, "rating", session_id=sid, value=float(stars))
    except AisleError as exc:
        return f"Could not record the rating: {exc}"
    return f"Thank you: {stars} of 5."


def wire_rating(backend: Backend, parts: tuple[Any, Any, Any], sid: Any, token: Any, ckey: Any) -> None:
    stars, send, note = parts

    def clicked(s: str | None, i: str | None, t: str | None, k: str, request: gr.Request) -> str:
        return rate(backend, s, i, t, Visit.of(request, k))

    send.click(clicked, inputs=[stars, sid, token, ckey], outputs=[note], api_visibility=PRIVATE)
