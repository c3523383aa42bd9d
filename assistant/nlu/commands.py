"""Typed commands: what one shopper message asks the assistant to do (docs/commands.md).

The parser (fast learned model, or the local LLM when it is unsure) turns a message into a short
list of these; the validator checks them against the catalog; the dialogue state and the policy
read nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from knowledge.constraints import Constraints

COMMAND_TYPES = (
    "FindProducts",
    "Refine",
    "Rank",
    "AskProduct",
    "Compare",
    "CheckStock",
    "OrderStatus",
    "CancelOrder",
    "ReturnItem",
    "ProvideDetails",
    "PolicyQuestion",
    "Privacy",
    "Handoff",
    "Complaint",
    "ChitChat",
    "OutOfScope",
)
TOPICS = (
    "shipping",
    "returns",
    "refunds",
    "warranty",
    "payment",
    "price_match",
    "privacy",
    "order_tracking",
    "cancellations",
    "gift_cards",
    "other",
)
PRIVACY_KINDS = ("info", "export", "delete", "opt_out", "opt_in")
CHAT_KINDS = ("greeting", "thanks", "goodbye", "other")
# Span tags of the parser's token head (BIO over words). PRICE_* / NUM_* / RATING_MIN cover the amount
# with its currency or unit; SUPER and REL the ranking words; REF a pointer to a shown product.
# The tags that state a product constraint (what a search filters by).
CONSTRAINT_TAGS = (
    "CAT",
    "BRAND",
    "NOT_BRAND",
    "ATTR",
    "NOT_ATTR",
    "PRICE_MAX",
    "PRICE_MIN",
    "PRICE_ABOUT",
    "NUM_MIN",
    "NUM_MAX",
    "NUM_EQ",
    "RATING_MIN",
    "STOCK",
)
TAGS = (
    *CONSTRAINT_TAGS,
    "SUPER",
    "REL",
    "REF",
    "PRODUCT",
    "ASPECT",
    "UNSET",
    "CONT",
    "REJECT",
    "ORDER_ID",
    "EMAIL",
)
Direction = Literal["min", "max"]


@dataclass(frozen=True)
class Ref:
    """A pointer to one product: a position in the last list, the product in focus, a brand on
    screen, a named product, the other of two, or the extreme of the list along an attribute."""

    index: int | None = None
    focus: bool = False
    brand: str | None = None
    product: str | None = None
    other: bool = False
    extreme: tuple[str, Direction] | None = None  # (attribute, min|max)
    value: tuple[str, str] | None = None  # (attribute, value): "the hardback one"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.index is not None:
            out["index"] = self.index
        if self.focus:
            out["focus"] = True
        if self.brand:
            out["brand"] = self.brand
        if self.product:
            out["product"] = self.product
        if self.other:
            out["other"] = True
        if self.extreme:
            out["extreme"] = {"attribute": self.extreme[0], "direction": self.extreme[1]}
        if self.value:
            out["value"] = {self.value[0]: self.value[1]}
        return out


@dataclass(frozen=True)
class Relative:
    attribute: str  # "price", "rating" or an attribute key
    direction: Literal["less", "more"]


@dataclass(frozen=True)
class Sort:
    attribute: str
    direction: Direction


@dataclass(frozen=True)
class Command:
    """Base: every command has a type name and the words it was read from (for the tools' queries)."""

    text: str = field(default="", compare=False)

    @property
    def type(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class FindProducts(Command):
    constraints: Constraints = field(default_factory=Constraints)
    carry: bool = False  # "also", "instead", "same budget": earlier constraints still hold
    sort: Sort | None = None  # "the lightest tent you have"
    unknown: tuple[str, ...] = ()  # words that named a product type, brand or feature the shop lacks


@dataclass(frozen=True)
class Refine(Command):
    set: Constraints = field(default_factory=Constraints)
    unset: tuple[str, ...] = ()
    relative: tuple[Relative, ...] = ()
    reject_shown: bool = False
    sort: Sort | None = None
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rank(Command):
    attribute: str | None = None  # None: the words named no attribute the shop records
    direction: Direction = "max"
    words: str = ""  # the ranking words as typed ("comfiest"): reviews answer when no attribute does


@dataclass(frozen=True)
class AskProduct(Command):
    ref: Ref | None = None
    aspect: str | None = None


@dataclass(frozen=True)
class Compare(Command):
    refs: tuple[Ref, ...] = ()


@dataclass(frozen=True)
class CheckStock(Command):
    ref: Ref | None = None


@dataclass(frozen=True)
class OrderCommand(Command):
    order_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class OrderStatus(OrderCommand):
    pass


@dataclass(frozen=True)
class CancelOrder(OrderCommand):
    pass


@dataclass(frozen=True)
class ReturnItem(OrderCommand):
    pass


@dataclass(frozen=True)
class ProvideDetails(OrderCommand):
    pass


@dataclass(frozen=True)
class PolicyQuestion(Command):
    topic: str = "other"
    confidence: float = 1.0  # the reader's probability for the topic: how far to trust it over retrieval


@dataclass(frozen=True)
class Privacy(Command):
    kind: str = "info"


@dataclass(frozen=True)
class Handoff(Command):
    reason: str = ""


@dataclass(frozen=True)
class Complaint(Command):
    severity: Literal["mild", "strong"] = "mild"


@dataclass(frozen=True)
class ChitChat(Command):
    kind: str = "other"


@dataclass(frozen=True)
class OutOfScope(Command):
    pass


@dataclass(frozen=True)
class Clarify(Command):
    question: str = ""
    options: tuple[str, ...] = ()


PRODUCT_COMMANDS = (FindProducts, Refine, Rank, AskProduct, Compare, CheckStock)
ORDER_COMMANDS = (OrderStatus, CancelOrder, ReturnItem)


def command_json(c: Command) -> dict[str, Any]:
    """A command in the test-set / LLM JSON shape of docs/commands.md."""
    out: dict[str, Any] = {"type": c.type}
    if isinstance(c, FindProducts):
        _put(out, constraints=c.constraints.to_dict(), **{"continue": c.carry})
    elif isinstance(c, Refine):
        _put(
            out,
            set=c.set.to_dict(),
            unset=list(c.unset),
            reject_shown=c.reject_shown,
            relative=[{"attribute": r.attribute, "direction": r.direction} for r in c.relative],
        )
    elif isinstance(c, Rank):
        _put(out, attribute=c.attribute, direction=c.direction)
    elif isinstance(c, AskProduct):
        _put(out, ref=c.ref.to_dict() if c.ref else None, aspect=c.aspect)
    elif isinstance(c, Compare):
        _put(out, refs=[r.to_dict() for r in c.refs])
    elif isinstance(c, CheckStock):
        _put(out, ref=c.ref.to_dict() if c.ref else None)
    elif isinstance(c, OrderCommand):
        _put(out, order_id=c.order_id, email=c.email)
    elif isinstance(c, PolicyQuestion):
        _put(out, topic=c.topic)
    elif isinstance(c, Privacy | ChitChat):
        _put(out, kind=c.kind)
    return out


def _put(out: dict[str, Any], **kw: Any) -> None:
    out.update({k: v for k, v in kw.items() if v not in (None, False, "", [], {})})
