"""Persistence: a small Store facade over the SQLAlchemy models in assistant.schema.

SQLite (WAL, foreign keys on) by default; PostgreSQL by URL with the same code. The schema is
created on first use. Every write commits in its own short transaction so a crash loses at
most the message in flight. Export, erasure and token revocation live in assistant.store_rights
(mixed into ``Store``, so callers see one surface).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, exists, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

# The models live in assistant.schema; re-exported because callers name them through the store.
from assistant.schema import (  # noqa: F401
    _EVENTS,
    _MESSAGES,
    _SESSIONS,
    Base,
    ChatSession,
    Consent,
    Customer,
    EventRow,
    Message,
    Order,
    Revocation,
    Ticket,
    utcnow,
)
from assistant.store_limits import RateWindows
from assistant.store_rights import CustomerRights, row_dict

if TYPE_CHECKING:
    from assistant.settings import Settings


def _parse_ts(value: str | None) -> datetime:
    if not value:
        return utcnow()
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt


def _history_event(e: dict[str, Any], source: str) -> dict[str, Any]:
    """An events row from a history record (demo shop or ``aisle ingest``), tagged with its source."""
    return {
        "kind": e["event"],
        "customer_id": e["customer_id"],
        "product_id": e["product_id"],
        "value": e.get("rating"),
        "payload": {"source": source},
        "ts": _parse_ts(e.get("ts")),
    }


def _order_row(o: dict[str, Any]) -> Order:
    """An Order from a shop's order record (one shape for upserts and the demo load)."""
    return Order(
        id=o["id"],
        customer_id=o["customer_id"],
        email=o["email"],
        status=o["status"],
        created_at=_parse_ts(o.get("created_at")),
        total=float(o.get("total") or 0.0),
        currency=o.get("currency", "USD"),
        carrier=o.get("carrier", ""),
        tracking_number=o.get("tracking_number", ""),
        items=o.get("items", []),
        tracking=o.get("tracking", []),
    )


def make_engine(url: str) -> Engine:
    is_sqlite = url.startswith("sqlite")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30} if is_sqlite else {},
        pool_pre_ping=not is_sqlite,
    )
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL + synchronous=NORMAL survives a process kill with every committed transaction intact.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


class Store(CustomerRights, RateWindows):
    """The only way the rest of Aisle reads and writes the database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        Base.metadata.create_all(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        if settings.database_url is None:
            settings.ensure_data_dir()
        return cls(settings.db_url)

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with self._sessions() as s, s.begin():
            yield s

    def close(self) -> None:
        self.engine.dispose()

    # --- customers & consent -------------------------------------------------------------
    def upsert_customer(
        self,
        id: str,
        name: str = "",
        email: str | None = None,
        segment: str = "",
        created_at: str | None = None,
    ) -> None:
        with self.tx() as s:
            row = s.get(Customer, id)
            if row is None:
                s.add(
                    Customer(id=id, name=name, email=email, segment=segment, created_at=_parse_ts(created_at))
                )
            else:
                row.name, row.email, row.segment = (
                    name or row.name,
                    email or row.email,
                    segment or row.segment,
                )

    def get_customer(self, id: str) -> dict[str, Any] | None:
        with self.tx() as s:
            row = s.get(Customer, id)
            return row_dict(row) if row else None

    def list_customers(self, limit: int = 1000) -> list[dict[str, Any]]:
        with self.tx() as s:
            return [row_dict(r) for r in s.scalars(select(Customer).order_by(Customer.id).limit(limit))]

    def set_preferences(self, customer_id: str, prefs: dict[str, Any]) -> None:
        with self.tx() as s:
            row = s.get(Customer, customer_id)
            if row is not None:
                row.preferences = {**(row.preferences or {}), **prefs}

    def personalization_allowed(self, customer_id: str | None) -> bool:
        if customer_id is None:
            return False
        with self.tx() as s:
            row = s.get(Consent, customer_id)
            return True if row is None else bool(row.personalization)

    def set_personalization(self, customer_id: str, allowed: bool) -> None:
        with self.tx() as s:
            row = s.get(Consent, customer_id)
            if row is None:
                s.add(Consent(customer_id=customer_id, personalization=allowed))
            else:
                row.personalization = allowed

    # --- sessions & messages -------------------------------------------------------------
    def ensure_session(self, session_id: str, customer_id: str | None = None) -> None:
        with self.tx() as s:
            row = s.get(ChatSession, session_id)
            if row is None:
                s.add(ChatSession(id=session_id, customer_id=customer_id, state={}))
            elif customer_id and row.customer_id != customer_id:
                row.customer_id = customer_id

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        with self.tx() as s:
            row = s.get(ChatSession, session_id)
            return row_dict(row) if row else None

    def list_sessions(self, limit: int = 100, *, with_messages: bool = False) -> list[dict[str, Any]]:
        """Most recently active first. ``with_messages``: only conversations a shopper wrote in (a flood
        of empty sessions must not push real ones out of the agent queue)."""
        q = select(ChatSession)
        if with_messages:
            q = q.where(exists().where(Message.session_id == ChatSession.id, Message.role == "user"))
        with self.tx() as s:
            rows = s.scalars(q.order_by(ChatSession.updated_at.desc()).limit(limit))
            return [row_dict(r) for r in rows]

    def create_session(self, session_id: str, customer_id: str | None = None) -> None:
        """A new conversation under a server-issued id; an id already taken is an error, never shared."""
        with self.tx() as s:
            s.add(ChatSession(id=session_id, customer_id=customer_id, state={}))

    # The per-turn writes below are single Core statements, not ORM unit-of-work flushes: a third of
    # the cost, and a turn's share of the database lock is what limits a busy server.
    def save_state(self, session_id: str, state: dict[str, Any]) -> None:
        with self.tx() as s:
            s.execute(
                update(_SESSIONS)
                .where(_SESSIONS.c.id == session_id)
                .values(state=json.loads(json.dumps(state)), updated_at=utcnow())
            )

    def load_state(self, session_id: str) -> dict[str, Any]:
        with self.tx() as s:
            row = s.get(ChatSession, session_id)
            return dict(row.state or {}) if row else {}

    def set_paused(self, session_id: str, paused: bool) -> None:
        with self.tx() as s:
            row = s.get(ChatSession, session_id)
            if row is not None:
                row.paused = paused

    def add_message(self, session_id: str, role: str, text: str, meta: dict[str, Any] | None = None) -> int:
        with self.tx() as s:
            mid = s.execute(
                insert(_MESSAGES)
                .values(session_id=session_id, role=role, text=text, meta=meta or {}, created_at=utcnow())
                .returning(_MESSAGES.c.id)
            ).scalar_one()
            s.execute(update(_SESSIONS).where(_SESSIONS.c.id == session_id).values(updated_at=utcnow()))
            return int(mid)

    def messages(self, session_id: str, after_id: int = 0) -> list[dict[str, Any]]:
        with self.tx() as s:
            rows = s.scalars(
                select(Message)
                .where(Message.session_id == session_id, Message.id > after_id)
                .order_by(Message.id)
            )
            return [row_dict(r) for r in rows]

    # --- events --------------------------------------------------------------------------
    def add_event(
        self,
        kind: str,
        *,
        session_id: str | None = None,
        customer_id: str | None = None,
        product_id: str | None = None,
        value: float | None = None,
        variant: str | None = None,
        payload: dict[str, Any] | None = None,
        ts: str | None = None,
    ) -> int:
        with self.tx() as s:
            return int(
                s.execute(
                    insert(_EVENTS)
                    .values(
                        kind=kind,
                        session_id=session_id,
                        customer_id=customer_id,
                        product_id=product_id,
                        value=value,
                        variant=variant,
                        payload=payload or {},
                        ts=_parse_ts(ts),
                    )
                    .returning(_EVENTS.c.id)
                ).scalar_one()
            )

    def events(
        self,
        *,
        customer_id: str | None = None,
        session_id: str | None = None,
        kinds: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        q = select(EventRow)
        if customer_id is not None:
            q = q.where(EventRow.customer_id == customer_id)
        if session_id is not None:
            q = q.where(EventRow.session_id == session_id)
        if kinds is not None:
            q = q.where(EventRow.kind.in_(list(kinds)))
        q = q.order_by(EventRow.ts, EventRow.id)
        if limit:
            q = q.limit(limit)
        with self.tx() as s:
            return [row_dict(r) for r in s.scalars(q)]

    def import_events(self, events: list[dict[str, Any]], source: str = "import") -> dict[str, int]:
        """A shop's history file (``aisle ingest --interactions``): replaces the events an earlier
        import of the same ``source`` added (live events are kept); unknown customers are added."""
        with self.tx() as s:
            old = select(EventRow.id).where(
                EventRow.session_id.is_(None), EventRow.payload["source"].as_string() == source
            )
            dropped = getattr(s.execute(_EVENTS.delete().where(_EVENTS.c.id.in_(old))), "rowcount", 0) or 0
            known = set(s.scalars(select(Customer.id)))
            new = sorted({e["customer_id"] for e in events} - known)
            s.add_all(Customer(id=c) for c in new)
            s.flush()
            s.execute(insert(_EVENTS), [_history_event(e, source) for e in events])
        return {"events": len(events), "customers": len(new), "replaced": int(dropped)}

    # --- orders & tickets ----------------------------------------------------------------
    def upsert_order(self, order: dict[str, Any]) -> None:
        with self.tx() as s:
            s.merge(_order_row(order))

    def get_order(self, order_id: str) -> dict[str, Any] | None:
        """Raw lookup. Callers that answer customers must check ownership (see tools.order_status)."""
        with self.tx() as s:
            row = s.get(Order, order_id)
            return row_dict(row) if row else None

    def orders_for_customer(self, customer_id: str) -> list[dict[str, Any]]:
        with self.tx() as s:
            rows = s.scalars(select(Order).where(Order.customer_id == customer_id).order_by(Order.created_at))
            return [row_dict(r) for r in rows]

    def open_ticket(
        self,
        kind: str,
        summary: str,
        *,
        session_id: str | None = None,
        customer_id: str | None = None,
        order_id: str | None = None,
    ) -> int:
        with self.tx() as s:
            row = Ticket(
                kind=kind, summary=summary, session_id=session_id, customer_id=customer_id, order_id=order_id
            )
            s.add(row)
            s.flush()
            return int(row.id)

    def tickets(self, status: str | None = "open", kind: str | None = None) -> list[dict[str, Any]]:
        q = select(Ticket)
        if status is not None:
            q = q.where(Ticket.status == status)
        if kind is not None:
            q = q.where(Ticket.kind == kind)
        with self.tx() as s:
            return [row_dict(r) for r in s.scalars(q.order_by(Ticket.id))]

    def set_ticket_status(self, ticket_id: int, status: str) -> None:
        with self.tx() as s:
            row = s.get(Ticket, ticket_id)
            if row is not None:
                row.status = status

    # --- bulk load -----------------------------------------------------------------------
    def load_demo(self, shop: Any) -> dict[str, int]:
        """Load the demo shop's customers, histories and orders (idempotent: skips if present)."""
        with self.tx() as s:
            if s.scalar(select(func.count()).select_from(Customer)):
                return {"customers": 0, "events": 0, "orders": 0}
            s.add_all(
                Customer(
                    id=c["id"],
                    name=c.get("name", ""),
                    email=c.get("email"),
                    segment=c.get("segment", ""),
                    created_at=_parse_ts(c.get("created_at")),
                )
                for c in shop.customers
            )
            s.flush()
            s.add_all(EventRow(**_history_event(e, "demo")) for e in shop.interactions)
            s.add_all(_order_row(o) for o in shop.orders)
        return {
            "customers": len(shop.customers),
            "events": len(shop.interactions),
            "orders": len(shop.orders),
        }
