"""The dialogue state: one typed record of what a conversation has established.

What the shopper wants (one ``Constraints``: the topic), what was shown and which product is in
focus, the order being discussed and who gave its email, what we asked and are waiting for, and how
the conversation is going (sentiment, complaints, a hand-off). JSON-serialisable (``to_dict`` /
``from_dict``) so that any server process can continue a conversation from the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.nlu.commands import Ref
from knowledge.constraints import Constraints

WINDOW = 6  # turns the frustration signal looks back over
ORDER_MEMORY_S = 15 * 60.0  # order facts given in a session are reused this long, by the same client only


@dataclass
class ShownItem:
    id: str
    brand: str | None = None
    price: float | None = None
    category: str | None = None


@dataclass
class OrderContext:
    """The order under discussion and the email that unlocks it (with when and by whom it was given)."""

    order_id: str | None = None
    email: str | None = None
    at: float | None = None
    client_id: str | None = None

    def usable(self, now: float, client_id: str | None) -> OrderContext:
        """The remembered details that may be used now: none after the timeout or from another client."""
        if self.at is None or now - self.at > ORDER_MEMORY_S or self.client_id != client_id:
            return OrderContext()
        return self


@dataclass
class DialogueState:
    topic: Constraints = field(default_factory=Constraints)
    shown: list[ShownItem] = field(default_factory=list)  # the last list, in order
    focus: str | None = None  # the product being discussed
    order: OrderContext = field(default_factory=OrderContext)
    pending: str | None = None  # the command type waiting for details ("OrderStatus"), or "kind"/"clarify"
    last_action: str | None = None
    last_topic: str | None = None  # the policy the last support answer rests on: follow-ups continue it
    asked_kind: bool = False  # asked once which kind of product; not again unprompted
    sentiment: list[float] = field(default_factory=list)
    complaints: list[bool] = field(default_factory=list)
    handed_off: bool = False
    turns: int = 0

    # --- references -------------------------------------------------------------------------------
    @property
    def shown_ids(self) -> list[str]:
        return [s.id for s in self.shown]

    def resolve(self, ref: Ref | None) -> str | None:
        """A product id for a reference, against the last list and the focus; None when it points nowhere."""
        ids = self.shown_ids
        if ref is None or ref.focus:
            return self.focus or (ids[0] if len(ids) == 1 else None)
        if ref.product:
            return ref.product
        if ref.index is not None:
            return ids[ref.index] if -len(ids) <= ref.index < len(ids) else None
        if ref.brand:
            return next((s.id for s in self.shown if (s.brand or "").lower() == ref.brand.lower()), None)
        if ref.other and len(ids) == 2:
            return ids[1] if self.focus == ids[0] else ids[0]
        if ref.extreme and ref.extreme[0] == "price":
            priced = [s for s in self.shown if s.price is not None]
            if priced:
                pick = min if ref.extreme[1] == "min" else max
                return pick(priced, key=lambda s: s.price or 0.0).id
        return None

    # --- updates ----------------------------------------------------------------------------------
    def remember_shown(self, items: list[ShownItem]) -> None:
        self.shown = list(items)
        self.focus = items[0].id if len(items) == 1 else None

    def note_turn(self, sentiment: float, complaint: bool) -> None:
        self.turns += 1
        self.sentiment = (self.sentiment + [float(sentiment)])[-WINDOW:]
        self.complaints = (self.complaints + [complaint])[-WINDOW:]

    # --- persistence ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["topic"] = self.topic.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DialogueState:
        d = dict(d)
        d["topic"] = Constraints.from_dict(d.get("topic") or {})
        d["shown"] = [ShownItem(**s) for s in d.get("shown") or []]
        d["order"] = OrderContext(**(d.get("order") or {}))
        return cls(**d)
