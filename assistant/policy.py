"""Dialogue policy: the next action (and its tool arguments) from the Understanding and the state.

Rules, not a model: they are few, auditable, and the evaluation suite checks them.
At most one clarifying question per request, skipped when enough is known; hand-off on an
explicit request or sustained frustration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

GIFT = re.compile(r"\b(gift|present|birthday|anniversary|christmas|for my (?:mom|mum|dad|wife|husband|son|daughter|"
                  r"friend|boss|partner|girlfriend|boyfriend|sister|brother))\b", re.I)
RECIPIENT = re.compile(r"\bfor (?:my |a |an )?(mom|mum|dad|mother|father|wife|husband|son|daughter|kid|child|friend|"
                       r"boss|colleague|partner|girlfriend|boyfriend|sister|brother|runner|gamer|cook|teen|him|her)\b", re.I)
PRIVACY_KINDS = (("export", re.compile(r"\b(export|download|copy of)\b", re.I)),
                 ("delete", re.compile(r"\b(delete|erase|remove|forget)\b", re.I)),
                 ("opt_in", re.compile(r"\b(opt[- ]?in|turn (?:it )?back on|re-?enable)\b", re.I)),
                 ("opt_out", re.compile(r"\b(opt[- ]?out|stop (?:using|personali[sz])|don'?t (?:use|track|personali[sz]))",
                                        re.I)))
MY_ORDER = re.compile(r"\b(my|this|that|the) (order|purchase|package|parcel)\b|\breturn (it|them)\b", re.I)
REFINE = re.compile(r"\b(cheaper|less expensive|instead|other|another|different|not|no|without|only|but)\b", re.I)
CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price|more affordable)\b", re.I)
POLICY_TOPICS = (("warranty", re.compile(r"\b(warranty|guarantee|broke|broken|faulty|defective)\b", re.I)),
                 ("price_match", re.compile(r"\bprice[- ]?match", re.I)),
                 ("cancellations", re.compile(r"\bcancel", re.I)),
                 ("gift_cards", re.compile(r"\bgift ?cards?\b", re.I)),
                 ("order_tracking", re.compile(r"\btrack", re.I)),
                 ("refunds", re.compile(r"\brefund", re.I)),
                 ("returns", re.compile(r"\breturn", re.I)),
                 ("shipping", re.compile(r"\b(ship|shipping|delivery|deliver)\b", re.I)),
                 ("privacy", re.compile(r"\b(privacy|personal data)\b", re.I)))
FRUSTRATION_TURNS = 3
# Requests the assistant can act on: negative wording in them is a constraint, not frustration.
TASK_INTENTS = frozenset({"recommend", "search", "compare", "product_question", "order_status", "cancel_order",
                          "return_refund", "shipping", "payment"})
ORDER_INTENTS = ("order_status", "cancel_order", "return_refund")
ORDER_TOOLS = ("order_status", "cancel_order", "return_or_refund")  # consecutive negative messages that count as sustained frustration


@dataclass
class Decision:
    action: str  # a tool name, or clarify | greeting | goodbye | out_of_scope
    args: dict[str, Any] = field(default_factory=dict)
    clarify: str | None = None
    why: str = ""

    @property
    def uses_tool(self) -> bool:
        return self.action not in ("clarify", "greeting", "goodbye", "out_of_scope")


def constraints_of(state: Any, ents: Any) -> dict[str, Any]:
    """Session constraints (state) with this message's entities on top, as recommend() arguments."""
    c = getattr(state, "constraints", None) or {}
    get = c.get if isinstance(c, dict) else (lambda k, d=None: getattr(c, k, d))
    cats = list(get("categories", None) or ([get("category")] if get("category", None) else []))
    cats = list(getattr(ents, "categories", []) or []) or cats
    brands = list(getattr(ents, "brands", []) or []) or list(get("brands", None) or [])
    neg = sorted(set(getattr(ents, "negated_brands", []) or []) | set(get("negated_brands", None) or get("exclude_brands", None) or []))
    attrs = {**(get("attributes", None) or {}), **(getattr(ents, "attributes", {}) or {})}
    pmin = ents.price_min if getattr(ents, "price_min", None) is not None else get("price_min", None)
    pmax = ents.price_max if getattr(ents, "price_max", None) is not None else get("price_max", None)
    return {"category": cats[0] if cats else None, "brands": [b for b in brands if b not in neg] or None,
            "exclude_brands": neg or None, "price_min": pmin, "price_max": pmax, "attributes": attrs or None,
            "min_rating": get("min_rating", None)}


def _referenced(ents: Any, state: Any) -> list[str]:
    out: list[str] = []
    resolve = getattr(state, "resolve", None)
    for ref in getattr(ents, "references", []) or []:
        pid = resolve(ref) if resolve else None
        if pid and pid not in out:
            out.append(pid)
    for pid in getattr(ents, "product_mentions", []) or []:
        if pid not in out:
            out.append(pid)
    return out


def _focus(state: Any) -> str | None:
    resolve = getattr(state, "resolve", None)
    pid = resolve("last") if resolve else None
    shown = list(getattr(state, "shown", []) or [])
    return pid or (shown[0] if shown else None)


def decide(u: Any, state: Any, memory: dict[str, Any]) -> Decision:
    """``memory`` is the engine's per-session scratchpad (asked_clarify, negative_streak, order_id, email)."""
    ents, intent, text = u.entities, (u.intents[0] if u.intents else "out_of_scope"), u.text
    streak = int(memory.get("negative_streak", 0)) + (1 if _frustrated_message(u) else 0)
    if intent == "human_agent":
        return Decision("handoff", {"summary": f"Shopper asked for a person: {text[:300]}"}, why="explicit request")
    frustrated = streak >= FRUSTRATION_TURNS or (intent == "complaint" and streak >= FRUSTRATION_TURNS - 1)
    if frustrated and not memory.get("handed_off"):
        return Decision("handoff", {"summary": f"Frustrated shopper ({streak} negative messages): {text[:300]}"},
                        why="sustained frustration")
    order_id = ((ents.order_ids[0] if getattr(ents, "order_ids", None) else None) or getattr(state, "order_id", None)
                or memory.get("order_id"))
    email = ((ents.emails[0] if getattr(ents, "emails", None) else None) or getattr(state, "email", None)
             or memory.get("email"))
    about_order = bool(getattr(ents, "order_ids", None)) or bool(MY_ORDER.search(text))
    gave_details = bool(getattr(ents, "order_ids", None) or getattr(ents, "emails", None))
    if gave_details and intent not in ORDER_INTENTS and memory.get("last_action") in ORDER_TOOLS:
        # "my email is ..." answers the question the previous order turn asked.
        return Decision(memory["last_action"], {"order_id": order_id, "email": email})
    if intent in ("order_status", "cancel_order") or (intent == "return_refund" and order_id and about_order):
        tool = {"order_status": "order_status", "cancel_order": "cancel_order"}.get(intent, "return_or_refund")
        return Decision(tool, {"order_id": order_id, "email": email})
    if intent in ("return_refund", "shipping", "payment", "complaint"):
        topic = {"return_refund": "returns", "shipping": "shipping", "payment": "payment"}.get(intent)
        for name, rx in POLICY_TOPICS:
            if rx.search(text):
                topic = name
                break
        return Decision("policy_qa", {"question": text, "topic": topic})
    if intent == "privacy":
        kind = next((k for k, rx in PRIVACY_KINDS if rx.search(text)), "info")
        return Decision("privacy", {"request": kind})
    if intent == "greeting" and not _has_shopping(ents):
        return Decision("greeting")
    if intent == "goodbye":
        return Decision("goodbye")
    refs = _referenced(ents, state)
    if intent == "compare":
        ids = refs if len(refs) >= 2 else (refs + [p for p in getattr(state, "shown", [])[:3] if p not in refs])[:2]
        return Decision("compare", {"product_ids": ids})
    if intent == "product_question":
        topic = next((name for name, rx in POLICY_TOPICS if rx.search(text)), None)
        if topic in ("warranty", "price_match", "shipping", "returns", "refunds"):
            return Decision("policy_qa", {"question": text, "topic": topic})  # "what's the warranty on it?"
        if (getattr(ents, "price_max", None) is not None or getattr(ents, "price_min", None) is not None) \
                and "?" not in text and getattr(state, "shown", None):
            intent = "recommend"  # "under $250" after a list is a refinement, not a question
    if intent == "product_question":
        pid = refs[0] if refs else _focus(state)
        if pid is None:
            return _clarify(memory, "Which product do you mean? You can name it or say \"the first one\".")
        return Decision("product_qa", {"product_id": pid, "question": text})
    refining = bool(getattr(state, "shown", None)) and (REFINE.search(text) is not None or getattr(ents, "negated_brands", None)
                                                         or getattr(ents, "price_max", None) is not None)
    if intent in ("recommend", "search", "out_of_scope") and not _has_shopping(ents) and not refining:
        # "do you price match?" is a policy question whatever the classifier thought.
        topic = next((name for name, rx in POLICY_TOPICS if rx.search(text)), None)
        if topic is not None:
            return Decision("policy_qa", {"question": text, "topic": topic})
    if intent in ("recommend", "search") or _has_shopping(ents) or (intent == "out_of_scope" and refining):
        cons = constraints_of(state, ents)
        if u.needs_clarification and not cons["category"] and not memory.get("asked_clarify"):
            return _clarify(memory, "Are you looking for product suggestions, help with an order, or a store policy?")
        if not cons["category"] and not cons["brands"] and not memory.get("asked_clarify"):
            if GIFT.search(text) and cons["price_max"] is None and not RECIPIENT.search(text):
                return _clarify(memory, "Happy to help with a gift! Who is it for, and roughly what budget?")
            if cons["price_max"] is None and not cons["attributes"]:
                return _clarify(memory, "What kind of product are you looking for (for example headphones, "
                                        "running shoes or a coffee maker), and is there a budget?")
        _cheaper_than_shown(text, state, cons)
        exclude = [p for p in refs if re.search(r"\b(other|else|different|instead)\b", text, re.I)]
        return Decision("recommend", {"query": text, **cons, "exclude_ids": exclude or None})
    return Decision("out_of_scope")


def _cheaper_than_shown(text: str, state: Any, cons: dict[str, Any]) -> None:
    """"Something cheaper" means cheaper than the top product we just showed, not a catalog-wide price."""
    meta = getattr(state, "shown_meta", None) or {}
    shown = list(getattr(state, "shown", []) or [])
    if not CHEAPER.search(text) or not shown or meta.get(shown[0], {}).get("price") is None:
        return
    cons["price_max"] = round(float(meta[shown[0]]["price"]) - 0.01, 2)
    c = getattr(state, "constraints", None)
    if c is not None and hasattr(c, "price_max"):
        c.price_max = cons["price_max"]  # later turns keep the corrected budget


def _frustrated_message(u: Any) -> bool:
    """Negative and not a task: "not Sony, cheaper" is a refinement, "this is useless" is frustration."""
    intent = u.intents[0] if u.intents else "out_of_scope"
    return u.sentiment == "negative" and intent not in TASK_INTENTS


def _has_shopping(ents: Any) -> bool:
    return bool(getattr(ents, "categories", None) or getattr(ents, "brands", None)
                or getattr(ents, "product_mentions", None))


def _clarify(memory: dict[str, Any], question: str) -> Decision:
    return Decision("clarify", clarify=question, why="under-specified")


def update_memory(memory: dict[str, Any], u: Any, decision: Decision) -> None:
    """Remember what later turns need: whether we already asked, frustration, order id and email."""
    memory["asked_clarify"] = decision.action == "clarify"
    memory["last_action"] = decision.action
    memory["negative_streak"] = int(memory.get("negative_streak", 0)) + 1 if _frustrated_message(u) else 0
    if decision.action == "handoff":
        memory["negative_streak"] = 0
        memory["handed_off"] = True
    ents = u.entities
    if getattr(ents, "order_ids", None):
        memory["order_id"] = ents.order_ids[0]
    if getattr(ents, "emails", None):
        memory["email"] = ents.emails[0]
