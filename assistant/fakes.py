"""Test seams: a scripted reader (commands given per message, no model) and a demo-shop Assistant
builder for fast engine tests.

``ScriptedReader`` lets a test state exactly which commands a message gives, so policy and engine
behaviour is tested without any model; ``demo_assistant`` wires the packaged demo shop with the
template chat model and, unless told otherwise, the real packaged parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.nlu.commands import Command, OutOfScope
from assistant.nlu.read import Context
from assistant.nlu.reader import Reading, clean_text


@dataclass
class ScriptedReader:
    """message -> commands, from a dict or a function; anything else is out of scope."""

    script: dict[str, list[Command]] | Callable[[str], list[Command]] = field(default_factory=dict)
    sentiment: dict[str, float] = field(default_factory=dict)  # message -> sentiment score
    resolver: Any = None

    def read(self, text: object, context: Context | None = None) -> Reading:
        clean = clean_text(text)
        got = self.script(clean) if callable(self.script) else self.script.get(clean)
        commands: list[Command] = list(got) if got else [OutOfScope(clean)]
        score = self.sentiment.get(clean, 0.0)
        label = "negative" if score < -0.25 else "positive" if score > 0.25 else "neutral"
        return Reading(clean, commands, 1.0, "scripted", label, score)


def demo_reader(products: list[Any], embed: Any = None, parser: Any = None) -> Any:
    """The real reader over the packaged parser (no LLM); sentiment only when an embedder is given.
    ``parser``: an already loaded packaged parser to share (tests load it once a session)."""
    from assistant.nlu.parser import FastParser
    from assistant.nlu.reader import Reader
    from assistant.nlu.resolve import Resolver
    from assistant.nlu.sentiment import load_sentiment
    from assistant.nlu.vocab import ShopVocab

    return Reader(
        parser or FastParser(),
        Resolver(ShopVocab(products), embed=embed),
        load_sentiment(embed) if embed is not None else None,
    )


def demo_assistant(
    db_url: str,
    model: Any = None,
    *,
    history: bool = False,
    timeout_s: float = 30.0,
    queue_size: int = 4,
    retriever: bool = True,
    recommender: Any = None,
    reader: Any = None,
) -> Any:
    """An Assistant over the packaged demo shop with the given ChatModel (template by default) and reader
    (the real packaged parser by default): the whole pipeline in about a second, for tests and examples."""
    from dataclasses import replace

    from assistant.engine import Assistant
    from assistant.generate.base import TemplateChatModel
    from assistant.generate.grounding import Grounder
    from assistant.generate.runner import Generator
    from assistant.settings import Settings
    from assistant.shopindex import ShopIndex
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
    gen = Generator(
        model or TemplateChatModel(), Grounder(demo.products), timeout_s=timeout_s, queue_size=queue_size
    )
    settings = Settings(generator_backend="template", data_dir=Path(db_url.removeprefix("sqlite:///")).parent)
    return Assistant(
        settings,
        shop=shop,
        reader=reader or demo_reader(list(demo.products)),
        store=store,
        generator=gen,
        retriever=rtr,
        recommender=recommender,
        catalog=catalog,
    )
