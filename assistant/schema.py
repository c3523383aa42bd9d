"""The database schema: SQLAlchemy 2 declarative models (assistant.store is the only reader/writer)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), index=True, nullable=True)
    segment: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Consent(Base):
    __tablename__ = "consent"
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    personalization: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ChatSession(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)  # an agent took over


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant | agent | system
    text: Mapped[str] = mapped_column(Text)  # PII-redacted by the caller before storing
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # intents, sentiment, actions, citations


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True, nullable=True
    )
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True, nullable=True
    )
    kind: Mapped[str] = mapped_column(
        String(32), index=True
    )  # view|cart|purchase|rate|impression|click|feedback
    product_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)  # rating, thumbs (+1/-1)
    variant: Mapped[str | None] = mapped_column(String(32), nullable=True)  # A/B recommender variant
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ts: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    # Kept (not redacted): it is the second factor for order lookup.
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    total: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(8), default="USD")
    carrier: Mapped[str] = mapped_column(String(64), default="")
    tracking_number: Mapped[str] = mapped_column(String(64), default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tracking: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True, nullable=True
    )
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True, nullable=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # handoff | cancel | return | refund | privacy
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | in_progress | closed
    summary: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Revocation(Base):
    """Customer tokens issued up to ``revoked_at`` (epoch seconds) are refused. The subject is a keyed
    hash of the customer id (assistant.identity), so a deleted customer's id is not kept here."""

    __tablename__ = "revocations"
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    revoked_at: Mapped[float] = mapped_column(Float)


class RateHit(Base):
    """One admitted request in a rate-limit window shared by every Aisle process on this database
    (assistant.store_limits). The key is a hash: no client address or session id is kept here, and a
    row lives only as long as its window."""

    __tablename__ = "rate_hits"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    ts: Mapped[float] = mapped_column(Float)
    __table_args__ = (Index("ix_rate_hits_scope_key_ts", "scope", "key", "ts"),)


# Core tables for the per-turn writes (see Store.save_state).
_SESSIONS = cast(Table, ChatSession.__table__)
_MESSAGES = cast(Table, Message.__table__)
_EVENTS = cast(Table, EventRow.__table__)
