"""The library components built from ``Settings``: the one place where settings meet
``knowledge`` and ``recommender``, which take plain values (paths, specs, callables) only."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.settings import Settings
    from knowledge.catalog import Catalog
    from knowledge.embed import Embedder
    from knowledge.index import Indexer
    from knowledge.retrieve import Retriever
    from knowledge.vectorstore import VectorStore


def embedder_from_settings(settings: Settings) -> Embedder:
    from knowledge.embed import make_embedder

    return make_embedder(settings.embedder)


def store_from_settings(settings: Settings) -> VectorStore:
    """Chroma as configured: a server at host:port, or embedded under ``chroma_path``."""
    from knowledge.vectorstore import ChromaStore

    if settings.chroma_mode == "server":
        return ChromaStore.server(settings.chroma_host, settings.chroma_port)
    return ChromaStore.embedded(settings.chroma_path or settings.data_dir / "chroma")


def indexer_from_settings(
    settings: Settings, embedder: Embedder | None = None, progress: bool = False
) -> Indexer:
    from knowledge.index import Indexer

    return Indexer(
        store_from_settings(settings),
        embedder or embedder_from_settings(settings),
        settings.data_dir,
        progress=progress,
    )


def retriever_from_settings(
    settings: Settings, catalog: Catalog | None = None, embedder: Embedder | None = None
) -> Retriever:
    """Hybrid search over the ingested catalog (or ``catalog``) and the live vector indexes."""
    from knowledge.retrieve import Retriever
    from knowledge.snapshot import load_catalog

    return Retriever.from_index(
        catalog or load_catalog(settings.data_dir),
        embedder or embedder_from_settings(settings),
        settings.data_dir,
        lambda: store_from_settings(settings),
    )
