"""Intent classification over clause-split messages, with calibrated confidence and an optional
LLM JSON fallback for low-confidence messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np

from assistant.nlu.data import INTENTS
from assistant.nlu.linear import SoftmaxModel

CLARIFY_BELOW = 0.45  # calibrated confidence under which we ask a clarifying question
CLAUSE_KEEP = 0.6  # a secondary clause's intent is kept only when this confident
# Requests the shopper wants acted on. When a message holds two of them, they are answered in the
# order asked (greetings, thanks and complaints are framing, not requests, so they never lead), but
# only when the whole message gives the first one at least MIXED: in "the shoes are too small, can
# I exchange them?" a clause looks like search, yet the message is one return.
MIXED = 0.1
REQUESTS = frozenset({"recommend", "search", "compare", "product_question", "order_status", "cancel_order",
                      "return_refund", "shipping", "payment", "privacy"})

# Whole-message readings that a clause asking for a person overrides ("hi, anyone there?" stays a greeting).
VENTING = frozenset({"complaint", "out_of_scope"})

_SENTENCE = re.compile(r"(?<=[?!.;])\s+|\n+")
_LEADS = (r"(?:do|does|did|can|could|is|are|was|where|what|when|how|why|will|would|i|i'm|im|please|also|"
          r"tell|show|find|cancel|track|get|and|my|any|have|has|who|which|let|send|give|you)")
_CONJ = re.compile(rf"(?:,\s*|\s+)(?:and|but|also|plus|then)\s+(?={_LEADS}\b)|,\s+(?={_LEADS}\b)", re.I)


def split_clauses(text: str, max_clauses: int = 4) -> list[str]:
    """Split a message into request-sized clauses ("where is my order, and do you sell chargers?")."""
    parts: list[str] = []
    for sent in _SENTENCE.split(text):
        parts.extend(p.strip(" ,;") for p in _CONJ.split(sent))
    parts = [p for p in parts if len(re.findall(r"\w+", p)) >= 1]
    if len(parts) > max_clauses:
        parts = parts[: max_clauses - 1] + [" ".join(parts[max_clauses - 1:])]
    return parts


@dataclass
class IntentResult:
    intents: list[str]
    confidence: float
    needs_clarification: bool


class IntentClassifier:
    def __init__(self, model: SoftmaxModel, clarify_below: float = CLARIFY_BELOW,
                 clause_keep: float = CLAUSE_KEEP) -> None:
        unknown = set(model.labels) - set(INTENTS)
        if unknown:
            raise ValueError(f"intent model has labels outside the taxonomy: {sorted(unknown)}; retrain it")
        self.model = model
        self.clarify_below = clarify_below
        self.clause_keep = clause_keep

    def decide(self, probs: np.ndarray) -> IntentResult:
        """probs: row 0 = the whole message, rows 1.. = its clauses (if it has more than one)."""
        labels = self.model.labels
        top = int(probs[0].argmax())
        primary, conf = labels[top], float(probs[0, top])
        intents = [primary]
        best_clause = 0.0
        for row in probs[1:]:
            i = int(row.argmax())
            best_clause = max(best_clause, float(row[i]))
            if float(row[i]) >= self.clause_keep and labels[i] not in intents:
                intents.append(labels[i])
        if conf < self.clarify_below and len(intents) > 1:
            # The whole message is unclear but its parts are not: lead with the most confident part.
            order = sorted(range(1, len(probs)), key=lambda r: -float(probs[r].max()))
            first = labels[int(probs[order[0]].argmax())]
            intents = [first] + [x for x in intents if x != first]
            conf = float(probs[order[0]].max())
        lead = self._lead(probs, intents)
        if lead is not None:
            intents, conf = [lead[0]] + [x for x in intents if x != lead[0]], lead[1]
        return IntentResult(intents, round(conf, 4), conf < self.clarify_below)

    def _lead(self, probs: np.ndarray, intents: list[str]) -> tuple[str, float] | None:
        """A different primary than the whole-message guess, with its clause's confidence, or None.

        An explicit ask for a person leads when the rest is venting ("so annoyed, get me an agent"):
        the hand-off is what they asked for. Otherwise two confident requests lead in clause order.
        """
        labels = self.model.labels
        confident = [(labels[int(r.argmax())], float(r.max())) for r in probs[1:] if float(r.max()) >= self.clause_keep]
        agent = [c for lab, c in confident if lab == "human_agent"]
        if agent and intents[0] in VENTING:
            return "human_agent", max(agent)
        asked: list[tuple[str, float]] = []
        for lab, c in confident:
            if lab in REQUESTS and _kind(lab) not in [_kind(a) for a, _ in asked]:
                asked.append((lab, c))
        if len(asked) >= 2 and intents[0] in REQUESTS and _kind(asked[0][0]) != _kind(intents[0]) \
                and float(probs[0, labels.index(asked[0][0])]) >= MIXED:
            return asked[0]
        return None


def _kind(intent: str) -> str:
    """Search and recommend are one request seen two ways ("I don't know speakers, what's safe?")."""
    return "shopping" if intent in ("search", "recommend") else intent


def _prompt() -> dict:
    import yaml

    return yaml.safe_load(resources.files("assistant.nlu").joinpath("prompts/intent_fallback.yaml").read_text("utf-8"))


def llm_fallback(text: str, llm: Callable | object) -> tuple[str, float] | None:  # type: ignore[type-arg]
    """Ask a chat model for {"intent", "confidence"} as JSON. Any failure returns None (never raises)."""
    try:
        p = _prompt()
        messages = [{"role": "system", "content": p["system"].replace("{intents}", ", ".join(INTENTS))},
                    {"role": "user", "content": p["user"].replace("{text}", text[:1000])}]
        stream = getattr(llm, "stream", None)
        raw = "".join(stream(messages, max_tokens=60)) if stream else str(llm(messages))  # type: ignore[operator]
        m = re.search(r"\{.*\}", raw, re.S)
        obj = json.loads(m.group()) if m else {}
        intent = str(obj.get("intent", "")).strip()
        if intent not in INTENTS:
            return None
        return intent, float(min(1.0, max(0.0, float(obj.get("confidence", 0.5)))))
    except Exception:  # noqa: BLE001 - the fallback is best-effort; the classifier's answer stands
        return None
