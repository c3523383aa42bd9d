"""Drive an engine through conversations and record what it emitted, with timings.

The engine is anything with ``stream(session_id, text, customer_id=None)`` yielding the events of
``assistant/events.py``; the harness reads events by their ``type`` field only, so a test fake
needs no engine imports.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Protocol


class Engine(Protocol):
    def stream(self, session_id: str, text: str, customer_id: str | None = None) -> Any: ...


@dataclass
class TurnRecord:
    user: str
    intents: list[str] = field(default_factory=list)
    confidence: float = 0.0
    entities: dict[str, Any] = field(default_factory=dict)
    sentiment: str = ""
    action: str = ""
    cards: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    backend: str = ""
    grounded: bool = True
    ms_products: float | None = None
    ms_first_token: float | None = None
    ms_done: float | None = None
    error: str | None = None

    @property
    def card_ids(self) -> list[str]:
        return [str(c.get("product_id")) for c in self.cards]

    @property
    def handoff(self) -> bool:
        return "handoff" in self.tools or self.action == "handoff"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _plain(obj: Any) -> Any:
    return asdict(obj) if is_dataclass(obj) and not isinstance(obj, type) else obj


def run_turn(
    engine: Engine,
    session_id: str,
    text: str,
    customer_id: str | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> TurnRecord:
    """One shopper message through the engine; an engine exception is recorded, not raised,
    so one broken turn shows up as a failure in the report instead of stopping the run."""
    rec = TurnRecord(user=text)
    t0 = clock()
    try:
        for ev in engine.stream(session_id, text, customer_id=customer_id):
            kind = getattr(ev, "type", None)
            ms = (clock() - t0) * 1000.0
            if kind == "understood":
                rec.intents = list(ev.intents)
                rec.confidence = float(ev.confidence)
                rec.entities = dict(_plain(ev.entities) or {})
                rec.sentiment, rec.action = ev.sentiment, ev.action
            elif kind == "products":
                rec.cards = [_plain(c) for c in ev.cards]
                if rec.ms_products is None:
                    rec.ms_products = ms
            elif kind == "text":
                if rec.ms_first_token is None and ev.text:
                    rec.ms_first_token = ms
            elif kind == "done":
                rec.text = ev.text
                rec.citations = [_plain(c) for c in ev.citations]
                rec.tools = list(ev.actions)
                rec.backend, rec.grounded = ev.backend, bool(ev.grounded)
                rec.ms_done = ms
                if rec.ms_first_token is None and ev.text:
                    rec.ms_first_token = ms  # a reply that arrives whole: first token = full reply
    except Exception as exc:  # noqa: BLE001 - any engine failure is a scored failure
        rec.error = f"{type(exc).__name__}: {exc}"
    if rec.ms_done is None and rec.error is None:
        rec.error = "the stream ended without a Done event"
    return rec


def new_session_id(prefix: str) -> str:
    # Fresh ids per conversation: no state leaks between conversations of one run.
    return f"eval-{prefix}-{uuid.uuid4().hex[:10]}"
