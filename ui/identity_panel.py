"""The Shopper tab's identity controls: the sign-in row, the privacy accordion, and their wiring.

Split from ui.app so the chat and the identity wiring each read on one screen; the handlers' logic
is in ui.privacy_panel. Any change of identity (sign-in, sign-out, erasure) starts a new
conversation: the one on screen belonged to the previous identity.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.access import new_session_id
from ui import privacy_panel as pp
from ui.privacy_panel import Visit, resolve
from ui.render import cards_html

if TYPE_CHECKING:
    from ui.service import Backend

PRIVATE = "private"  # api_visibility of every handler: the REST API is the public one
_PRIVATE: dict[str, Any] = {"api_visibility": PRIVATE}


def sign_in_fields() -> tuple[Any, Any]:
    """(demo customer picker, shop token box), both hidden until on_load knows which one applies."""
    who = gr.Dropdown(
        [("Anonymous", "")],
        value="",
        label="Sign in as a demo customer",
        scale=3,
        elem_id="aisle-who",
        visible=False,
    )
    shop_token = gr.Textbox(
        label="Customer token (from the shop)",
        type="password",
        scale=3,
        elem_id="aisle-token",
        visible=False,
    )
    return who, shop_token


def privacy_accordion() -> dict[str, Any]:
    with gr.Accordion("Privacy: what we store about me", open=False, elem_id="aisle-privacy"):
        p: dict[str, Any] = {"info": gr.Markdown(elem_id="aisle-privacy-info")}
        with gr.Row():
            p["show"] = gr.Button("What do you store?", elem_id="aisle-privacy-show")
            p["dl"] = gr.Button("Download my data (JSON)", elem_id="aisle-privacy-download")
            p["opt"] = gr.Checkbox(label="Opt out of personalization", elem_id="aisle-privacy-opt")
        p["file"] = gr.HTML(elem_id="aisle-privacy-file")
        with gr.Row():
            p["confirm"] = gr.Checkbox(
                label="Yes, delete everything about me", elem_id="aisle-privacy-confirm"
            )
            p["delete"] = gr.Button("Delete my data", variant="stop", elem_id="aisle-privacy-delete")
    return p


def start_over(backend: Backend, token: str | None, status: str, visit: Visit) -> tuple[Any, ...]:
    """After a sign-in change: (token, session id, chat, cards, last id, status, opted out)."""
    who, token, note = resolve(backend, token, visit)
    return token, new_session_id(), [], cards_html([]), 0, note or status, pp.opted_out(backend, who)


def first_visit(backend: Backend, request: Any) -> tuple[Any, ...]:
    """Page load: (session id, client key, demo picker update, token box update)."""
    key = secrets.token_hex(16)  # this tab's client key: server-side only
    people = pp.demo_people(backend, Visit.of(request, key))
    return (
        new_session_id(),
        key,
        gr.update(choices=people or [], value="" if people else None, visible=people is not None),
        gr.update(visible=people is None),
    )


def erase_data(
    backend: Backend, token: str | None, confirm: bool, visit: Visit, width: int
) -> tuple[Any, ...]:
    """Delete my data: (info, picker, *restart); ``width`` skips the restart outputs on refusal."""
    msg = pp.privacy_delete(backend, resolve(backend, token, visit)[0], confirm)
    if not msg.startswith("Deleted"):
        return (msg, gr.skip(), *([gr.skip()] * width))
    return (
        msg,
        gr.update(value=""),
        *start_over(backend, None, "New conversation (anonymous shopper).", visit),
    )


def wire_identity(
    backend: Backend,
    demo: gr.Blocks,
    who: Any,
    shop_token: Any,
    sid: Any,
    token: Any,
    ckey: Any,
    last_id: Any,
    chat: Any,
    cards: Any,
    status: Any,
    p: dict[str, Any],
) -> None:
    """Page load, sign-in and the privacy accordion; ``restart`` is what start_over fills. The
    handlers keep their names: Gradio names each (private) endpoint after its function."""
    restart = [token, sid, chat, cards, last_id, status, p["opt"]]
    _wire_sign_in(backend, demo, who, shop_token, sid, ckey, restart)
    _wire_privacy(backend, who, token, ckey, p, restart)


def _wire_sign_in(
    backend: Backend, demo: gr.Blocks, who: Any, shop_token: Any, sid: Any, ckey: Any, restart: list[Any]
) -> None:
    def on_load(request: gr.Request) -> tuple[Any, ...]:
        return first_visit(backend, request)

    def pick(choice: str | None, k: str, request: gr.Request) -> tuple[Any, ...]:
        visit = Visit.of(request, k)
        tok, msg = pp.demo_sign_in(backend, choice, visit)
        return start_over(backend, tok, msg, visit)

    def paste(raw: str | None, k: str, request: gr.Request) -> tuple[Any, ...]:
        visit = Visit.of(request, k)
        tok, msg = pp.token_sign_in(backend, raw, visit)
        return start_over(backend, tok, msg, visit)

    demo.load(on_load, outputs=[sid, ckey, who, shop_token], **_PRIVATE)
    who.change(pick, inputs=[who, ckey], outputs=restart, **_PRIVATE)
    shop_token.submit(paste, inputs=[shop_token, ckey], outputs=restart, **_PRIVATE)


def _wire_privacy(
    backend: Backend, who: Any, token: Any, ckey: Any, p: dict[str, Any], restart: list[Any]
) -> None:
    def me(t: str | None, k: str, request: gr.Request) -> Any:
        return resolve(backend, t, Visit.of(request, k))[0]

    def erase(t: str | None, ok: bool, k: str, request: gr.Request) -> tuple[Any, ...]:
        return erase_data(backend, t, ok, Visit.of(request, k), len(restart))

    def summary(t: str | None, k: str, request: gr.Request) -> str:
        return pp.privacy_summary(backend, me(t, k, request))

    def download(t: str | None, k: str, request: gr.Request) -> str:
        return pp.privacy_export(backend, me(t, k, request))

    def opt(t: str | None, v: bool, k: str, request: gr.Request) -> str:
        return pp.privacy_opt(backend, me(t, k, request), v)

    p["show"].click(summary, inputs=[token, ckey], outputs=[p["info"]], **_PRIVATE)
    p["dl"].click(download, inputs=[token, ckey], outputs=[p["file"]], **_PRIVATE)
    p["delete"].click(
        erase, inputs=[token, p["confirm"], ckey], outputs=[p["info"], who, *restart], **_PRIVATE
    )
    p["opt"].input(opt, inputs=[token, p["opt"], ckey], outputs=[p["info"]], **_PRIVATE)
