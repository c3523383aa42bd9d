"""The engine as its callers see it: the ``Engine`` protocol, the one surface ``ui/`` uses.

``assistant.engine.Assistant`` implements it (the chat turn in ``engine.py``, the other services in
``assistant.facade.EngineServices``); the UI's tests implement it with a fake. Nothing here imports
a model, so the web layer can hold an ``Engine`` type without loading one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

# One class for "the generation queue is full": callers check it with isinstance.
from assistant.generate.base import BusyError

if TYPE_CHECKING:
    from assistant.events import Event, ProductCard
    from assistant.snippet import Snip
    from assistant.store import Store
    from assistant.tool_results import ProductHit
    from knowledge.records import Product

__all__ = ["DRAFT_PREFIX", "BusyError", "Draft", "Engine", "is_draft_session"]

# Agent drafts run in scratch conversations named with this prefix; the agent queue hides them.
DRAFT_PREFIX = "agent-draft-"


def is_draft_session(session_id: str) -> bool:
    return session_id.startswith(DRAFT_PREFIX)


@dataclass(frozen=True)
class Draft:
    """A reply an agent may send: the engine's grounded answer to the shopper's last question."""

    text: str
    products: list[ProductCard] = field(default_factory=list)
    policies: list[Snip] = field(default_factory=list)  # store-policy passages for that question


@runtime_checkable
class Engine(Protocol):
    """What the web layer and the evaluation need from the engine, and nothing more."""

    @property
    def store(self) -> Store:
        """The engine's database (conversations, customers, orders, events)."""
        ...

    def stream(
        self, session_id: str, text: str, customer_id: str | None = None, client_id: str | None = None
    ) -> Iterator[Event]:
        """One chat turn: Understood -> Products? -> TextDelta* -> Done. Raises BusyError when full."""
        ...

    def prepare(self, text: str) -> None:
        """Session-independent work ahead of a turn (the message's embedding); never raises."""
        ...

    def warm(self) -> None:
        """Load the models now rather than during the first shopper's turn."""
        ...

    def search(self, query: str, k: int = 10) -> list[ProductHit]:
        """Products matching the text, best first."""
        ...

    def recommend(
        self, customer_id: str | None = None, session_id: str | None = None, query: str = "", k: int = 10
    ) -> list[ProductHit]:
        """Recommendations for the customer (her history unless she opted out) and the session's clicks."""
        ...

    def product(self, product_id: str) -> Product | None:
        """One catalog record, or None."""
        ...

    def customer_signals(self, customer_id: str) -> list[str] | None:
        """Her tastes in plain words for the agent console; None when she opted out of personalization."""
        ...

    def draft_reply(self, session_id: str) -> Draft:
        """A reply for an agent taking over; the shopper's conversation and its state stay untouched."""
        ...

    def erase_customer(self, customer_id: str) -> bool:
        """Every trace of the customer: rows, reviews (pseudonymized), the recommender. False if unknown."""
        ...
