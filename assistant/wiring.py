"""The composition root: ``build_assistant(settings)`` wires the real components once.

Used by the server, the CLI, the evaluation sandbox and the benchmarks. Libraries (knowledge,
recommender) get plain values from here; nothing below reads settings on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.engine import Assistant
    from assistant.nlu.reader import Reader
    from assistant.settings import Settings
    from knowledge.embed import Embedder

log = logging.getLogger(__name__)


def build_assistant(settings: Settings, *, catalog: Any | None = None, warm: bool = True) -> Assistant:
    """Catalog, store, shop index, reader, retriever, recommender and chat model, from settings."""
    from assistant.components import embedder_from_settings
    from assistant.engine import Assistant
    from assistant.experiments import ExperimentBook
    from assistant.generate.base import make_chat_model
    from assistant.generate.grounding import Grounder
    from assistant.generate.runner import Generator
    from assistant.shopindex import ShopIndex
    from assistant.store import Store
    from assistant.threads import apply_thread_budget

    apply_thread_budget(settings.inference_threads)  # before any model loads: see assistant/threads.py
    catalog = catalog if catalog is not None else load_shop_catalog(settings)
    store = Store.from_settings(settings)
    shop = ShopIndex.from_catalog(catalog, now=settings.shop_now)
    shop.add_popularity(store)
    embedder = embedder_from_settings(settings)  # one embedding model for the reader and the retriever
    reader = build_reader(settings, list(shop.products.values()), embedder)
    retriever = optional("retriever", lambda: _retriever(settings, catalog, embedder))
    recommender = optional("recommender", lambda: _recommender(settings))
    generator = Generator(
        make_chat_model(settings),
        Grounder(list(shop.products.values())),
        timeout_s=settings.generation_timeout_s,
        queue_size=settings.generation_queue,
    )
    assistant = Assistant(
        settings,
        shop=shop,
        reader=reader,
        store=store,
        generator=generator,
        retriever=retriever,
        recommender=recommender,
        catalog=catalog,
        suggest=reader.resolver.suggest,
        experiments=ExperimentBook.from_settings(settings),
    )
    if warm:
        assistant.warm()
    return assistant


def load_shop_catalog(settings: Settings) -> Any:
    from knowledge.catalog import load_demo_catalog
    from knowledge.snapshot import load_catalog

    try:
        return load_catalog(settings.data_dir)
    except Exception as exc:  # nothing ingested yet: the demo shop ships as package data
        log.warning("no ingested catalog (%s); using the demo shop", exc)
        return load_demo_catalog()


def parser_folder(settings: Settings) -> Path:
    """The shop's own trained parser when there is one, else the packaged demo-shop parser."""
    from assistant.nlu.parser import ARTIFACTS

    if settings.parser_path is not None:
        return settings.parser_path
    own = settings.data_dir / "parser"
    return own if (own / "parser.json").is_file() else ARTIFACTS


def build_reader(settings: Settings, products: list[Any], embedder: Embedder | None = None) -> Reader:
    from assistant.nlu.parser import FastParser
    from assistant.nlu.reader import Reader
    from assistant.nlu.resolve import Resolver
    from assistant.nlu.sentiment import load_sentiment
    from assistant.nlu.vocab import ShopVocab

    embed = embedder.embed if embedder is not None else None
    resolver = Resolver(ShopVocab(products), embed=embed)
    sentiment = load_sentiment(embed) if embed is not None else None
    llm = (
        optional("LLM command reader", lambda: _command_llm(settings, resolver))
        if _llm_on(settings)
        else None
    )
    return Reader(FastParser(parser_folder(settings), threads=settings.nlu_threads), resolver, sentiment, llm)


def _llm_on(settings: Settings) -> bool:
    return settings.nlu_llm == "on" or (settings.nlu_llm == "auto" and settings.generator_backend == "llama")


def _command_llm(settings: Settings, resolver: Any) -> Any:
    from assistant.models import generator_model_path
    from assistant.nlu.llm import LlamaCommands

    path = generator_model_path(settings.model_copy(update={"generator_model": settings.nlu_llm_model}))
    return LlamaCommands(path, resolver, n_threads=settings.llama_threads)


def optional(what: str, build: Callable[[], Any]) -> Any | None:
    try:
        return build()
    except Exception as exc:  # a missing index or model degrades one feature, not the assistant
        log.warning("%s unavailable (%s); continuing without it", what, exc)
        return None


def _retriever(settings: Settings, catalog: Any, embedder: Any) -> Any:
    from assistant.components import retriever_from_settings

    return retriever_from_settings(settings, catalog, embedder=embedder)


def _recommender(settings: Settings) -> Any:
    from assistant.recsys import ShopRecommender

    return ShopRecommender.load(settings.data_dir / "recommender")
