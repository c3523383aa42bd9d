"""Generated support messages (orders, policies, privacy, hand-off, complaints, chit-chat, out of
scope) and the Bitext customer-support sample mapped to commands."""

from __future__ import annotations

import random
from pathlib import Path

from assistant.nlu.corpus.builder import Example, Part, assemble, fill, join, noisy, tag
from assistant.nlu.corpus.slots import SlotMaker

_NAMES = [
    "john",
    "maria",
    "li.wei",
    "sam_k",
    "priya.sharma",
    "tom.b",
    "a.jones",
    "kim",
    "omar.h",
    "lucy99",
    "dev",
    "jo.smith",
    "benjamin.wright",
    "aria.harris",
    "n.kowalski",
    "fatima.a",
    "chris.p",
    "emma_l",
    "raj",
    "zoe.m",
]
_DOMAINS = [
    "example.com",
    "gmail.com",
    "yahoo.co.uk",
    "outlook.com",
    "mail.com",
    "hotmail.com",
    "icloud.com",
    "shop.io",
]
_ORDER_KEYS = {"track_order": "status", "cancel_order": "cancel", "get_refund": "return"}
# Bitext intents -> (command, policy topic). Account and invoice requests need a person here.
BITEXT: dict[str, tuple[str, str | None]] = {
    "cancel_order": ("CancelOrder", None),
    "track_order": ("OrderStatus", None),
    "get_refund": ("ReturnItem", None),
    "check_cancellation_fee": ("PolicyQuestion", "cancellations"),
    "check_payment_methods": ("PolicyQuestion", "payment"),
    "check_refund_policy": ("PolicyQuestion", "refunds"),
    "track_refund": ("PolicyQuestion", "refunds"),
    "delivery_options": ("PolicyQuestion", "shipping"),
    "delivery_period": ("PolicyQuestion", "shipping"),
    "payment_issue": ("PolicyQuestion", "payment"),
    "complaint": ("Complaint", None),
    "contact_customer_service": ("Handoff", None),
    "contact_human_agent": ("Handoff", None),
    "delete_account": ("Privacy", None),
}  # account, invoice and address requests have no command here: they are left out, not forced into Handoff


def order_id(rng: random.Random) -> str:
    n = rng.randint(100000, 999999)
    return rng.choice(
        [f"ORD-{n}", f"ORD-{n}", f"ord-{n}", f"ORD{n}", f"#{n}", f"ORD {n}", str(rng.randint(10**9, 10**13))]
    )


def email(rng: random.Random) -> str:
    return f"{rng.choice(_NAMES)}{rng.choice(['', '', str(rng.randint(1, 99))])}@{rng.choice(_DOMAINS)}"


def _ex(
    parts: list[Part], commands: tuple[str, ...], sm: SlotMaker, source: str, **labels: str | None
) -> Example:
    text, spans = assemble(noisy(parts, sm.rng, rate=0.02))
    return Example(
        text, spans, commands, labels.get("topic"), labels.get("privacy"), labels.get("chat"), source
    )


def _order_slots(rng: random.Random) -> dict[str, list[Part] | str]:
    return {"o": tag(order_id(rng), "ORDER_ID"), "e": tag(email(rng), "EMAIL")}


def order(sm: SlotMaker) -> Example:
    rng = sm.rng
    kind = rng.choice(["status", "status", "cancel", "return", "details"])
    command = {
        "status": "OrderStatus",
        "cancel": "CancelOrder",
        "return": "ReturnItem",
        "details": "ProvideDetails",
    }[kind]
    parts = fill(rng.choice(sm.ph["orders"][kind]), _order_slots(rng))
    opener: list[Part] = [(rng.choice(sm.ph["openers"]), None)] if kind != "details" else []
    return _ex(
        join(opener, parts, [(rng.choice(["", "", "?", "please", "thanks"]), None)]), (command,), sm, "order"
    )


def policy(sm: SlotMaker) -> Example:
    topic = sm.rng.choice(list(sm.ph["policy"]))
    # A product type named inside a policy question is its subject, not a request for products.
    thing = sm.category(sm.rng.choice(sm.cats), "any")[0][0]
    text = sm.rng.choice(sm.ph["policy"][topic]).replace("{thing}", thing)
    parts = join(
        [(sm.rng.choice(sm.ph["openers"]), None)],
        [(text, None)],
        [(sm.rng.choice(["", "", "?", "please", "thanks"]), None)],
    )
    return _ex(parts, ("PolicyQuestion",), sm, "policy", topic=topic)


def policy_followup(sm: SlotMaker) -> Example:
    thing = sm.category(sm.rng.choice(sm.cats), "any")[0][0]
    text = sm.rng.choice(sm.ph["policy_followups"]).replace("{thing}", thing)
    return _ex([(text, None)], ("PolicyQuestion",), sm, "policy-followup", topic="other")


def privacy(sm: SlotMaker) -> Example:
    kind = sm.rng.choice(list(sm.ph["privacy"]))
    parts = join([(sm.rng.choice(sm.ph["openers"]), None)], [(sm.rng.choice(sm.ph["privacy"][kind]), None)])
    return _ex(parts, ("Privacy",), sm, "privacy", privacy=kind)


def simple(sm: SlotMaker, key: str, command: str) -> Example:
    parts = join([(sm.rng.choice(sm.ph["openers"]), None)], [(sm.rng.choice(sm.ph[key]), None)])
    return _ex(parts, (command,), sm, key)


def chitchat(sm: SlotMaker) -> Example:
    """Short social messages; a greeting or thanks may come with a second social phrase."""
    rng = sm.rng
    kind = rng.choice(list(sm.ph["chitchat"]))
    text = rng.choice(sm.ph["chitchat"][kind])
    if kind == "greeting" and rng.random() < 0.3:
        text += rng.choice([", how are you?", " :)", "! anyone there?", " there", ", hope you're well"])
    elif kind == "thanks" and rng.random() < 0.3:
        text += rng.choice([" so much", ", that helps", "!", " :)", ", great help"])
    elif kind == "goodbye" and rng.random() < 0.3:
        text = rng.choice(["thanks, ", "great, ", "ok ", "perfect, "]) + text
    return _ex([(text, None)], ("ChitChat",), sm, "chitchat", chat=kind)


def bitext(path: Path) -> list[Example]:
    """The Bitext sample as commands; order ids tagged from its character offsets."""
    import pandas as pd

    df = pd.read_csv(path)
    out: list[Example] = []
    for row in df.itertuples(index=False):
        command, topic = BITEXT.get(str(row.intent), ("", None))
        if not command:
            continue
        text = str(row.instruction)
        spans: list[tuple[int, int, str]] = []
        if row.entity_type == "order_id" and row.start_offset == row.start_offset:
            s, e = int(row.start_offset), int(row.end_offset)
            if text[s:e].strip():
                spans.append((s, e, "ORDER_ID"))
        privacy = "delete" if row.intent == "delete_account" else None
        out.append(Example(text, spans, (command,), topic, privacy, None, "bitext"))
    return out
