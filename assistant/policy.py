"""Dialogue policy: the next action (and its tool arguments) from the Understanding and the state.

Rules, not a model: they are few, auditable, and the evaluation suite checks them.
At most one clarifying question per request, skipped when enough is known; hand-off on an
explicit request or sustained frustration.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

GIFT = re.compile(r"\b(gift|present|birthday|anniversary|christmas|for my (?:mom|mum|dad|wife|husband|son|daughter|"
                  r"friend|boss|partner|girlfriend|boyfriend|sister|brother))\b", re.I)
RECIPIENT = re.compile(r"\bfor (?:my |a |an )?(mom|mum|dad|mother|father|wife|husband|son|daughter|kid|child|friend|"
                       r"boss|colleague|partner|girlfriend|boyfriend|sister|brother|runner|gamer|cook|teen|him|her)\b", re.I)
PRIVACY_KINDS = (("export", re.compile(r"\b(export|download|copy of)\b", re.I)),
                 ("delete", re.compile(r"\b(delete|erase|remove|forget)\b", re.I)),
                 ("opt_in", re.compile(r"\b(opt[- ]?in|(?:turn|switch) (?:it |\w+ )?back on|re-?enable|"
                                       r"resume personali[sz])", re.I)),
                 ("opt_out", re.compile(r"\b(opt[- ]?out|stop (?:using|personali[sz])|don'?t (?:use|track|personali[sz]))",
                                        re.I)))
MY_ORDER = re.compile(r"\b(my|this|that|the) (order|purchase|package|parcel)\b|\breturn (it|them)\b", re.I)
REFINE = re.compile(r"\b(cheaper|less expensive|instead|other|another|different|not|no|without|only|but)\b", re.I)
CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price|more affordable)\b", re.I)
POLICY_TOPICS = (("warranty", re.compile(r"\b(warranty|guarantee|broke|broken|breaks|faulty|defective|stopped working|"
                                         r"stops working)\b", re.I)),
                 ("price_match", re.compile(r"\bprice[- ]?match|\bmatch (?:it|that|the(?:ir)? price)|"
                                            r"\bmatch(?:es|ing)? (?:\w+ ){0,2}prices?\b|"
                                            r"\bprice (?:drops?|goes down|went down|is lowered)|"
                                            r"\b(?:drop|lower|reduce|cut)s? (?:the |its |their )?prices?\b|"
                                            r"\bdifference back\b|\bprice adjustment|"
                                            r"\bsells? (?:it|them|the .{3,80}) for less\b", re.I)),
                 ("cancellations", re.compile(r"\bcancel", re.I)),
                 ("gift_cards", re.compile(r"\bgift ?cards?\b", re.I)),
                 ("payment", re.compile(r"\b(payment|pay with|pay by|card (?:is )?charged|apple pay|google pay|paypal|"
                                        r"klarna|amex|american express|visa|mastercard|discover|credit cards?|"
                                        r"debit cards?|(?:cards?|methods?) (?:do you )?accept(?:ed)?)\b", re.I)),
                 ("order_tracking", re.compile(r"\btrack", re.I)),
                 ("refunds", re.compile(r"\b(refund|money (?:is )?back|back on my card|cost back)", re.I)),
                 ("returns", re.compile(r"\b(return|restocking|send (?:it|them|this|that) back)", re.I)),
                 ("shipping", re.compile(r"\b(ship|shipping|delivery|deliver)\b", re.I)),
                 ("privacy", re.compile(r"\b(privacy|personal data)\b", re.I)))
FRUSTRATION_TURNS = 3
# Asking for a person (not just a classifier's human_agent label on "my email is ...").
PERSON = re.compile(r"\b(human|real person|a person|agent|someone|somebody|representative|manager|supervisor|"
                    r"customer service|speak to|talk to)\b", re.I)
ANGER = re.compile(r"\b(angry|furious|livid|outraged|fed up|worst (?:service|experience)|unacceptable)\b", re.I)
# Policy words that decide the topic even when a product is named ("restocking fee on opened headphones").
STRONG_POLICY = re.compile(r"\b(restocking|warranty|price[- ]?match|match (?:it|that|the(?:ir)? price)|gift ?cards?|"
                           r"return policy|refund policy|shipping (?:cost|fee|polic))", re.I)
# A short follow-up that narrows the last list: "A programmable one", "GaN only", "Keep it under $400".
REFINE_START = re.compile(r"^\W*(?:(?:hmm+|ok(?:ay)?|and|but|well)\W+)?(actually|something|a |an |it |its |it's |only|just |"
                          r"i(?:'d)? (?:prefer|rather|want)|prefer|must|has to|needs? to|make it|keep it|what about|"
                          r"how about|with |without |more |less |cheaper|under|below|over|at least|maybe)", re.I)
REFINE_END = re.compile(r"\b(only|one|ones)\W*(?:please)?\W*$", re.I)
REQUEST = re.compile(r"\b(show|need|want|looking|recommend|find|suggest|search|get me|buy)\b|\?", re.I)
PRIVACY_WORDS = re.compile(r"\b(data|privacy|personal|personali[sz]|cookies?|export|delete|erase|forget|opt)", re.I)
GENERAL_Q = re.compile(r"^\W*(can|could|how|is|do|does|what|when|am)\b", re.I)
PRICE_STOCK_Q = re.compile(r"\b(how much|price|cost|in stock|available|availability|do you (?:sell|carry|have))\b",
                           re.I)
# "I'd like to return order ORD-1": a return request, whatever label the classifier gave the order id.
RETURN_REQ = re.compile(r"\b(return|send (?:it|them) back)\b", re.I)
STATUS_WORDS = re.compile(r"\b(where|status|track|arrive|when)\b", re.I)
CHARGED = re.compile(r"\b(charged?|billed|pay(?:ment)?|refund(?:ed)?|money)\b", re.I)
INSTEAD = re.compile(r"\b(instead|what (?:else )?can i do|other options?|alternatives?)\b", re.I)
# The shopper turns the whole list down: show other products and ask what would narrow it.
REJECT = re.compile(r"\b(none of (?:those|these|them|the above)|not (?:really |quite )?what i(?:'m| am) (?:after|looking for)|"
                    r"(?:don'?t|do not) (?:like|want) (?:those|these|them|any of (?:those|these|them))|"
                    r"something else|other options|show me (?:others|other ones|different ones))\b", re.I)
# A question, with or without its "?": "and is it ok in the rain", "which switches does it use".
QUESTION_START = re.compile(r"^\W*(?:(?:and|so|but|also|ok(?:ay)?|oh|hmm+|right|cool)\W+)*(?:is|are|does|do|did|can|could|"
                            r"will|would|has|have|how|what(?:'s| is)?|whats|which|any)\b", re.I)
# "show me ...", "I want ...": a request for products even when phrased as a question.
REQUEST_WORDS = re.compile(r"\b(show|recommend|suggest|find me|looking for|alternatives?|similar|something like)\b", re.I)
# "they"/"it": a price or stock question about the product being discussed, not a new search.
PRONOUN = re.compile(r"\b(it|its|it's|they|them|this|that|these|those|this one|that one)\b", re.I)
# The question after a list that spans several kinds of product, or a rejected one with no kind yet.
KIND_QUESTION = "What kind of product are you looking for, and is there a budget?"
# A shopping need the classifier could not place ("I want to set up a home gym"): ask, don't refuse.
NEED = re.compile(r"\b(i (?:want|need|am looking|'m looking)|looking for|set(?:ting)? up|shopping for)\b", re.I)
ABOUT_ME = re.compile(r"\b(?:know|store|have|keep|hold) (?:on|about) me\b|\bmy (?:personal )?(?:data|information|info)\b", re.I)
WHICH_ONE = re.compile(r"\bwhich (?:one|of (?:them|the two|these|those))\b", re.I)
BYE = re.compile(r"\b(thanks|thank you|bye|goodbye|that'?s all)\b", re.I)
COMPARE_WORDS = re.compile(r"\b(compare|versus|vs\.?|difference|better)\b", re.I)
PRICE_CAP = re.compile(r"\b(?:under|below|less than|no more than|not (?:spend )?more than|spend more than|at most|up to|"
                       r"max(?:imum)?|budget (?:is |of )?)\s*\$\s?(\d+(?:\.\d{1,2})?)", re.I)
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
    intent: str | None = None  # the intent acted on, when the policy resolved it differently from the classifier
    follow_up: str | None = None  # a question asked after the answer ("Is there a budget?")

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
    bare = re.sub(r"\S+@\S+", " ", text)  # "someone.else@example.com" asks for no one
    explicit = bool(PERSON.search(bare)) and (intent == "human_agent" or u.sentiment == "negative"
                                              or re.search(r"\b(speak|talk|get me|connect|transfer|put me)\b", bare, re.I))
    if explicit or (ANGER.search(bare) and intent not in TASK_INTENTS):
        return Decision("handoff", {"summary": f"Shopper asked for a person: {text[:300]}"}, why="explicit request",
                        intent="human_agent")
    if intent == "human_agent":  # no person asked for: the message's other request (or its details) decides
        rest = [i for i in u.intents if i != "human_agent"]
        intent = next((i for i in rest if i in ORDER_INTENTS), rest[0] if rest else "out_of_scope")
    frustrated = streak >= FRUSTRATION_TURNS or (intent == "complaint" and streak >= FRUSTRATION_TURNS - 1)
    if frustrated and not memory.get("handed_off"):
        return Decision("handoff", {"summary": f"Frustrated shopper ({streak} negative messages): {text[:300]}"},
                        why="sustained frustration")
    if intent == "out_of_scope" and ABOUT_ME.search(text):
        intent = "privacy"  # "what do you know about me?"
    if memory.get("last_action") == "privacy" and "?" in text and not _has_shopping(ents) \
            and not getattr(ents, "order_ids", None) \
            and not any(rx.search(text) for name, rx in POLICY_TOPICS if name != "privacy"):
        intent = "privacy"  # "how long will that take?" continues the privacy request
    if getattr(ents, "order_ids", None) and intent not in ORDER_INTENTS and memory.get("last_action") not in ORDER_TOOLS:
        # An order id with an order request among the labels ("Where is ORD-1? my email is ..."): the order wins.
        intent = next((i for i in u.intents if i in ORDER_INTENTS),
                      "order_status" if intent in ("goodbye", "greeting", "out_of_scope", "privacy") else intent)
    if intent == "order_status" and getattr(ents, "order_ids", None) and RETURN_REQ.search(text) \
            and not STATUS_WORDS.search(text):
        intent = "return_refund"
    order_id = ((ents.order_ids[0] if getattr(ents, "order_ids", None) else None) or getattr(state, "order_id", None)
                or memory.get("order_id"))
    email = ((ents.emails[0] if getattr(ents, "emails", None) else None) or getattr(state, "email", None)
             or memory.get("email"))
    about_order = bool(getattr(ents, "order_ids", None)) or bool(MY_ORDER.search(text))
    gave_details = bool(getattr(ents, "order_ids", None) or getattr(ents, "emails", None))
    if gave_details and intent not in ORDER_INTENTS and memory.get("last_action") in ORDER_TOOLS:
        # "my email is ..." answers the question the previous order turn asked.
        return Decision(memory["last_action"], {"order_id": order_id, "email": email})
    if memory.get("last_action") in ORDER_TOOLS and not gave_details and "?" in text and not _has_shopping(ents):
        if memory.get("last_action") == "cancel_order" and INSTEAD.search(text):
            # A refused cancellation ("it has already shipped"): the policy says what to do instead.
            return Decision("policy_qa", {"question": "after it has shipped: refuse delivery or return it instead",
                                          "topic": "cancellations"}, intent="cancel_order")
        if STATUS_WORDS.search(text) and order_id and not any(rx.search(text) for _, rx in POLICY_TOPICS):
            # "roughly where is it right now?" asks the order just looked up again
            return Decision("order_status", {"order_id": order_id, "email": email}, intent="order_status")
        if CHARGED.search(text) and not STRONG_POLICY.search(text) \
                and not any(rx.search(text) for name, rx in POLICY_TOPICS if name not in ("refunds", "payment")):
            # "Was I charged for it?" is about that order's money: the refunds policy covers charges and
            # released authorisations of cancelled orders.
            return Decision("policy_qa", {"question": f"{text} cancelled order charged refund", "topic": "refunds"},
                            intent="return_refund")
    if intent not in ("privacy",) and not gave_details and _is_refinement(u, state, memory):
        intent = "recommend"  # the classifier often mislabels short follow-ups; the list on screen decides
    if STRONG_POLICY.search(text) and not gave_details and not about_order and "?" in text:
        topic = next((name for name, rx in POLICY_TOPICS if rx.search(text)), None)
        return Decision("policy_qa", {"question": text, "topic": topic})
    if memory.get("last_action") == "policy_qa" and memory.get("policy_topic") and not gave_details \
            and not about_order and not _has_shopping(ents) and "?" in text \
            and intent not in ("privacy", "greeting", "goodbye", "human_agent") \
            and not any(rx.search(text) for _, rx in POLICY_TOPICS):
        return Decision("policy_qa", {"question": text, "topic": memory["policy_topic"]})  # "does that include ...?"
    if intent in ("cancel_order", "return_refund") and not order_id and not about_order and "?" in text \
            and GENERAL_Q.search(text):  # "can I still cancel an order after it has shipped?" asks the policy
        topic = "cancellations" if intent == "cancel_order" else None
        topic = next((name for name, rx in POLICY_TOPICS if rx.search(text)), topic)
        return Decision("policy_qa", {"question": text, "topic": topic})
    if intent in ("out_of_scope", "search", "recommend", "product_question") and MY_ORDER.search(text) and order_id \
            and not _has_shopping(ents) and not any(rx.search(text) for _, rx in POLICY_TOPICS):
        intent = "order_status"  # "remind me what's in that order?" after the order was looked up
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
    if intent == "privacy" and not PRIVACY_WORDS.search(text):
        topic = next((name for name, rx in POLICY_TOPICS if rx.search(text) and name != "privacy"), None)
        if topic is not None:  # "my tracking hasn't updated" is about tracking, not about personal data
            return Decision("policy_qa", {"question": text, "topic": topic})
    if intent == "privacy":
        kind = next((k for k, rx in PRIVACY_KINDS if rx.search(text)), "info")
        if kind == "info" and "?" in text and not re.search(r"\b(about me|what (?:personal )?data)\b", text, re.I):
            # A specific question ("do you sell my data?") is answered from the privacy policy itself.
            return Decision("policy_qa", {"question": text, "topic": "privacy"}, intent="privacy")
        return Decision("privacy", {"request": kind})
    if intent == "greeting" and (not _has_shopping(ents) or (u.sentiment == "positive" and not REQUEST.search(text))):
        return Decision("greeting")
    if intent == "goodbye" and (BYE.search(text) or not _has_shopping(ents)):
        return Decision("goodbye")
    refs = _referenced(ents, state)
    mentions = list(getattr(ents, "product_mentions", None) or [])
    if intent in ("search", "recommend", "out_of_scope") and mentions and (QUESTION_START.search(text) or "?" in text) \
            and not (len(mentions) >= 2 and COMPARE_WORDS.search(text)) and not REQUEST_WORDS.search(text):
        intent = "product_question"  # "Does the <named product> come in green?" asks about that product
    if intent in ("search", "recommend", "out_of_scope") and not mentions and QUESTION_START.search(text) \
            and PRONOUN.search(text) and not REFINE.search(text) and not CHEAPER.search(text) \
            and not getattr(ents, "categories", None) and getattr(ents, "price_max", None) is None \
            and getattr(ents, "price_min", None) is None and (refs or _focus(state)):
        intent = "product_question"  # "and is it ok in the rain" asks about the product being discussed
    shown = list(getattr(state, "shown", []) or [])
    if intent == "product_question" and len(refs) < 2 and len(shown) >= 2 and WHICH_ONE.search(text):
        intent = "compare"  # "which one has the longer battery life?" weighs the products on screen
    if intent == "compare" and len(refs) < 2 and not COMPARE_WORDS.search(text) and not WHICH_ONE.search(text) \
            and "?" in text \
            and (refs or _focus(state)):
        intent = "product_question"  # "are they on-ear or over-ear?" asks about one product
    if intent in ("search", "recommend") and "?" in text and PRICE_STOCK_Q.search(text) and PRONOUN.search(text) \
            and not _has_shopping(ents) and (refs or _focus(state)) and not re.search(r"\bdo you (?:sell|carry|have)\b",
                                                                                     text, re.I):
        intent = "product_question"  # "how much do they cost?" is about the product on screen
    if intent == "compare":
        ids = refs if len(refs) >= 2 else (refs + [p for p in getattr(state, "shown", [])[:3] if p not in refs])[:2]
        if len(refs) < 2 and WHICH_ONE.search(text):
            ids = shown[:3]  # "which one ...?" asks across everything on screen
        return Decision("compare", {"product_ids": ids})
    if intent == "product_question":
        topic = next((name for name, rx in POLICY_TOPICS if rx.search(text)), None)
        if topic in ("warranty", "price_match", "shipping", "returns", "refunds", "gift_cards", "payment"):
            return Decision("policy_qa", {"question": text, "topic": topic})  # "what's the warranty on it?"
        if (getattr(ents, "price_max", None) is not None or getattr(ents, "price_min", None) is not None) \
                and "?" not in text and getattr(state, "shown", None):
            intent = "recommend"  # "under $250" after a list is a refinement, not a question
    if intent == "product_question":
        pid = refs[0] if refs else _focus(state)
        if pid is None:
            return _clarify(memory, "Which product do you mean? You can name it or say \"the first one\".")
        if PRICE_STOCK_Q.search(text) and not re.search(r"\b(review|say|said|think)", text, re.I):
            return Decision("product_details", {"product_id": pid})  # the record answers, not the reviews
        return Decision("product_qa", {"product_id": pid, "question": text})
    rejected = bool(shown) and REJECT.search(text) is not None and memory.get("last_action") in ("recommend",
                                                                                                   "search_products")
    refining = bool(getattr(state, "shown", None)) and (REFINE.search(text) is not None or getattr(ents, "negated_brands", None)
                                                         or getattr(ents, "price_max", None) is not None or rejected)
    if (u.sentiment == "negative" or intent not in ("recommend", "search")) and not REQUEST.search(text) \
            and POLICY_TOPICS[0][1].search(text):
        return Decision("policy_qa", {"question": text, "topic": "warranty"})  # "my headphones stopped working"
    if intent in ("recommend", "search", "out_of_scope") and not _has_shopping(ents) and not refining:
        # "do you price match?" is a policy question whatever the classifier thought.
        topic = next((name for name, rx in POLICY_TOPICS if rx.search(text)), None)
        if topic is not None:
            return Decision("policy_qa", {"question": text, "topic": topic})
    if intent in ("recommend", "search") or _has_shopping(ents) or (intent == "out_of_scope" and refining):
        cons = constraints_of(state, ents)
        m = PRICE_CAP.search(text)
        if m:  # the budget as typed ("I'd rather not spend more than $90", "my budget is $60")
            cons["price_max"] = float(m.group(1))
            if cons["price_min"] is not None and (cons["price_min"] >= cons["price_max"] or not FLOOR.search(text)):
                cons["price_min"] = None  # "more than $90" inside "not ... more than $90" is no floor
            _set_budget(ents, state, cons["price_min"], cons["price_max"])
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
        follow_up = None
        if rejected:
            # "None of those": don't show them again, and ask for what would narrow the search down.
            if memory.get("rejected_cat") != cons["category"]:
                memory["rejected"], memory["rejected_cat"] = [], cons["category"]
            memory["rejected"] = list(dict.fromkeys([*memory.get("rejected", []), *shown]))
            exclude = list(dict.fromkeys([*exclude, *memory["rejected"]]))
            follow_up = _narrowing_question(cons)
        return Decision("recommend", {"query": text, **cons, "exclude_ids": exclude or None}, follow_up=follow_up)
    if intent == "out_of_scope" and NEED.search(text) and not memory.get("asked_clarify"):
        return _clarify(memory, "What kind of product are you looking for (for example headphones, "
                                "running shoes or a coffee maker), and is there a budget?", intent="recommend")
    return Decision("out_of_scope")


FLOOR = re.compile(r"\b(over|above|at least|more than|between|from|starting at)\s*\$?\d", re.I)


def _set_budget(ents: Any, state: Any, pmin: float | None, pmax: float | None) -> None:
    """The typed budget is what was understood (reported entities) and what later turns keep."""
    for obj in (ents, getattr(state, "constraints", None)):
        if obj is None or isinstance(obj, dict):
            continue
        for name, val in (("price_min", pmin), ("price_max", pmax)):
            if hasattr(obj, name):
                with contextlib.suppress(AttributeError, TypeError):  # frozen: the decision still holds
                    setattr(obj, name, val)


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


def _is_refinement(u: Any, state: Any, memory: dict[str, Any]) -> bool:
    """A short message that narrows the products just shown (price, attribute) rather than a new request."""
    text, ents = u.text, u.entities
    if not getattr(state, "shown", None) or memory.get("last_action") not in ("recommend", "search_products"):
        return False
    if len(text.split()) > 12 or BYE.search(text) or COMPARE_WORDS.search(text) or PERSON.search(text) \
            or MY_ORDER.search(text) or getattr(ents, "references", None) or getattr(ents, "product_mentions", None):
        return False
    if any(rx.search(text) for _, rx in POLICY_TOPICS):
        return False
    if REJECT.search(text):
        return True  # "none of those": a new list in the same topic
    priced = getattr(ents, "price_max", None) is not None or getattr(ents, "price_min", None) is not None \
        or PRICE_CAP.search(text) is not None
    return ("?" not in text and (priced or bool(REFINE_START.search(text)) or bool(REFINE_END.search(text))
                                 or bool(getattr(ents, "attributes", None))))


def secondary(u: Any, state: Any, memory: dict[str, Any], first: Decision) -> Decision | None:
    """The second request of a two-request message ("order status ... and show me pans"), if any."""
    ents, text = u.entities, u.text
    intents = set(u.intents)
    also = intents & {"search", "recommend"} or re.search(r"\b(also|too|as well|plus)\b", text, re.I)
    if first.action in ("policy_qa", *ORDER_TOOLS) and also and _has_shopping(ents):
        cons = constraints_of(state, ents)
        return Decision("recommend", {"query": text, **cons})
    if first.action == "recommend":
        order_id = ents.order_ids[0] if getattr(ents, "order_ids", None) else None
        if order_id and "order_status" in intents:
            email = (ents.emails[0] if getattr(ents, "emails", None) else None) or memory.get("email")
            return Decision("order_status", {"order_id": order_id, "email": email})
        if intents & {"return_refund", "shipping", "payment"} or STRONG_POLICY.search(text):
            topic = next((name for name, rx in POLICY_TOPICS if rx.search(text)), None)
            if topic is not None:
                return Decision("policy_qa", {"question": text, "topic": topic})
    return None


def _frustrated_message(u: Any) -> bool:
    """Negative and not a task: "not Sony, cheaper" is a refinement, "this is useless" is frustration."""
    intent = u.intents[0] if u.intents else "out_of_scope"
    return u.sentiment == "negative" and intent not in TASK_INTENTS


def _has_shopping(ents: Any) -> bool:
    return bool(getattr(ents, "categories", None) or getattr(ents, "brands", None)
                or getattr(ents, "product_mentions", None))


def _narrowing_question(cons: dict[str, Any]) -> str:
    """The one question that would narrow the search most: the kind of product, then budget, then taste."""
    if not cons.get("category"):
        return KIND_QUESTION
    if cons.get("price_max") is None and cons.get("price_min") is None:
        return "Is there a budget, or a brand you prefer?"
    return "Is there a brand or a feature that matters to you?"


def _clarify(memory: dict[str, Any], question: str, intent: str | None = None) -> Decision:
    return Decision("clarify", clarify=question, why="under-specified", intent=intent)


# The intent each tool serves; reported as the turn's intent when the classifier's label named another.
ACTION_INTENTS = {"product_qa": "product_question", "product_details": "product_question", "compare": "compare",
                  "order_status": "order_status", "cancel_order": "cancel_order", "return_or_refund": "return_refund",
                  "privacy": "privacy"}
TOPIC_INTENTS = {"shipping": "shipping", "order_tracking": "shipping", "payment": "payment", "returns": "return_refund",
                 "refunds": "return_refund", "cancellations": "cancel_order", "privacy": "privacy"}
# Labels that cannot describe a turn the policy served with a tool.
OFF_LABELS = frozenset({"out_of_scope", "greeting", "goodbye", "privacy", "human_agent", "search", "recommend"})


def resolved_intents(u: Any, decision: Decision) -> list[str]:
    """The intents the turn was served as: the classifier's labels, with the one the policy acted on first.

    The policy overrides the classifier from context (a follow-up after a list, an order id, the
    previous topic); the Understood event reports what the assistant did, not the raw label."""
    labels = list(u.intents or [])
    act = decision.action
    if labels[:1] == ["human_agent"] and act != "handoff" and len(labels) > 1:
        labels = labels[1:] + ["human_agent"]  # no person was asked for: the other request was served
    primary = labels[0] if labels else "out_of_scope"
    want = decision.intent
    if want is None and act in ACTION_INTENTS:
        want = ACTION_INTENTS[act]
    elif want is None and act in ("recommend", "search_products") and primary not in ("recommend", "search"):
        want = "recommend"
    elif want is None and act == "policy_qa" and primary in OFF_LABELS:
        want = TOPIC_INTENTS.get(str(decision.args.get("topic")))
    if want is None or want == primary:
        return labels or [primary]
    return [want] + [i for i in labels if i != want]


def update_memory(memory: dict[str, Any], u: Any, decision: Decision) -> None:
    """Remember what later turns need: whether we already asked, frustration, order id and email."""
    memory["asked_clarify"] = decision.action == "clarify"
    memory["last_action"] = decision.action
    if decision.action == "policy_qa":
        memory["policy_topic"] = decision.args.get("topic")
    memory["negative_streak"] = int(memory.get("negative_streak", 0)) + 1 if _frustrated_message(u) else 0
    if decision.action == "handoff":
        memory["negative_streak"] = 0
        memory["handed_off"] = True
    ents = u.entities
    if getattr(ents, "order_ids", None):
        memory["order_id"] = ents.order_ids[0]
    if getattr(ents, "emails", None):
        memory["email"] = ents.emails[0]
