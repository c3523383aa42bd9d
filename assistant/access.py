"""Object-level authorization: which conversation, event or customer record a caller may touch.

The REST routes and the Gradio handlers both go through ``Access`` (via ``ui.service.Backend``), so
one rule holds on every path:

- conversations have server-issued 128-bit ids and belong to whoever started them: a customer's
  conversation only to that customer (or staff), an anonymous one to whoever holds its id;
- a transcript is served whole only to its customer or staff; anyone else gets it without
  personal data, tracking numbers and places;
- an event that names a customer needs that customer's token; purchases come only from the shop's
  backend (staff token);
- a customer's data (export, opt-out, deletion) needs that customer's token or staff.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant.errors import AccessDeniedError, DataError, NotFoundError
from assistant.pii import redact_order_details

if TYPE_CHECKING:
    from assistant.identity import Identity
    from assistant.outguard import RenderGuard
    from assistant.store import Store

__all__ = ["SESSION_ID", "Access", "new_session_id"]

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
ORDER_REF = re.compile(r"\b[A-Z]{2,5}-\d{4,10}\b")
STAFF_ONLY_EVENTS = frozenset({"purchase"})


def new_session_id() -> str:
    """128 random bits: a conversation's id is its only key for an anonymous shopper."""
    return secrets.token_hex(16)


class Access:
    def __init__(
        self,
        store: Callable[[], Store],
        guard: RenderGuard,
        assign_variant: Callable[[str | None], str | None],
    ) -> None:
        self._store = store
        self.guard = guard
        self._variant = assign_variant

    # --- conversations -------------------------------------------------------------------------
    def start_session(self, who: Identity) -> str:
        sid = new_session_id()
        self._store().create_session(sid, who.customer_id)
        return sid

    def session(self, who: Identity, session_id: str | None, *, create: bool = False) -> dict[str, Any]:
        """The conversation if ``who`` may use it. ``create``: the id was issued by this server and
        kept server-side (the Gradio app's state), so a first message may open it."""
        if not SESSION_ID.match(session_id or ""):
            raise DataError(
                "session ids are issued by the server (32 hex digits): omit session_id to start a "
                "conversation (the reply carries its id), or POST /api/sessions"
            )
        store = self._store()
        sess = store.get_session(str(session_id))
        if sess is None and create:
            store.create_session(str(session_id), who.customer_id)
            sess = store.get_session(str(session_id))
        if sess is None:
            raise NotFoundError(
                "unknown conversation: omit session_id to start a new one (ids come from the server)"
            )
        owner = sess.get("customer_id")
        if owner != who.customer_id and not who.staff:
            raise AccessDeniedError(
                "this conversation belongs to another shopper (or was started signed in "
                "differently): omit session_id to start a new one"
            )
        return sess

    def transcript(self, who: Identity, session_id: str, after_id: int = 0) -> list[dict[str, Any]]:
        sess = self.session(who, session_id)
        whole = who.staff or (
            sess.get("customer_id") is not None and who.customer_id == sess.get("customer_id")
        )
        msgs = self._store().messages(session_id, after_id=after_id)
        known = () if whole else self._order_details(msgs)
        return [
            {
                "id": m["id"],
                "role": m["role"],
                "created_at": m["created_at"],
                "text": self.guard.clean(m["text"] if whole else redact_order_details(m["text"], known)),
            }
            for m in msgs
        ]

    def _order_details(self, msgs: list[dict[str, Any]]) -> tuple[str, ...]:
        """Tracking numbers and places of the orders a conversation mentions, to redact exactly."""
        refs: set[str] = set()
        for m in msgs:
            refs.update(ORDER_REF.findall(m["text"]))
            refs.update(c for c in (m.get("meta") or {}).get("citations") or [] if isinstance(c, str))
        store, out = self._store(), []
        for ref in refs:
            order = store.get_order(ref) if ORDER_REF.fullmatch(ref) else None
            if order:
                out.append(str(order.get("tracking_number") or ""))
                out += [str(e.get("location") or "") for e in order.get("tracking") or []]
        return tuple(x for x in out if x and x != "Online")

    # --- events ------------------------------------------------------------------------------
    def record_event(
        self,
        who: Identity,
        kind: str,
        *,
        session_id: str | None = None,
        customer_id: str | None = None,
        product_id: str | None = None,
        value: float | None = None,
        variant: str | None = None,
    ) -> int:
        if kind == "rating" and (session_id is None or value is None or value not in (1, 2, 3, 4, 5)):
            raise DataError("a rating is 1 to 5 stars for a conversation: send session_id and value 1..5")
        if kind in STAFF_ONLY_EVENTS and not who.staff:
            raise AccessDeniedError(
                f"{kind} events come from the shop's backend: send them with the admin token"
            )
        if customer_id is not None and not who.may_act_for(customer_id):
            raise AccessDeniedError(
                "an event naming a customer needs that customer's token "
                "(Authorization: Bearer <customer token>)"
            )
        cid = customer_id or who.customer_id
        if session_id is not None:  # always checked: holding a token is no key to others' conversations
            owner = self.session(who, session_id).get("customer_id")
            cid = cid or owner
        elif not who.staff and cid is None:
            raise DataError("an anonymous event needs the session_id of its conversation")
        store = self._store()
        if cid is not None and store.get_customer(cid) is None:
            raise NotFoundError(f"no customer {cid!r}")
        return store.add_event(
            kind,
            session_id=session_id,
            customer_id=cid,
            product_id=product_id,
            value=value,
            # The server's assignment wins over a client's claim: an arm is never chosen by the caller.
            variant=self._variant(cid or session_id) or variant,
            payload={"source": "ui"},
        )

    # --- customers -----------------------------------------------------------------------------
    def require_customer(self, who: Identity, customer_id: str) -> dict[str, Any]:
        """The customer's record, if ``who`` may read or change it (403 before 404: no probing)."""
        if not who.may_act_for(customer_id):
            raise AccessDeniedError(
                "this customer's data needs their token (Authorization: Bearer <customer "
                "token>) or the staff token"
            )
        cust = self._store().get_customer(customer_id)
        if cust is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        return cust

    def customer_list(self, limit: int = 50) -> list[dict[str, Any]]:
        """Ids and names (never emails) for the demo sign-in picker and staff; callers check who asks."""
        return [
            {"id": c["id"], "name": self.guard.clean(c.get("name") or "")}
            for c in self._store().list_customers(limit=limit)
        ]
