"""The right to be forgotten, everywhere Aisle keeps something about a customer.

``Store.delete_customer`` removes the rows that point at the customer (profile, consent, sessions,
messages, events, orders, tickets). What it cannot see is the customer's email or id *inside*
other rows: an anonymous session where they typed their email to look up an order (the dialogue
state keeps it for the next turn), a ticket summary, an event payload. ``forget_customer`` scrubs
those too, and makes the recommender forget the customer's fitted history.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import select

log = logging.getLogger(__name__)
__all__ = ["forget_customer", "scrub"]


def scrub(value: Any, needles: list[re.Pattern[str]]) -> tuple[Any, bool]:
    """``value`` (JSON-like) with every needle replaced by ``[deleted]``; and whether anything changed."""
    if isinstance(value, str):
        out = value
        for rx in needles:
            out = rx.sub("[deleted]", out)
        return out, out != value
    if isinstance(value, dict):
        changed, res = False, {}
        for k, v in value.items():
            res[k], c = scrub(v, needles)
            changed |= c
        return res, changed
    if isinstance(value, list):
        pairs = [scrub(v, needles) for v in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


def _needles(customer_id: str, email: str | None) -> list[re.Pattern[str]]:
    out = [re.compile(rf"(?<![A-Za-z0-9]){re.escape(customer_id)}(?![A-Za-z0-9])")]
    if email:
        out.append(re.compile(re.escape(email), re.I))
    return out


def _compact(store: Any) -> None:
    """SQLite keeps deleted rows in free pages and the WAL until they are overwritten: rewrite the
    file and truncate the WAL so the bytes are gone too, not just unreachable."""
    if not str(store.url).startswith("sqlite"):
        return
    try:
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except Exception as exc:  # a busy database must not undo the deletion itself
        log.warning("could not compact the database after a deletion (%s); run VACUUM later", exc)


def forget_customer(store: Any, customer_id: str, *, recommender: Any | None = None) -> bool:
    """Delete the customer and scrub their id and email from every remaining row. False if unknown."""
    from assistant.store import ChatSession, EventRow, Message, Ticket

    cust = store.get_customer(customer_id)
    if cust is None:
        return False
    needles = _needles(customer_id, cust.get("email"))
    store.delete_customer(customer_id)
    touched = 0
    with store.tx() as s:
        for model, cols in ((ChatSession, ("state",)), (Message, ("text", "meta")), (EventRow, ("payload",)),
                            (Ticket, ("summary",))):
            for row in s.scalars(select(model)):
                for col in cols:
                    new, changed = scrub(getattr(row, col), needles)
                    if changed:
                        setattr(row, col, new)
                        touched += 1
    _compact(store)
    if recommender is not None:
        forget = getattr(recommender, "forget", None)
        if callable(forget):
            forget(customer_id)
        else:
            log.warning("the recommender cannot forget a customer: refit it (`aisle train recsys`)")
    log.info("forgot a customer; scrubbed %d other fields", touched)
    return True
