"""Suggested replies for the agent console, composed only from the engine's public surface.

The draft is the engine's own grounded answer to the shopper's last shopping or support question,
produced in a scratch conversation (``agent-draft-...``) so the customer's conversation and its
state are untouched. Turns that have side effects (hand-off, cancel, delete) are never replayed.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from assistant.events import event_to_dict

if TYPE_CHECKING:
    from ui.service import Backend

DRAFT_PREFIX = "agent-draft-"
# Read-only actions: replaying them opens no ticket and changes no order.
REPLAYABLE = {"recommend", "search_products", "compare", "product_qa", "policy_qa", "order_status"}


def is_draft_session(session_id: str) -> bool:
    return str(session_id).startswith(DRAFT_PREFIX)


def _product_card(backend: Backend, pid: str) -> dict[str, Any] | None:
    try:
        p = backend.product(pid)
    except Exception:
        return None
    return {"product_id": p["id"], "title": p["title"], "price": p.get("price"), "currency": p.get("currency", "USD"),
            "rating": p.get("rating"), "reason": "shown to the customer earlier"}


def draft_reply(backend: Backend, session_id: str) -> dict[str, Any]:
    store = backend.store
    msgs = store.messages(session_id)
    sess = store.get_session(session_id) or {}
    cid = sess.get("customer_id")
    users = [m for m in msgs if m["role"] == "user"]
    question = users[-1]["text"] if users else ""
    text, products = "", []
    ask = next((m for m in reversed(users) if (m.get("meta") or {}).get("action") in REPLAYABLE), None)
    if ask is not None:
        scratch = DRAFT_PREFIX + hashlib.sha1(session_id.encode()).hexdigest()[:16]
        # Start the draft from the conversation's state, so "the first one" means what the shopper saw.
        store.ensure_session(scratch, cid)
        store.save_state(scratch, store.load_state(session_id))
        for ev in backend.stream(scratch, ask["text"], cid):
            d = event_to_dict(ev)
            if d["type"] == "products":
                products = d["cards"]
            elif d["type"] == "done":
                text = d["text"]
    if not products:
        shown = next(((m.get("meta") or {}).get("cards") for m in reversed(msgs)
                      if m["role"] == "assistant" and (m.get("meta") or {}).get("cards")), None) or []
        products = [c for c in (_product_card(backend, pid) for pid in shown[:3]) if c]
    name = ((store.get_customer(cid) or {}).get("name") or "").split(" ")[0] if cid else ""
    opener = f"Hi{' ' + name if name else ''}, this is the support team. I have read our conversation"
    text = f"{opener}. {text}" if text else f"{opener} and I'm looking into it now."
    policies: list[dict[str, Any]] = []
    shop = getattr(backend.assistant, "shop", None)
    if shop is not None and question:
        snips = shop.policy_snippets(question, 3, getattr(backend.assistant, "retriever", None))
        policies = [asdict(s) if is_dataclass(s) and not isinstance(s, type) else dict(s) for s in snips]
    return {"text": text, "products": products, "policies": policies}
