"""Intent decision logic, clause splitting, the npz model format and the LLM fallback (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ModelMissingError
from assistant.nlu.data import INTENTS
from assistant.nlu.intent import IntentClassifier, llm_fallback, split_clauses
from assistant.nlu.linear import SoftmaxModel, fit_temperature, softmax


def model(labels: list[str] = list(INTENTS)) -> SoftmaxModel:  # noqa: B006
    rng = np.random.default_rng(0)
    return SoftmaxModel(rng.normal(size=(8, len(labels))).astype(np.float32), np.zeros(len(labels), np.float32), labels)


def onehot(label: str, p: float) -> np.ndarray:
    row = np.full(len(INTENTS), (1 - p) / (len(INTENTS) - 1))
    row[INTENTS.index(label)] = p
    return row


@pytest.mark.parametrize("text,parts", [
    ("where is my order, and do you sell chargers?", ["where is my order", "do you sell chargers?"]),
    ("Hi! I need a jacket. Also can I pay with PayPal?", ["Hi!", "I need a jacket.", "Also can I pay with PayPal?"]),
    ("black and white headphones", ["black and white headphones"]),
    ("cancel ORD-104233 but track ORD-552019", ["cancel ORD-104233", "track ORD-552019"]),
    ("", []),
])
def test_split_clauses(text: str, parts: list[str]) -> None:
    assert split_clauses(text) == parts


def test_two_confident_clauses_yield_two_intents() -> None:
    clf = IntentClassifier(model())
    probs = np.stack([onehot("order_status", 0.7), onehot("order_status", 0.9), onehot("search", 0.8)])
    res = clf.decide(probs)
    assert res.intents == ["order_status", "search"] and not res.needs_clarification


def test_unsure_clause_is_dropped_and_unsure_message_asks_to_clarify() -> None:
    clf = IntentClassifier(model())
    res = clf.decide(np.stack([onehot("search", 0.9), onehot("search", 0.9), onehot("payment", 0.4)]))
    assert res.intents == ["search"]
    res = clf.decide(np.stack([onehot("compare", 0.3)]))
    assert res.needs_clarification and res.confidence == pytest.approx(0.3)


def test_unclear_message_with_clear_parts_leads_with_the_clearest_part() -> None:
    clf = IntentClassifier(model())
    res = clf.decide(np.stack([onehot("complaint", 0.3), onehot("greeting", 0.7), onehot("order_status", 0.95)]))
    assert res.intents[0] == "order_status" and "greeting" in res.intents and not res.needs_clarification


def test_two_requests_lead_in_the_order_asked() -> None:
    clf = IntentClassifier(model())
    # The whole message reads as the second request, but the first clause asked something else first.
    whole = onehot("search", 0.6)
    whole[INTENTS.index("cancel_order")] = 0.3
    res = clf.decide(np.stack([whole, onehot("cancel_order", 0.9), onehot("search", 0.85)]))
    assert res.intents == ["cancel_order", "search"] and res.confidence == pytest.approx(0.9)
    # A clause that merely looks like a request, where the whole message does not, does not lead.
    res = clf.decide(np.stack([onehot("return_refund", 0.9), onehot("search", 0.9), onehot("return_refund", 0.95)]))
    assert res.intents[0] == "return_refund"


def test_framing_clauses_do_not_lead() -> None:
    clf = IntentClassifier(model())
    res = clf.decide(np.stack([onehot("payment", 0.8), onehot("greeting", 0.95), onehot("payment", 0.9)]))
    assert res.intents == ["payment", "greeting"]
    res = clf.decide(np.stack([onehot("shipping", 0.8), onehot("complaint", 0.9), onehot("shipping", 0.9)]))
    assert res.intents[0] == "shipping"
    # Search then recommend is one shopping request, not two: the whole-message reading stands.
    res = clf.decide(np.stack([onehot("recommend", 0.8), onehot("search", 0.9), onehot("recommend", 0.9)]))
    assert res.intents[0] == "recommend"


def test_a_clause_asking_for_a_person_leads_over_anger() -> None:
    clf = IntentClassifier(model())
    res = clf.decide(np.stack([onehot("complaint", 0.7), onehot("complaint", 0.8), onehot("human_agent", 0.75)]))
    assert res.intents == ["human_agent", "complaint"] and not res.needs_clarification
    res = clf.decide(np.stack([onehot("complaint", 0.7), onehot("complaint", 0.8), onehot("human_agent", 0.5)]))
    assert res.intents == ["complaint"]  # an unsure clause is not an ask
    res = clf.decide(np.stack([onehot("greeting", 0.7), onehot("greeting", 0.9), onehot("human_agent", 0.8)]))
    assert res.intents[0] == "greeting"  # "hi, anyone there?" is a greeting, not a hand-off


def test_labels_outside_taxonomy_are_rejected() -> None:
    with pytest.raises(ValueError, match="retrain"):
        IntentClassifier(model(["greeting", "track_order"]))


def test_npz_round_trip_without_pickle(tmp_path: Path) -> None:
    m = model()
    m.temperature = 0.7
    m.save(tmp_path / "intent")
    back = SoftmaxModel.load(tmp_path / "intent")
    x = np.random.default_rng(1).normal(size=(5, 8)).astype(np.float32)
    assert back.labels == m.labels and back.temperature == pytest.approx(0.7)
    np.testing.assert_allclose(back.predict_proba(x), m.predict_proba(x), rtol=1e-5)
    assert json.loads((tmp_path / "intent.json").read_text())["labels"] == list(INTENTS)
    with pytest.raises(ModelMissingError, match="aisle train nlu"):
        SoftmaxModel.load(tmp_path / "missing")


def test_temperature_scaling_softens_an_overconfident_model() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 4)).astype(np.float32)
    y_idx = (x[:, 0] + rng.normal(scale=1.5, size=400) > 0).astype(int)  # noisy labels
    w = np.zeros((4, 2), np.float32)
    w[0] = [-20.0, 20.0]  # logit gap of 40 * x0: near-certain on every row
    m = SoftmaxModel(w, np.zeros(2, np.float32), ["neg", "pos"])
    y = [m.labels[i] for i in y_idx]
    t = fit_temperature(m, x, y)
    assert t > 2.0  # the scores were far too sharp for such noisy labels
    assert softmax(m.logits(x) / t).max(axis=1).mean() < softmax(m.logits(x)).max(axis=1).mean()


class FakeChat:
    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.seen: list = []

    def stream(self, messages, **opts):  # noqa: ANN001, ANN201
        self.seen.append(messages)
        if isinstance(self.reply, Exception):
            raise self.reply
        yield from [self.reply[:5], self.reply[5:]]


def test_llm_fallback_parses_json_and_never_raises() -> None:
    chat = FakeChat('Sure: {"intent": "compare", "confidence": 0.8}')
    assert llm_fallback("which is better?", chat) == ("compare", 0.8)
    assert "compare" in chat.seen[0][0]["content"]  # the taxonomy is in the system prompt
    assert llm_fallback("x", FakeChat('{"intent": "buy_stuff"}')) is None
    assert llm_fallback("x", FakeChat("no json here")) is None
    assert llm_fallback("x", FakeChat(RuntimeError("backend down"))) is None
    assert llm_fallback("x", lambda messages: '{"intent": "greeting", "confidence": 2}') == ("greeting", 1.0)
