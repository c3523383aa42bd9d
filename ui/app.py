"""The Gradio app: Shopper chat (+ Privacy), Agent console and Insights.

Every per-user value lives in ``gr.State`` (one copy per browser session), never in module
globals: two shoppers chatting at once must never see each other's conversation.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import html
import json
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.events import event_to_dict
from ui import console
from ui.render import CSS, HEAD_JS, cards_html

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assistant.ratelimit import ChatLimits
    from ui.service import Backend

HERE = Path(__file__).resolve().parent
AGENT_PREFIX = "**Support agent:** "


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


def show(text: str) -> str:
    # Chatbot renders Markdown; escaping first means a message can never inject markup or script.
    return html.escape(text, quote=False)


def new_session() -> str:
    return uuid.uuid4().hex


def agent_messages(backend: Backend, session_id: str, after: int) -> tuple[list[dict[str, str]], int]:
    new, last = [], after
    for m in backend.messages(session_id, after_id=after):
        last = max(last, int(m["id"]))
        if m["role"] == "agent":
            new.append({"role": "assistant", "content": AGENT_PREFIX + show(m["text"])})
    return new, last


def chat_turn(backend: Backend, message: str, history: list[Any] | None, sid: str | None, cid: str | None,
              last_id: int, limits: ChatLimits | None = None, address: str | None = None) -> Iterator[tuple[Any, ...]]:
    """One streamed turn: (chatbot, cards, textbox, session id, last message id, status)."""
    sid = sid or new_session()
    hist = clean_history(history)
    message = (message or "").strip()
    if not message:
        yield hist, gr.skip(), "", sid, last_id, ""
        return
    if limits is not None:  # the same per-session and per-address limits as POST /api/chat
        verdict = limits.check(sid, address)
        if not verdict.allowed:  # the message stays in the box, so nothing typed is lost
            from assistant.ratelimit import slow_down_message

            yield hist, gr.skip(), message, sid, last_id, html.escape(slow_down_message(verdict))
            return
    hist.append({"role": "user", "content": show(message)})
    yield hist, gr.skip(), "", sid, last_id, "thinking…"
    reply, cards, status = "", gr.skip(), ""
    try:
        for ev in backend.stream(sid, message, cid):
            d = event_to_dict(ev)
            if d["type"] == "products":
                cards = cards_html(d["cards"], sid, cid)
                yield hist, cards, "", sid, last_id, "found products"
            elif d["type"] == "text":
                reply += d["text"]
                yield [*hist, {"role": "assistant", "content": show(reply)}], cards, "", sid, last_id, ""
            elif d["type"] == "done":
                reply = d["text"] or reply
                if "paused" in d.get("actions", []):
                    status = "A support agent has joined; they will answer here."
    except Exception as exc:  # a failed turn must leave the chat usable
        from assistant.errors import AisleError
        from ui.service import is_busy

        if is_busy(exc):
            status = "Aisle is busy right now; please send again in a few seconds."
        elif isinstance(exc, AisleError):  # our errors name the fix
            status = f"Sorry, I can't answer yet: {html.escape(str(exc))}"
        else:
            status = f"Sorry, something went wrong ({type(exc).__name__}). Please try again."
    if reply:
        hist.append({"role": "assistant", "content": show(reply)})
    extra, last_id = agent_messages(backend, sid, last_id)
    yield hist + extra, cards, "", sid, last_id, status


def poll_agent(backend: Backend, history: list[Any] | None, sid: str | None, last_id: int) -> tuple[Any, Any]:
    """Timer tick: add messages an agent sent; skip the update otherwise so streaming is not disturbed."""
    if not sid:
        return gr.skip(), gr.skip()
    extra, new_last = agent_messages(backend, sid, last_id)
    if not extra:
        return gr.skip(), (new_last if new_last != last_id else gr.skip())
    return clean_history(history) + extra, new_last


def sign_in(backend: Backend, choice: str | None) -> tuple[Any, ...]:
    cid = choice or None
    who = "anonymous shopper" if cid is None else f"signed in as {cid}"
    opted_out = cid is not None and not backend.store.personalization_allowed(cid)
    return cid, new_session(), [], cards_html([], "", cid), 0, f"New conversation ({who}).", opted_out


# --- privacy -------------------------------------------------------------------------------
def privacy_summary(backend: Backend, cid: str | None) -> str:
    if not cid:
        return ("You are anonymous: we keep only this conversation's messages and the clicks you make, under a "
                "random session id. Sign in as a demo customer to see, download or delete a profile.")
    data = backend.store.export_customer(cid)
    if data["customer"] is None:
        return "Nothing is stored about this customer (deleted)."
    consent = "on" if (data.get("consent") or {}).get("personalization", True) else "off (opted out)"
    return (f"**{html.escape(str(data['customer'].get('name', cid)))}**: {len(data['sessions'])} conversations, "
            f"{len(data['messages'])} messages, {len(data['events'])} events (views, carts, purchases, ratings, "
            f"clicks), {len(data['orders'])} orders, {len(data['tickets'])} support tickets. "
            f"Personalization is {consent}.")


def privacy_export(backend: Backend, cid: str | None) -> str | None:
    if not cid:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=f"-{cid}.json", delete=False, encoding="utf-8") as tmp:
        json.dump(backend.store.export_customer(cid), tmp, indent=2, default=str)
    return tmp.name


def privacy_delete(backend: Backend, cid: str | None, confirm: bool) -> str:
    if not cid:
        return "Sign in first: anonymous sessions hold no profile."
    if not confirm:
        return "Tick the confirmation box first."
    fn = getattr(backend.assistant, "forget_customer", None)
    ok = fn(cid) if callable(fn) else backend.store.delete_customer(cid)
    return f"Deleted everything stored about {cid}." if ok else "Nothing to delete."


def _after_delete(message: str) -> tuple[str, Any]:
    return message, (gr.update(value="") if message.startswith("Deleted") else gr.skip())


def privacy_opt(backend: Backend, cid: str | None, opted_out: bool) -> str:
    if not cid:
        return "Anonymous sessions are never personalized."
    if backend.store.get_customer(cid) is None:
        return "No such customer."
    backend.store.set_personalization(cid, not opted_out)
    return "Personalization is off: recommendations no longer use your history." if opted_out else "Personalization is on."


def build(backend: Backend) -> gr.Blocks:
    try:
        people = backend.customers()
    except Exception:
        people = []
    choices = [("Anonymous", "")] + [(f"{c['name']} ({c['id']})", c["id"]) for c in people]
    with gr.Blocks(title="Aisle — shopping assistant") as demo:
        sid, cid, last_id = gr.State(None), gr.State(None), gr.State(0)
        gr.Markdown("# Aisle\nA shopping assistant that explains its picks.")
        with gr.Tab("Shopper", id="shopper"):
            with gr.Row():
                who = gr.Dropdown(choices, value="", label="Sign in as a demo customer", scale=3, elem_id="aisle-who")
                status = gr.Markdown("", elem_id="aisle-status")
            chat = gr.Chatbot(label="Conversation", elem_id="aisle-chat", height=380, feedback_options=None,
                              group_consecutive_messages=False,
                              placeholder="Ask for anything: “wireless headphones under $100”, “where is my order?”")
            cards = gr.HTML(cards_html([], "", None), elem_id="aisle-cards", label="Products")
            with gr.Row():
                box = gr.Textbox(label="Message", placeholder="Type and press Enter", elem_id="aisle-input",
                                 scale=5, autofocus=True, max_lines=4)
                send = gr.Button("Send", variant="primary", elem_id="aisle-send", scale=1)
            with gr.Accordion("Privacy: what we store about me", open=False, elem_id="aisle-privacy"):
                p_info = gr.Markdown()
                with gr.Row():
                    p_show = gr.Button("What do you store?")
                    p_dl = gr.Button("Download my data (JSON)")
                    p_opt = gr.Checkbox(label="Opt out of personalization")
                p_file = gr.File(label="Your data", interactive=False)
                with gr.Row():
                    p_confirm = gr.Checkbox(label="Yes, delete everything about me")
                    p_del = gr.Button("Delete my data", variant="stop")
        console.build_tabs(backend)

        turn_in = [box, chat, sid, cid, last_id]
        turn_out = [chat, cards, box, sid, last_id, status]

        def turn(message: str, history: list[Any], s: str | None, c: str | None, last: int,
                 request: gr.Request) -> Iterator[tuple[Any, ...]]:
            host = request.client.host if request is not None and request.client else None
            yield from chat_turn(backend, message, history, s, c, last, backend.limits, host)

        box.submit(turn, inputs=turn_in, outputs=turn_out, show_progress="hidden")
        send.click(turn, inputs=turn_in, outputs=turn_out, show_progress="hidden")
        who.change(lambda ch: sign_in(backend, ch), inputs=[who],
                   outputs=[cid, sid, chat, cards, last_id, status, p_opt])
        timer = gr.Timer(2.0)
        timer.tick(lambda h, s, last: poll_agent(backend, h, s, last), inputs=[chat, sid, last_id],
                   outputs=[chat, last_id], show_progress="hidden")
        p_show.click(lambda c: privacy_summary(backend, c), inputs=[cid], outputs=[p_info])
        p_dl.click(lambda c: privacy_export(backend, c), inputs=[cid], outputs=[p_file])
        # After a deletion the shopper continues anonymously (the who.change handler starts afresh).
        p_del.click(lambda c, ok: _after_delete(privacy_delete(backend, c, ok)), inputs=[cid, p_confirm],
                    outputs=[p_info, who])
        p_opt.input(lambda c, v: privacy_opt(backend, c, v), inputs=[cid, p_opt], outputs=[p_info])
        demo.load(new_session, outputs=[sid])
    return demo


def mount(app: FastAPI, backend: Backend) -> FastAPI:
    return gr.mount_gradio_app(app, build(backend), path="/", css=CSS, head=HEAD_JS,
                               favicon_path=str(HERE / "static" / "favicon.ico"), footer_links=["api"])
