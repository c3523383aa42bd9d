"""The Gradio app: Shopper chat (+ Privacy), Agent console and Insights.

Every per-user value lives in ``gr.State`` (one copy per browser session, kept on the server and
never read from the request), never in module globals: two shoppers chatting at once must never
see each other's conversation. The conversation id and the tab's client key are issued on page load
(ui.identity_panel, which wires sign-in and privacy); the customer token is set only by a sign-in
handler that checked it. No handler is part of Gradio's API (``api_visibility="private"``), and
each one checks the caller as the REST routes do, because "private" only hides an endpoint: the
page itself still calls it.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import html
import json
from collections.abc import Callable, Generator, Iterator
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.api import BusyError
from assistant.errors import AisleError
from assistant.events import event_to_dict
from ui import console, rating
from ui import identity_panel as identity
from ui.identity_panel import PRIVATE
from ui.privacy_panel import Visit, resolve
from ui.render import CSS, HEAD_JS, cards_html

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ui.service import Backend

HERE = Path(__file__).resolve().parent
AGENT_PREFIX = "**Support agent:** "
CARD_EVENTS = {
    "cart": ("cart", None),
    "more": ("click", None),
    "up": ("feedback", 1.0),
    "down": ("feedback", -1.0),
}


def flatten(content: Any) -> str:
    """Gradio 6 hands history content back as a list of parts; we keep only the text."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "")
    if isinstance(content, list | tuple):
        return "".join(flatten(c) for c in content)
    return "" if content is None else str(content)


def clean_history(history: list[Any] | None) -> list[dict[str, str]]:
    out = []
    for m in history or []:
        role = m.get("role") if isinstance(m, dict) else getattr(m, "role", "assistant")
        content = m.get("content") if isinstance(m, dict) else getattr(m, "content", "")
        out.append({"role": str(role), "content": flatten(content)})
    return out


def show(backend: Backend, text: str) -> str:
    # The chat renders Markdown: the render guard takes out images, foreign links and URLs, and
    # escaping means a message can never inject markup or script.
    return html.escape(backend.guard.clean(text), quote=False)


def agent_messages(
    backend: Backend, who: Any, session_id: str, after: int
) -> tuple[list[dict[str, str]], int]:
    new, last = [], after
    try:
        msgs = backend.messages(who, session_id, after_id=after)
    except AisleError:  # no message yet (the conversation opens with the first one), or not theirs
        return [], after
    for m in msgs:
        last = max(last, int(m["id"]))
        if m["role"] == "agent":
            new.append({"role": "assistant", "content": AGENT_PREFIX + show(backend, m["text"])})
    return new, last


def chat_turn(
    backend: Backend,
    message: str,
    history: list[Any] | None,
    sid: str | None,
    token: str | None,
    last_id: int,
    visit: Visit | None = None,
) -> Iterator[tuple[Any, ...]]:
    """One streamed turn: (chatbot, cards, textbox, session id, token, last message id, status)."""
    visit = visit or Visit()
    who, token, note = resolve(backend, token, visit)
    hist = [] if note else clean_history(history)  # signed out: the old conversation is not theirs now
    message = (message or "").strip()
    if not message:
        yield hist, gr.skip(), "", sid, token, last_id, note
        return
    try:  # the same admission as POST /api/chat: length, quota, pre-embedding, turn gate
        backend.admission.check_length(message)
    except AisleError as exc:  # the message stays in the box, so nothing typed is lost
        yield hist, gr.skip(), message, sid, token, last_id, html.escape(str(exc))
        return
    try:  # the id came from this server's state; a conversation of another identity starts afresh
        sid = backend.open_session(who, sid, create=True)
    except AisleError:
        sid, hist, last_id = backend.open_session(who, None), [], 0
    verdict = backend.admission.quota(sid, visit.address)
    if not verdict.allowed:
        from assistant.ratelimit import slow_down_message

        yield hist, gr.skip(), message, sid, token, last_id, html.escape(slow_down_message(verdict))
        return
    hist.append({"role": "user", "content": show(backend, message)})
    yield hist, gr.skip(), "", sid, token, last_id, note or "thinking…"

    def frame(shown: list[dict[str, str]], cards: Any, status: str) -> tuple[Any, ...]:
        return shown, cards, "", sid, token, last_id, status

    reply, cards, status = yield from _stream_reply(backend, sid, message, who, hist, note, frame)
    if reply:
        hist.append({"role": "assistant", "content": show(backend, reply)})
    extra, last_id = agent_messages(backend, who, sid, last_id)
    yield hist + extra, cards, "", sid, token, last_id, status


_Frame = Callable[[list[dict[str, str]], Any, str], tuple[Any, ...]]


def _stream_reply(
    backend: Backend, sid: str, message: str, who: Any, hist: list[dict[str, str]], note: str, frame: _Frame
) -> Generator[tuple[Any, ...], None, tuple[str, Any, str]]:
    """The engine's events as chat frames (cards first, then the text as it grows); returns the
    (reply, cards, status) the turn ends on."""
    reply, cards, status = "", gr.skip(), note
    try:
        for ev in chain(*backend.admission.start_blocking(sid, message, who.customer_id, who.client_id)):
            d = event_to_dict(ev)
            if d["type"] == "products":
                cards = cards_html(d["cards"])
                yield frame(hist, cards, "found products")
            elif d["type"] == "text":
                reply += d["text"]
                yield frame([*hist, {"role": "assistant", "content": show(backend, reply)}], cards, "")
            elif d["type"] == "done":
                reply = d["text"] or reply
                if "paused" in d.get("actions", []):
                    status = "A support agent has joined; they will answer here."
    except Exception as exc:  # a failed turn must leave the chat usable
        status = _failure(exc)
    return reply, cards, status


def _failure(exc: Exception) -> str:
    if isinstance(exc, BusyError):
        return "Aisle is busy right now; please send again in a few seconds."
    if isinstance(exc, AisleError):  # our errors name the fix
        return f"Sorry, I can't answer yet: {html.escape(str(exc))}"
    return f"Sorry, something went wrong ({type(exc).__name__}). Please try again."


def poll_agent(
    backend: Backend,
    history: list[Any] | None,
    sid: str | None,
    token: str | None,
    last_id: int,
    visit: Visit | None = None,
) -> tuple[Any, Any]:
    """Timer tick: add messages an agent sent; skip the update otherwise so streaming is not disturbed."""
    if not sid:
        return gr.skip(), gr.skip()
    who, _, _ = resolve(backend, token, visit or Visit())
    extra, new_last = agent_messages(backend, who, sid, last_id)
    if not extra:
        return gr.skip(), (new_last if new_last != last_id else gr.skip())
    return clean_history(history) + extra, new_last


def card_event(backend: Backend, payload: str, sid: str | None, token: str | None, visit: Visit) -> None:
    """A card button (cart, like, dislike, more like this), recorded with the tab's identity."""
    try:
        data = json.loads(payload or "{}")
        kind, value = CARD_EVENTS[str(data.get("action"))]
        who, _, _ = resolve(backend, token, visit)
        if sid and backend.api_limits.check("events", visit.address).allowed:
            backend.access.record_event(
                who, kind, session_id=sid, product_id=str(data.get("product_id"))[:64], value=value
            )
    except (AisleError, KeyError, ValueError, TypeError):  # a stale or forged click records nothing
        return


def build(backend: Backend) -> gr.Blocks:
    with gr.Blocks(title="Aisle — shopping assistant") as demo:
        sid, token, ckey, last_id = gr.State(None), gr.State(None), gr.State(""), gr.State(0)
        gr.Markdown("# Aisle\nA shopping assistant that explains its picks.")
        with gr.Tab("Shopper", id="shopper"):
            with gr.Row():
                who, shop_token = identity.sign_in_fields()
                status = gr.Markdown("", elem_id="aisle-status")
            chat = gr.Chatbot(
                label="Conversation",
                elem_id="aisle-chat",
                height=380,
                feedback_options=None,
                group_consecutive_messages=False,
                placeholder="Ask for anything",
            )  # the shop's own examples: on_load
            cards = gr.HTML(cards_html([]), elem_id="aisle-cards", label="Products")
            with gr.Row():
                box = gr.Textbox(
                    label="Message",
                    placeholder="Type and press Enter",
                    elem_id="aisle-input",
                    scale=5,
                    autofocus=True,
                    max_lines=4,
                )
                send = gr.Button("Send", variant="primary", elem_id="aisle-send", scale=1)
            with gr.Row(elem_classes=["aisle-hidden"]):  # card buttons write here (render.HEAD_JS)
                ev_box = gr.Textbox(elem_id="aisle-event", show_label=False, container=False)
                ev_send = gr.Button("event", elem_id="aisle-event-send")
            stars = rating.rating_row()
            privacy = identity.privacy_accordion()
        console.build_tabs(backend)
        _wire_chat(backend, box, send, chat, cards, sid, token, ckey, last_id, status)
        rating.wire_rating(backend, stars, sid, token, ckey)
        identity.wire_identity(
            backend, demo, who, shop_token, sid, token, ckey, last_id, chat, cards, status, privacy
        )
        demo.load(
            lambda: gr.update(placeholder=backend.shop_texts().placeholder),
            outputs=[chat],
            api_visibility=PRIVATE,
            show_progress="hidden",
        )

        def clicked(payload: str, s: str | None, t: str | None, k: str, request: gr.Request) -> None:
            card_event(backend, payload, s, t, Visit.of(request, k))

        ev_send.click(
            clicked,
            inputs=[ev_box, sid, token, ckey],
            outputs=None,
            api_visibility=PRIVATE,
            show_progress="hidden",
        )
    return demo


def _wire_chat(
    backend: Backend,
    box: Any,
    send: Any,
    chat: Any,
    cards: Any,
    sid: Any,
    token: Any,
    ckey: Any,
    last_id: Any,
    status: Any,
) -> None:
    turn_in = [box, chat, sid, token, ckey, last_id]
    turn_out = [chat, cards, box, sid, token, last_id, status]

    def turn(
        message: str, history: list[Any], s: str | None, t: str | None, k: str, last: int, request: gr.Request
    ) -> Iterator[tuple[Any, ...]]:
        yield from chat_turn(backend, message, history, s, t, last, Visit.of(request, k))

    for trigger in (box.submit, send.click):
        trigger(turn, inputs=turn_in, outputs=turn_out, show_progress="hidden", api_visibility=PRIVATE)

    def tick(
        h: list[Any], s: str | None, t: str | None, k: str, last: int, request: gr.Request
    ) -> tuple[Any, Any]:
        return poll_agent(backend, h, s, t, last, Visit.of(request, k))

    timer = gr.Timer(2.0)
    timer.tick(
        tick,
        inputs=[chat, sid, token, ckey, last_id],
        outputs=[chat, last_id],
        show_progress="hidden",
        api_visibility=PRIVATE,
    )


def mount(app: FastAPI, backend: Backend) -> FastAPI:
    return gr.mount_gradio_app(
        app,
        build(backend),
        path="/",
        css=CSS,
        head=HEAD_JS,
        favicon_path=str(HERE / "static" / "favicon.ico"),
        footer_links=["settings"],
    )
