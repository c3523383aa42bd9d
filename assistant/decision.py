"""What the policy decides and what it may ask of the shop: ``Decision`` and the ``World`` protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.nlu.commands import Ref
from assistant.nlu.report import TOPIC_INTENTS
from assistant.state import OrderContext
from knowledge.constraints import Constraints

ACTION_INTENTS = {
    "recommend": "recommend",
    "product_details": "product_question",
    "product_qa": "product_question",
    "rank": "product_question",
    "compare": "compare",
    "order_status": "order_status",
    "cancel_order": "cancel_order",
    "return_or_refund": "return_refund",
    "privacy": "privacy",
    "handoff": "human_agent",
    "complaint": "complaint",
    "greeting": "greeting",
    "goodbye": "goodbye",
    "thanks": "goodbye",
    "out_of_scope": "out_of_scope",
    "clarify": "recommend",
}
NO_TOOL = frozenset({"clarify", "greeting", "goodbye", "thanks", "out_of_scope", "complaint"})


class World(Protocol):
    """What the policy may ask of the shop, besides the state: counts and values, no text."""

    @property
    def now(self) -> float: ...

    @property
    def client_id(self) -> str | None: ...

    @property
    def currency(self) -> str: ...  # the shop's

    def count(self, c: Constraints) -> int: ...

    def value_of(self, product_id: str, attribute: str) -> float | None: ...

    def locate(self, ref: Ref, shown: list[str], categories: tuple[str, ...]) -> str | None: ...

    def suggest(self, word: str, k: int = 3) -> list[str]: ...

    def policy_topic(self, question: str, prior: str, weight: float) -> str: ...


@dataclass(frozen=True)
class Decision:
    action: str  # a tool name, or clarify | greeting | goodbye | thanks | complaint | out_of_scope
    args: dict[str, Any] = field(default_factory=dict)
    clarify: str | None = None  # the question key and its options, for clarify
    options: tuple[str, ...] = ()
    follow_up: str | None = None  # a question asked after the answer (key of prompts/template.yaml)
    notes: tuple[
        tuple[str, str], ...
    ] = ()  # (kind, value) facts the reply states: ("unknown_brand", "Samsung")
    intent: str | None = None
    topic: Constraints | None = None  # the topic to keep after this turn (product actions)
    carried: tuple[str, ...] = ()
    relaxed: tuple[str, ...] = ()
    pending: str | None = None  # the command type that waits for details, if any
    order: OrderContext | None = None  # order facts to remember

    @property
    def uses_tool(self) -> bool:
        return self.action not in NO_TOOL

    @property
    def served_intent(self) -> str:
        if self.intent:
            return self.intent
        if self.action == "policy_qa":
            return TOPIC_INTENTS.get(str(self.args.get("topic")), "shipping")
        return ACTION_INTENTS.get(self.action, "out_of_scope")
