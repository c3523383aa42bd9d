"""The support tools: orders (status, cancellation, return), store policies, hand-off and privacy.

Each takes a ``ToolContext`` and returns a dataclass from ``tool_results``; none claims an action
that did not happen (a cancellation or a return is a ticket for an agent, and says so)."""

from __future__ import annotations

import re
from datetime import datetime

from assistant.tool_results import HandoffResult, OrderRequest, OrderStatus, PolicyAnswer, PrivacyResult
from assistant.toolcontext import ToolContext

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def order_status(ctx: ToolContext, order_id: str | None, email: str | None) -> OrderStatus:
    """Status and tracking of an order. Needs the order id and the email on file; a wrong email
    and an unknown order get the same answer, so nothing leaks about other customers' orders."""
    if not order_id:
        return OrderStatus(None, False, needs="order_id")
    if not email or not _EMAIL.match(email):
        return OrderStatus(order_id, False, needs="email")
    order = ctx.store.get_order(order_id.upper()) if ctx.store is not None else None
    if order is None or order["email"].strip().lower() != email.strip().lower():
        return OrderStatus(order_id, False)
    tracking = order.get("tracking") or []
    return OrderStatus(
        order["id"],
        True,
        status=order["status"],
        created_at=str(order.get("created_at", ""))[:10],
        carrier=order.get("carrier", ""),
        tracking_number=order.get("tracking_number", ""),
        last_update=tracking[-1] if tracking else None,
        items=list(order.get("items") or []),
        total=order.get("total"),
        currency=order.get("currency", "USD"),
    )


def _open_ticket(ctx: ToolContext, kind: str, summary: str, order_id: str | None = None) -> int | None:
    if ctx.store is None:
        return None
    if ctx.session_id:
        ctx.store.ensure_session(ctx.session_id, ctx.customer_id)
    return int(
        ctx.store.open_ticket(
            kind, summary, session_id=ctx.session_id, customer_id=ctx.customer_id, order_id=order_id
        )
    )


def cancel_order(ctx: ToolContext, order_id: str | None, email: str | None) -> OrderRequest:
    """Request a cancellation: allowed only while the order is still processing (shop policy).
    Opens a cancellation ticket for an agent; it does not cancel by itself."""
    st = order_status(ctx, order_id, email)
    topic = "cancellations" if ctx.shop._topic_ids("cancellations") else "returns"
    pol = ctx.shop.policy_snippets("cancel an order before it ships", 1, ctx.retriever, topic=topic)
    if not st.found:
        return OrderRequest("cancel", st, False, "", None, pol)
    if st.status != "processing":
        return OrderRequest("cancel", st, False, f"it is already {st.status}", None, pol)
    tid = _open_ticket(ctx, "cancel", f"Cancel {st.order_id} (status {st.status})", st.order_id)
    return OrderRequest("cancel", st, tid is not None, "it has not shipped yet", tid, pol)


def return_or_refund(ctx: ToolContext, order_id: str | None, email: str | None) -> OrderRequest:
    """Request a return/refund: allowed for delivered orders inside the return window in the
    returns policy. Opens a return ticket for an agent; no refund is issued by the bot."""
    st = order_status(ctx, order_id, email)
    pol = ctx.shop.policy_snippets("return window days refund", 2, ctx.retriever, topic="returns")
    if not st.found:
        return OrderRequest("return", st, False, "", None, pol)
    window = ctx.shop.return_window_days()
    if st.status != "delivered":
        why = (
            "it has not been delivered yet"
            if st.status in ("processing", "shipped")
            else f"it is {st.status}"
        )
        return OrderRequest("return", st, False, why, None, pol)
    delivered = (st.last_update or {}).get("ts") or st.created_at
    age = (ctx.clock() - datetime.fromisoformat(delivered[:19])).days if delivered else 0
    if age > window:
        return OrderRequest(
            "return", st, False, f"it was delivered {age} days ago, past the {window}-day window", None, pol
        )
    tid = _open_ticket(ctx, "return", f"Return {st.order_id} (delivered {age} days ago)", st.order_id)
    return OrderRequest(
        "return", st, tid is not None, f"it is within the {window}-day return window", tid, pol
    )


def policy_qa(ctx: ToolContext, question: str, topic: str | None = None, k: int = 1) -> PolicyAnswer:
    """Find the store-policy passages (shipping, returns, warranty, payment, ...) that answer a question;
    ``topic`` (a policy topic or id, e.g. "shipping") puts that policy first when it is known."""
    return PolicyAnswer(ctx.shop.policy_snippets(question, k, ctx.retriever, topic=topic))


def handoff(ctx: ToolContext, summary: str) -> HandoffResult:
    """Hand the conversation to a human agent: opens a ticket in the agent queue with a summary."""
    return HandoffResult(_open_ticket(ctx, "handoff", summary[:2000]), summary)


def privacy(ctx: ToolContext, request: str = "info", question: str = "") -> PrivacyResult:
    """Privacy rights: 'info' (what we store), 'export', 'delete', 'opt_out' or 'opt_in' (personalization);
    ``question``, the shopper's words, picks the part of the privacy policy quoted."""
    asked = f"{question} privacy" if question.strip() else "what personal data we store privacy"
    pol = ctx.shop.policy_snippets(asked, 1, ctx.retriever, topic="privacy")
    if request == "info":
        return PrivacyResult("info", True, policy=pol)
    if ctx.customer_id is None or ctx.store is None:
        return PrivacyResult(request, False, needs_login=True, policy=pol)
    if request == "export":
        return PrivacyResult("export", True, export=ctx.store.export_customer(ctx.customer_id), policy=pol)
    if request in ("opt_out", "opt_in"):
        ctx.store.set_personalization(ctx.customer_id, request == "opt_in")
        return PrivacyResult(request, True, policy=pol)
    if request == "delete":
        # Deletion is irreversible and needs identity checks: an agent does it from a ticket.
        tid = _open_ticket(ctx, "privacy", f"Delete all data of customer {ctx.customer_id}")
        return PrivacyResult("delete", tid is not None, policy=pol)
    return PrivacyResult(request, False, policy=pol)
