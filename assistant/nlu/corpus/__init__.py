"""The parser's training corpus, generated from a shop's own vocabulary.

``generate(vocab, n, seed)`` draws ``n`` tagged messages: product requests built from the shop's
categories, brands, attributes and price ranges (negations, bounds, relative and superlative words,
references, budgets in many currencies and formats, typos), support requests, chit-chat and
out-of-scope messages, and two-request messages joined from these. Paraphrases that the local LLM
wrote once offline (``paraphrases.jsonl``, see ``assistant.nlu.corpus.paraphrase``) and the Bitext
support sample are added by the trainer.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from assistant.nlu.commands import CONSTRAINT_TAGS
from assistant.nlu.corpus import shopping, support
from assistant.nlu.corpus.builder import Example
from assistant.nlu.corpus.slots import SlotMaker
from assistant.nlu.vocab import ShopVocab

__all__ = ["Example", "generate"]

Maker = Callable[[SlotMaker], Example]
# Share of each kind of message; two-request messages are joined from these afterwards.
MIX: tuple[tuple[float, Maker], ...] = (
    (0.28, shopping.find),
    (0.12, shopping.refine),
    (0.06, shopping.budget),
    (0.07, shopping.rank),
    (0.09, shopping.ask),
    (0.04, shopping.compare),
    (0.03, shopping.stock),
    (0.11, support.order),
    (0.07, support.policy),
    (0.02, support.policy_followup),
    (0.025, support.privacy),
    (0.025, lambda sm: support.simple(sm, "handoff", "Handoff")),
    (0.035, lambda sm: support.simple(sm, "complaint", "Complaint")),
    (0.06, support.chitchat),
    (0.035, lambda sm: support.simple(sm, "out_of_scope", "OutOfScope")),
)
MULTI = 0.14  # share of two-request messages


def _draw(sm: SlotMaker) -> Example:
    r, acc = sm.rng.random() * sum(w for w, _ in MIX), 0.0
    for w, make in MIX:
        acc += w
        if r <= acc:
            return make(sm)
    return MIX[-1][1](sm)


# Requests that combine in one message ("where is my order, and do you sell pans?").
REQUESTS: tuple[Maker, ...] = (
    shopping.find,
    shopping.refine,
    shopping.rank,
    shopping.ask,
    shopping.compare,
    shopping.stock,
    support.order,
    support.policy,
    support.privacy,
    lambda sm: support.simple(sm, "handoff", "Handoff"),
)


def _joined(sm: SlotMaker) -> Example:
    """Two requests in one message, in either order; often one of them is a support request."""
    a = sm.rng.choice(REQUESTS)(sm)
    b = sm.rng.choice(REQUESTS)(sm)
    if a.commands == b.commands and "FindProducts" not in a.commands:
        b = support.policy(sm)
    sep = sm.rng.choice(sm.ph["connectors"])
    shift = len(a.text) + len(sep)
    spans = a.spans + [(s + shift, e + shift, t) for s, e, t in b.spans]
    return Example(
        a.text + sep + b.text,
        spans,
        tuple(dict.fromkeys(a.commands + b.commands)),
        a.topic or b.topic,
        a.privacy or b.privacy,
        a.chat or b.chat,
        "multi",
    )


ORDER = frozenset({"OrderStatus", "CancelOrder", "ReturnItem", "ProvideDetails"})
CONTEXT_WORDS = ("list", "asked", "order", "policy")  # what the parser can be told about the conversation
# How often a list is on screen when each command is said (follow-ups mostly come after a list).
LISTED = {
    "Refine": 0.9,
    "Rank": 0.92,
    "AskProduct": 0.85,
    "Compare": 0.9,
    "CheckStock": 0.85,
    "FindProducts": 0.45,
}
# Constraint-only follow-ups ("under $60", "anything by Bose?") refine a list, or start a search without one.
PLAIN_TAGS = frozenset((*CONSTRAINT_TAGS, "ASPECT"))


def with_context(ex: Example, rng: random.Random) -> Example:
    """Draw the conversation context a message comes in, and relabel what depends on it."""
    listed = rng.random() < max((LISTED.get(c, 0.35) for c in ex.commands), default=0.35)
    asked = "ProvideDetails" in ex.commands and rng.random() < 0.7 or rng.random() < 0.05
    # An order under discussion: "where is it now?", "cancel it" follow an order look-up.
    follow_up = set(ex.commands) & ORDER and not any(t == "ORDER_ID" for _, _, t in ex.spans)
    order = rng.random() < (0.8 if follow_up else 0.08)
    policy = rng.random() < (0.9 if ex.source == "policy-followup" else 0.06)
    ex.context = " ".join(
        w for w, on in (("list", listed), ("asked", asked), ("order", order), ("policy", policy)) if on
    )
    if not listed and "Refine" in ex.commands and {t for _, _, t in ex.spans} <= PLAIN_TAGS:
        ex.commands = tuple("FindProducts" if c == "Refine" else c for c in ex.commands)
    if not listed and ex.source == "rank-which":
        ex.commands = tuple("FindProducts" if c == "Rank" else c for c in ex.commands)
    return ex


def generate(vocab: ShopVocab, n: int, seed: int = 0) -> list[Example]:
    sm = SlotMaker(vocab, random.Random(seed))
    out: list[Example] = []
    seen: set[str] = set()
    seen_count: dict[str, int] = {}
    tries = 0
    while len(out) < n and tries < n * 3:
        tries += 1
        ex = with_context(_joined(sm) if sm.rng.random() < MULTI else _draw(sm), sm.rng)
        key = ex.text.lower()
        # Short social messages repeat in real chats; everything else is drawn without repeats.
        if ex.text and (key not in seen or (len(key) <= 24 and seen_count.get(key, 0) < 8)):
            seen.add(key)
            seen_count[key] = seen_count.get(key, 0) + 1
            out.append(ex)
    return out
