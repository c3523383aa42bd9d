"""The Store's privacy surface: a customer's data out (export) and gone (erasure), and token revocation.

A mixin, so callers keep one ``Store`` while the part a privacy review reads sits in one short file.
This is the row-level half of erasure; assistant.privacy scrubs what *other* rows say about a customer.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.schema import (
    Base,
    ChatSession,
    Consent,
    Customer,
    EventRow,
    Message,
    Order,
    Revocation,
    Ticket,
)


def row_dict(row: Base) -> dict[str, Any]:
    """A row as JSON-ready data (datetimes as ISO text): what every Store read hands back."""
    out: dict[str, Any] = {}
    for col in row.__table__.columns:
        val = getattr(row, col.key)
        out[col.key] = val.isoformat() if isinstance(val, datetime) else val
    return out


class _Transactions(Protocol):
    """What the mixin needs from its host: one short transaction per call (Store.tx)."""

    def tx(self) -> AbstractContextManager[Session]: ...


class CustomerRights:
    """Export, erasure and revocation; mixed into ``Store``, which supplies ``tx``."""

    def export_customer(self: _Transactions, customer_id: str) -> dict[str, Any]:
        """Everything stored about one customer, as JSON-ready data."""
        with self.tx() as s:
            cust = s.get(Customer, customer_id)
            consent = s.get(Consent, customer_id)
            sessions = list(s.scalars(select(ChatSession).where(ChatSession.customer_id == customer_id)))
            sids = [x.id for x in sessions]
            msgs = (
                list(s.scalars(select(Message).where(Message.session_id.in_(sids)).order_by(Message.id)))
                if sids
                else []
            )
            evs = list(
                s.scalars(select(EventRow).where(EventRow.customer_id == customer_id).order_by(EventRow.id))
            )
            orders = list(s.scalars(select(Order).where(Order.customer_id == customer_id)))
            tickets = list(s.scalars(select(Ticket).where(Ticket.customer_id == customer_id)))
            return {
                "customer": row_dict(cust) if cust else None,
                "consent": row_dict(consent) if consent else {"personalization": True},
                "sessions": [row_dict(x) for x in sessions],
                "messages": [row_dict(x) for x in msgs],
                "events": [row_dict(x) for x in evs],
                "orders": [row_dict(x) for x in orders],
                "tickets": [row_dict(x) for x in tickets],
            }

    def delete_customer(self: _Transactions, customer_id: str) -> bool:
        """Delete the customer and everything that refers to them. Returns False if unknown."""
        with self.tx() as s:
            cust = s.get(Customer, customer_id)
            if cust is None:
                return False
            sids = list(s.scalars(select(ChatSession.id).where(ChatSession.customer_id == customer_id)))
            for model, col in (
                (Message, Message.session_id),
                (EventRow, EventRow.session_id),
                (Ticket, Ticket.session_id),
            ):
                if sids:
                    for row in s.scalars(select(model).where(col.in_(sids))):
                        s.delete(row)
            for owner, ccol in (
                (EventRow, EventRow.customer_id),
                (Ticket, Ticket.customer_id),
                (Order, Order.customer_id),
                (ChatSession, ChatSession.customer_id),
                (Consent, Consent.customer_id),
            ):
                for row in s.scalars(select(owner).where(ccol == customer_id)):
                    s.delete(row)
            s.delete(cust)
            return True

    # --- token revocation ----------------------------------------------------------------
    def revoke(self: _Transactions, subject: str, at: float) -> None:
        with self.tx() as s:
            row = s.get(Revocation, subject)
            if row is None:
                s.add(Revocation(subject=subject, revoked_at=at))
            else:
                row.revoked_at = max(row.revoked_at, at)

    def revoked_at(self: _Transactions, subject: str) -> float | None:
        with self.tx() as s:
            row = s.get(Revocation, subject)
            return None if row is None else float(row.revoked_at)
