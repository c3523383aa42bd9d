"""What a turn understood, in the shape the ``Understood`` event and the evaluation report use:
intent names (the families the UI and suites know) and flat entities, both derived from commands."""

from __future__ import annotations

from typing import Any

from assistant.nlu.commands import (
    AskProduct,
    CancelOrder,
    CheckStock,
    ChitChat,
    Command,
    Compare,
    Complaint,
    FindProducts,
    Handoff,
    OrderCommand,
    OrderStatus,
    PolicyQuestion,
    Privacy,
    ProvideDetails,
    Rank,
    Refine,
    ReturnItem,
)

# A policy topic -> the intent the eval suites and the agent console name it by.
TOPIC_INTENTS = {
    "shipping": "shipping",
    "order_tracking": "shipping",
    "payment": "payment",
    "returns": "return_refund",
    "refunds": "return_refund",
    "cancellations": "cancel_order",
    "privacy": "privacy",
    "warranty": "return_refund",
    "price_match": "payment",
    "gift_cards": "payment",
    "other": "shipping",
}


def intent_of(c: Command) -> str:
    if isinstance(c, FindProducts | Refine):
        return "recommend"
    if isinstance(c, Rank | AskProduct | CheckStock):
        return "product_question"
    if isinstance(c, Compare):
        return "compare"
    if isinstance(c, OrderStatus | ProvideDetails):
        return "order_status"
    if isinstance(c, CancelOrder):
        return "cancel_order"
    if isinstance(c, ReturnItem):
        return "return_refund"
    if isinstance(c, PolicyQuestion):
        return TOPIC_INTENTS.get(c.topic, "shipping")
    if isinstance(c, Privacy):
        return "privacy"
    if isinstance(c, Handoff):
        return "human_agent"
    if isinstance(c, Complaint):
        return "complaint"
    if isinstance(c, ChitChat):
        return "goodbye" if c.kind in ("thanks", "goodbye") else "greeting"
    return "out_of_scope"


def intents(commands: list[Command], served: list[str]) -> list[str]:
    """The intents served first (the policy's decisions), then the rest the message asked for."""
    return list(dict.fromkeys([*served, *(intent_of(c) for c in commands)]))


def entities(commands: list[Command]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "categories": [],
        "brands": [],
        "negated_brands": [],
        "attributes": {},
        "price_min": None,
        "price_max": None,
        "currency": None,
        "order_ids": [],
        "emails": [],
        "references": [],
    }
    for c in commands:
        cons = c.constraints if isinstance(c, FindProducts) else c.set if isinstance(c, Refine) else None
        if cons is not None:
            out["categories"] += [x for x in cons.categories if x not in out["categories"]]
            out["brands"] += [x for x in cons.brands if x not in out["brands"]]
            out["negated_brands"] += [x for x in cons.exclude_brands if x not in out["negated_brands"]]
            out["attributes"].update({k: v[0] for k, v in cons.attributes.items() if v})
            out["price_min"] = cons.price.min if cons.price.min is not None else out["price_min"]
            out["price_max"] = cons.price.max if cons.price.max is not None else out["price_max"]
            out["currency"] = cons.currency or out["currency"]
        if isinstance(c, OrderCommand):
            out["order_ids"] += [c.order_id] if c.order_id else []
            out["emails"] += [c.email] if c.email else []
        refs = (
            [c.ref]
            if isinstance(c, AskProduct | CheckStock) and c.ref
            else list(c.refs)
            if isinstance(c, Compare)
            else []
        )
        out["references"] += [r.to_dict() for r in refs]
    return out
