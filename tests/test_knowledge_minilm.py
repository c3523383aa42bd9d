"""The real path: packaged MiniLM + embedded Chroma on a small catalog (kept few: the model costs seconds)."""

from __future__ import annotations

import pytest

from knowledge.index import Indexer
from knowledge.retrieve import Filters, Retriever
from knowledge.testing import tiny_catalog
from knowledge.vectorstore import ChromaStore

CAT = tiny_catalog(seed=11, n_per_leaf=3)
BY_ID = {p.id: p for p in CAT.products}


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Retriever:  # type: ignore[no-untyped-def]
    from knowledge.embed import make_embedder
    from knowledge.errors import ModelMissingError

    try:
        emb = make_embedder("minilm")
        emb.embed(["warm up"])
    except ModelMissingError as exc:
        pytest.skip(str(exc))
    d = tmp_path_factory.mktemp("minilm")
    store = ChromaStore.embedded(str(d / "chroma"))
    ix = Indexer(store, emb, d)
    ix.update(CAT)
    return Retriever(CAT, emb, store, ix.live())


def test_dense_understands_meaning_without_shared_words(real: Retriever) -> None:
    hits = real.search("something to listen to music with", k=3, mode="dense")
    assert all(BY_ID[h.id].category.startswith("Electronics > Audio") for h in hits)
    hits = real.search("brew my morning espresso", k=2, mode="hybrid")
    assert all("Coffee" in BY_ID[h.id].category for h in hits)


def test_hybrid_with_misspelling_and_filters(real: Retriever) -> None:
    hits = real.search("vacum cleener", Filters(price_max=500), k=3)
    assert hits and all(BY_ID[h.id].leaf_category == "Vacuums" and BY_ID[h.id].price <= 500 for h in hits)  # type: ignore[operator]


def test_reviews_and_policies_on_the_real_model(real: Retriever) -> None:
    pid = next(p for p in BY_ID if sum(r.product_id == p for r in CAT.reviews) >= 3)
    hits = real.reviews_for(pid, "is it loud?", k=3)
    assert hits and all(h.metadata["product_id"] == pid for h in hits)
    assert real.policies("can I get my money back if I send it back?", k=1)[0].id == "returns"


def test_bulk_path_agrees_with_the_query_path(real: Retriever) -> None:
    # Indexing may run a bf16 copy of the model (CPUs with native bf16); its vectors must rank as fp32 ones.
    import numpy as np

    texts = [p.title + ". " + p.description for p in CAT.products[:12]]
    emb = real.embedder
    a, b = emb.embed(texts), emb.embed_bulk(texts)  # type: ignore[union-attr]
    assert b.shape == a.shape and np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert float((a * b).sum(1).min()) > 0.995
