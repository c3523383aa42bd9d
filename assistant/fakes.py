"""A deterministic stand-in for the NLU, and a demo-shop Assistant builder, for fast engine tests.

The real ``assistant.nlu.NLU`` loads a trained classifier and MiniLM; ``KeywordNLU`` uses keyword
rules plus the real (pure) entity extractor, so tests exercise the same Understanding / Entities.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.nlu.core import Understanding
from assistant.nlu.entities import extract
from assistant.nlu.gazetteer import Gazetteer

_RULES = [
    ("human_agent", r"\b(human|person|agent|representative|someone real)\b"),
    ("privacy", r"\b(my data|personal data|privacy|opt[- ]?out|delete my|export my|gdpr|store about me)\b"),
    ("cancel_order", r"\bcancel\b"),
    ("return_refund", r"\b(return|refund|send (it|them) back)\b"),
    ("order_status", r"\b(where is|track|status|ORD-\d{6}|my order|delivery of)\b"),
    ("shipping", r"\b(shipping|ship|deliver)\b"),
    ("payment", r"\b(pay|payment|paypal|credit card|gift card|price match|warranty)\b"),
    ("compare", r"\b(compare|vs\.?|versus|difference between|which is better)\b"),
    ("product_question", r"\b(reviews?|battery|does it|is it|is the|how (?:long|heavy|loud)|what do people|tell me about|comfortable)\b"),
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


def demo_assistant(db_url: str, model: Any = None, *, history: bool = False, timeout_s: float = 30.0,
                   queue_size: int = 4, retriever: bool = True, recommender: Any = None) -> Any:
    """An Assistant over the packaged demo shop with fakes for NLU/state and the given ChatModel
    (template by default): the whole pipeline in well under a second, for tests and examples."""
    from dataclasses import replace

    from assistant.engine import Assistant
    from assistant.generate.base import TemplateChatModel
    from assistant.generate.grounding import Grounder
    from assistant.generate.runner import Generator
    from assistant.settings import Settings
    from assistant.shopindex import ShopIndex
    from assistant.state import DialogueState
    from assistant.store import Store
    from knowledge.catalog import Catalog
    from knowledge.demo import load_demo

    demo = load_demo()
    store = Store(db_url)
    store.load_demo(demo if history else replace(demo, interactions=[]))
    catalog = Catalog(demo.products, demo.reviews, demo.policies)
    shop = ShopIndex.from_catalog(catalog)
    shop.add_popularity(store)
    rtr = None
    if retriever:
        from knowledge.retrieve import Retriever

        rtr = Retriever(catalog, None, None)  # lexical only: no embedder, no vector store
    gen = Generator(model or TemplateChatModel(), Grounder(demo.products), timeout_s=timeout_s, queue_size=queue_size)
    settings = Settings(generator_backend="template", data_dir=Path(db_url.removeprefix("sqlite:///")).parent)
    return Assistant(settings, shop=shop, nlu=KeywordNLU(demo.products), store=store, generator=gen,
                     state_factory=DialogueState, retriever=rtr, recommender=recommender)
