"""Chroma server mode: a real `chroma run` on a free loopback port, stopped by PID.

The full retrieval contract (including the filter property test) also runs against a server:
see the "server" parameter of the fixture in test_knowledge_retrieve.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.components import store_from_settings
from assistant.errors import ConfigError
from knowledge.embed import HashingEmbedder
from knowledge.index import Indexer
from knowledge.retrieve import Filters, Retriever
from knowledge.testing import chroma_server, free_port, tiny_catalog


def test_server_mode_from_settings(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    try:
        server = chroma_server(tmp_path / "srv")
        port = server.__enter__()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    try:
        s = settings.model_copy(update={"chroma_mode": "server", "chroma_port": port})
        store = store_from_settings(s)
        cat = tiny_catalog(seed=5)
        emb = HashingEmbedder(128)
        ix = Indexer(store, emb, s.data_dir)
        ix.update(cat)
        assert all(x.embedded == 0 for x in ix.update(cat))  # incremental against the server too
        r = Retriever(cat, emb, store, ix.live())
        by_id = {p.id: p for p in cat.products}
        hits = r.search("sony headphones", Filters(price_max=150, in_stock=True), k=10, mode="dense")
        assert hits and all(by_id[h.id].price <= 150 and by_id[h.id].stock > 0 for h in hits)  # type: ignore[operator]
        assert r.policies("return window")[0].id == "returns" and not r.last_degraded_reason
    finally:
        server.__exit__(None, None, None)
    # The server is gone now: search degrades to lexical instead of failing.
    hits = r.search("sony headphones", k=3)
    assert hits and r.last_degraded_reason


def test_unreachable_server_names_the_fix(settings) -> None:  # type: ignore[no-untyped-def]
    s = settings.model_copy(update={"chroma_mode": "server", "chroma_port": free_port()})
    with pytest.raises(ConfigError, match="chroma run"):
        store_from_settings(s)
