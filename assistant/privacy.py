"""The right to be forgotten, everywhere Aisle keeps something about a customer.

``Store.delete_customer`` removes the rows that point at the customer (profile, consent, sessions,
messages, events, orders, tickets). What it cannot see is the customer *inside* other rows: an
anonymous conversation where she typed her email and order id (the dialogue state keeps them, the
answers quote her tracking number and the city it was delivered to), a ticket, an event payload.
``forget_customer`` scrubs those, pseudonymizes her reviews in the catalog snapshot, removes her
exported files, and makes the fitted recommender forget her, in memory and on disk.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from assistant.pii import redact_order_details

log = logging.getLogger(__name__)
__all__ = ["Identifiers", "forget_customer", "scrub"]
DELETED = "[deleted]"


def scrub(value: Any, needles: list[re.Pattern[str]]) -> tuple[Any, bool]:
    """``value`` (JSON-like) with every needle replaced by ``[deleted]``; and whether anything changed."""
    if isinstance(value, str):
        out = value
        for rx in needles:
            out = rx.sub(DELETED, out)
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


def _word(value: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", flags)


@dataclass(frozen=True)
class Identifiers:
    """What identifies one customer: strong identifiers are scrubbed from every row; her name's
    parts and her orders' places only where she disclosed a strong one (a first name alone is
    anyone's)."""

    customer_id: str
    email: str | None
    name: str
    order_ids: tuple[str, ...]
    tracking_numbers: tuple[str, ...]
    places: tuple[str, ...]

    @classmethod
    def of(cls, store: Any, customer_id: str) -> Identifiers | None:
        cust = store.get_customer(customer_id)
        if cust is None:
            return None
        orders = store.orders_for_customer(customer_id)
        places = {str(e.get("location") or "") for o in orders for e in (o.get("tracking") or [])}
        return cls(
            customer_id,
            cust.get("email"),
            str(cust.get("name") or ""),
            tuple(o["id"] for o in orders),
            tuple(o["tracking_number"] for o in orders if o.get("tracking_number")),
            tuple(sorted(p for p in places if "," in p)),
        )

    def strong(self) -> list[re.Pattern[str]]:
        out = [_word(self.customer_id)] + [_word(x) for x in (*self.order_ids, *self.tracking_numbers)]
        if self.email:
            out.append(re.compile(re.escape(self.email), re.I))
        if len(self.name) >= 4:
            out.append(_word(self.name, re.I))
        return out

    def disclosed(self) -> list[re.Pattern[str]]:
        parts = [p for p in self.name.split() if len(p) >= 3]
        return self.strong() + [_word(p) for p in parts] + [_word(p) for p in self.places]

    def plain(self) -> list[str]:
        """Every identifier as text, for tests and for checking a data dir by grep."""
        return [
            x for x in (self.customer_id, self.email, self.name, *self.order_ids, *self.tracking_numbers) if x
        ]


def _mentions(value: Any, needles: list[re.Pattern[str]]) -> bool:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return any(rx.search(text) for rx in needles)


def _disclosed_sessions(store: Any, ids: Identifiers) -> set[str]:
    """Conversations (not hers: those go with her) that mention one of her strong identifiers."""
    from assistant.schema import ChatSession, Message

    strong = ids.strong()
    found: set[str] = set()
    with store.tx() as s:
        for sid, state in s.execute(select(ChatSession.id, ChatSession.state)):
            if _mentions(state or {}, strong):
                found.add(sid)
        for sid, text, meta in s.execute(select(Message.session_id, Message.text, Message.meta)):
            if sid not in found and (_mentions(text or "", strong) or _mentions(meta or {}, strong)):
                found.add(sid)
    return found


def _scrub_rows(store: Any, ids: Identifiers, disclosed: set[str]) -> int:
    from assistant.schema import ChatSession, EventRow, Message, Ticket

    strong, wide = ids.strong(), ids.disclosed()
    touched = 0
    with store.tx() as s:
        for model, cols in (
            (ChatSession, ("state",)),
            (Message, ("text", "meta")),
            (EventRow, ("payload",)),
            (Ticket, ("summary",)),
        ):
            for row in s.scalars(select(model)):
                sid = row.id if model is ChatSession else getattr(row, "session_id", None)
                needles = wide if sid in disclosed else strong
                for col in cols:
                    new, changed = scrub(getattr(row, col), needles)
                    if model is Message and col == "text" and sid in disclosed:
                        # Whatever else she typed or was told there: addresses, tracking numbers, places.
                        new = redact_order_details(new)
                        changed = changed or new != row.text
                    if changed:
                        setattr(row, col, new)
                        touched += 1
        for t in s.scalars(select(Ticket).where(Ticket.order_id.in_(list(ids.order_ids) or [""]))):
            t.order_id = None
            touched += 1
    return touched


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


def _pseudonym() -> str:
    # Random, not derived from her id: nothing can map it back.
    return "former-customer-" + secrets.token_hex(6)


def pseudonymize_reviews(data_dir: Path | None, ids: Identifiers, holders: tuple[Any, ...] = ()) -> int:
    """Her reviews stay (they describe the product), under a pseudonym and with her identifiers
    scrubbed: in the catalog snapshot on disk and in the catalogs the engine holds in memory."""
    alias, needles = _pseudonym(), ids.strong()

    def fix(r: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        mine = r.get("customer_id") == ids.customer_id
        new, changed = scrub({k: v for k, v in r.items() if k != "customer_id"}, needles)
        return {**new, "customer_id": alias if mine else r.get("customer_id")}, mine or changed

    n = 0
    path = Path(data_dir) / "catalog" / "reviews.jsonl" if data_dir is not None else None
    if path is not None and path.is_file():
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        fixed = [fix(r) for r in rows]
        n = sum(c for _, c in fixed)
        if n:
            _atomic_write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r, _ in fixed))
    for holder in holders:
        reviews = getattr(holder, "reviews", None)
        lists = (
            reviews.values() if isinstance(reviews, dict) else [reviews] if isinstance(reviews, list) else []
        )
        for lst in lists:
            for i, r in enumerate(lst):
                if getattr(r, "customer_id", None) == ids.customer_id:
                    lst[i] = replace(r, customer_id=alias)
    return n


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def forget_recommender(recommender: Any | None, customer_id: str, data_dir: Path | None) -> None:
    if recommender is None:
        return
    forget = getattr(recommender, "forget", None)
    if not callable(forget):
        log.warning("the recommender cannot forget a customer: refit it (`aisle train recsys`)")
        return
    forget(customer_id)
    saved = Path(data_dir) / "recommender" if data_dir is not None else None
    if saved is not None and saved.is_dir() and callable(getattr(recommender, "save", None)):
        recommender.save(saved)  # the fitted files on disk named her too


def forget_customer(
    store: Any,
    customer_id: str,
    *,
    recommender: Any | None = None,
    data_dir: Path | None = None,
    catalogs: tuple[Any, ...] = (),
    export_tag: str | None = None,
) -> bool:
    """Delete the customer and every trace of her Aisle keeps. False if unknown. ``data_dir``: the
    folder with the catalog snapshot, the fitted recommender and exports (all rewritten or removed);
    ``catalogs``: in-memory holders of reviews; ``export_tag``: the keyed hash naming her exports."""
    ids = Identifiers.of(store, customer_id)
    if ids is None:
        return False
    disclosed = _disclosed_sessions(store, ids)
    store.delete_customer(customer_id)
    touched = _scrub_rows(store, ids, disclosed)
    _compact(store)
    reviews = pseudonymize_reviews(data_dir, ids, catalogs)
    forget_recommender(recommender, customer_id, data_dir)
    removed = 0
    if data_dir is not None and export_tag is not None:
        from assistant.exports import remove_exports

        removed = remove_exports(data_dir, export_tag, customer_id)
    log.info(
        "forgot a customer: scrubbed %d fields in %d other conversations, %d reviews, %d exports",
        touched,
        len(disclosed),
        reviews,
        removed,
    )
    return True
