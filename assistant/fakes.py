"""Small deterministic stand-ins for the NLU and dialogue state, for fast engine tests.

The real ones (``assistant.nlu.NLU``, ``assistant.state.DialogueState``) load trained models;
these use keyword rules plus the real (pure) entity extractor, so the engine's tests exercise
the same Understanding / Entities types.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.nlu.core import Understanding
from assistant.nlu.entities import Entities, extract
from assistant.nlu.gazetteer import Gazetteer

_RULES = [
    ("human_agent", r"\b(human|person|agent|representative|someone real)\b"),
    ("privacy", r"\b(my data|personal data|privacy|opt[- ]?out|delete my|export my|gdpr)\b"),
    ("cancel_order", r"\bcancel\b"),
    ("return_refund", r"\b(return|refund|send (it|them) back)\b"),
    ("order_status", r"\b(where is|track|status|ORD-\d{6}|my order|delivery of)\b"),
    ("shipping", r"\b(shipping|ship|deliver)\b"),
    ("payment", r"\b(pay|payment|paypal|credit card|gift card)\b"),
    ("compare", r"\b(compare|vs\.?|versus|difference between|which is better)\b"),
    ("product_question", r"\b(reviews?|battery|does it|is it|how (?:long|heavy|loud)|what do people)\b"),
    ("complaint", r"\b(terrible|awful|angry|useless|worst|broken|ridiculous)\b"),
    ("greeting", r"^\s*(hi|hello|hey)\b"),
    ("goodbye", r"\b(bye|goodbye|thanks,? that's all)\b"),
    ("recommend", r"\b(recommend|suggest|looking for|need|want|gift|show me|something|cheaper|under|\$)\b"),
]
_NEG = re.compile(r"\b(terrible|awful|angry|useless|worst|broken|ridiculous|hate|annoyed|not helpful)\b", re.I)
_POS = re.compile(r"\b(love|great|perfect|thanks|awesome|like)\b", re.I)


class KeywordNLU:
    def __init__(self, products: list[Any]) -> None:
        self.gazetteer = Gazetteer.from_products(products)

    def understand(self, text: str, state: Any = None) -> Understanding:
        ents = extract(text, self.gazetteer)
        intents = [name for name, rx in _RULES if re.search(rx, text, re.I)]
        if not intents:
            intents = ["recommend"] if ents.categories or ents.brands else ["out_of_scope"]
        sentiment = "negative" if _NEG.search(text) else ("positive" if _POS.search(text) else "neutral")
        return Understanding(text, intents, 0.9, ents, sentiment, {"negative": -0.8, "positive": 0.8}.get(sentiment, 0.0),
                             False)


class SimpleState:
    """Constraints merged across turns (newer wins), shown products, references."""

    def __init__(self) -> None:
        self.constraints: dict[str, Any] = {}
        self.shown: list[str] = []
        self.focus: str | None = None

    def update(self, u: Understanding) -> None:
        e: Entities = u.entities
        if e.categories:
            if self.constraints.get("categories") != e.categories:
                self.constraints = {}
            self.constraints["categories"] = list(e.categories)
        for key in ("price_min", "price_max"):
            if getattr(e, key) is not None:
                self.constraints[key] = getattr(e, key)
        if e.brands:
            self.constraints["brands"] = list(e.brands)
        if e.negated_brands:
            self.constraints["negated_brands"] = sorted(set(self.constraints.get("negated_brands", [])) | set(e.negated_brands))
            self.constraints["brands"] = [b for b in self.constraints.get("brands", []) if b not in e.negated_brands]
        if e.attributes:
            self.constraints["attributes"] = {**self.constraints.get("attributes", {}), **e.attributes}

    def set_shown(self, ids: list[str]) -> None:
        self.shown = list(ids)
        self.focus = ids[0] if len(ids) == 1 else self.focus

    def resolve(self, ref: int | str) -> str | None:
        if isinstance(ref, int):
            return self.shown[ref] if -len(self.shown) <= ref < len(self.shown) else None
        if ref == "last":
            return self.focus or (self.shown[0] if self.shown else None)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"constraints": self.constraints, "shown": self.shown, "focus": self.focus}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SimpleState:
        s = cls()
        s.constraints, s.shown, s.focus = dict(d.get("constraints", {})), list(d.get("shown", [])), d.get("focus")
        return s
