"""Retrieval contract: ids on every hit, exact filters (property test), MMR, reviews, aspects, policies,
degraded mode. Runs against the in-memory fake and embedded Chroma with the hashing embedder."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.embed import HashingEmbedder
from knowledge.index import Indexer
from knowledge.records import Product
from knowledge.retrieve import Filters, Retriever
from knowledge.testing import chroma_server, tiny_catalog
from knowledge.vectorstore import ChromaStore, MemoryStore

CATALOG = tiny_catalog(seed=3)
BY_ID = {p.id: p for p in CATALOG.products}


def build(store, data_dir: Path) -> Retriever:  # type: ignore[no-untyped-def]
    emb = HashingEmbedder(128)
    ix = Indexer(store, emb, data_dir)
    ix.update(CATALOG)
    return Retriever(CATALOG, emb, store, ix.live())


@pytest.fixture(scope="module", params=["memory", "chroma", "server"])
def retriever(request, tmp_path_factory) -> Iterator[Retriever]:  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp(request.param)
    if request.param == "server":  # `chroma run` on a free loopback port, stopped by PID afterwards
        try:
            with chroma_server(d / "srv") as port:
                yield build(ChromaStore.server("127.0.0.1", port), d)
        except FileNotFoundError as exc:
            pytest.skip(str(exc))
        return
    yield build(MemoryStore() if request.param == "memory" else ChromaStore.embedded(str(d / "chroma")), d)


def violates(p: Product, f: Filters) -> list[str]:
    """An oracle written from the records, independent of Filters.to_where()."""
    bad = []
    levels = [x.strip().lower() for x in p.category.split(">")]
    if f.category:
        want = [x.strip().lower() for x in f.category.split(">")]
        ok = levels[: len(want)] == want if len(want) > 1 else want[0] in levels
        if not ok:
            bad.append("category")
    if f.brand and (p.brand or "").lower() != f.brand.lower():
        bad.append("brand")
    if f.price_min is not None and (p.price is None or p.price < f.price_min):
        bad.append("price_min")
    if f.price_max is not None and (p.price is None or p.price > f.price_max):
        bad.append("price_max")
    if f.min_rating is not None and (p.rating is None or p.rating < f.min_rating):
        bad.append("min_rating")
    if f.in_stock is not None and (p.stock is None or (p.stock > 0) != f.in_stock):
        bad.append("in_stock")
    if p.brand and p.brand.lower() in {b.lower() for b in f.exclude_brands}:
        bad.append("exclude_brands")
    if p.id in f.exclude_ids:
        bad.append("exclude_ids")
    return bad


BRANDS = sorted({p.brand for p in CATALOG.products if p.brand})
CATS = sorted({lv for p in CATALOG.products for lv in p.category.split(" > ")}) + [
    "Electronics > Audio",
    "home > kitchen",
]
filters_st = st.builds(
    Filters,
    category=st.none() | st.sampled_from(CATS),
    brand=st.none() | st.sampled_from(BRANDS + [b.upper() for b in BRANDS[:2]]),
    price_min=st.none() | st.floats(0, 300),
    price_max=st.none() | st.floats(5, 600),
    min_rating=st.none() | st.sampled_from([1.0, 2.5, 3.0, 4.0, 4.5]),
    in_stock=st.none() | st.booleans(),
    exclude_brands=st.lists(st.sampled_from(BRANDS), max_size=2).map(tuple),
    exclude_ids=st.lists(st.sampled_from(sorted(BY_ID)), max_size=5).map(tuple),
)
queries = st.sampled_from(
    ["quiet headphones", "coffee", "red running shoes under 100", "", "zzz", "vacuum dyson"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(f=filters_st, q=queries, mode=st.sampled_from(["hybrid", "dense", "lexical"]))
def test_filters_are_exact(retriever: Retriever, f: Filters, q: str, mode: str) -> None:
    hits = retriever.search(q, f, k=20, mode=mode)  # type: ignore[arg-type]
    for h in hits:
        assert not violates(BY_ID[h.id], f), (h.id, violates(BY_ID[h.id], f))
    assert len({h.id for h in hits}) == len(hits)
    if mode != "lexical" and q:
        # Dense search sees every allowed product, so it returns min(k, |allowed|) of them: none lost.
        allowed = [p for p in CATALOG.products if not violates(p, f)]
        assert len(hits) == min(20, len(allowed))


def test_hits_carry_record_ids_and_find_the_obvious(retriever: Retriever) -> None:
    hits = retriever.search("dyson vacuum", k=5)
    assert hits and all(h.id in BY_ID and h.kind == "product" for h in hits)
    top = BY_ID[hits[0].id]
    assert top.brand == "Dyson" and top.leaf_category == "Vacuums"
    assert all(BY_ID[h.id].brand == "Dyson" or BY_ID[h.id].leaf_category == "Vacuums" for h in hits[:3])
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    capped = retriever.search("vacuum", Filters(price_max=200, in_stock=True), k=5)
    assert all(BY_ID[h.id].price <= 200 and BY_ID[h.id].stock > 0 for h in capped)  # type: ignore[operator]


def test_mmr_diversifies(retriever: Retriever) -> None:
    plain = retriever.search("headphones speaker", k=6)
    diverse = retriever.search("headphones speaker", k=6, mmr=0.3)
    assert {h.id for h in diverse} <= set(BY_ID) and len(diverse) == 6

    def spread(hits):  # type: ignore[no-untyped-def]
        return len({BY_ID[h.id].brand for h in hits}) + len({BY_ID[h.id].category for h in hits})

    assert spread(diverse) >= spread(plain)


def test_reviews_are_scoped_to_the_product(retriever: Retriever) -> None:
    pid = next(r.product_id for r in CATALOG.reviews)
    own = {r.id for r in CATALOG.reviews if r.product_id == pid}
    hits = retriever.reviews_for(pid, "is it loud?", k=10)
    assert hits and {h.id for h in hits} <= own and all(h.kind == "review" for h in hits)
    assert all(h.metadata["product_id"] == pid and h.metadata["chunk_id"].startswith(h.id) for h in hits)
    assert retriever.reviews_for("no-such-product", "loud") == []


def test_aspect_summary_counts_mentions(retriever: Retriever) -> None:
    from knowledge.aspects import describe

    pid = max(BY_ID, key=lambda i: sum(r.product_id == i for r in CATALOG.reviews))
    summary = retriever.aspect_summary(pid)
    assert summary
    for counts in summary.values():
        assert counts["positive"] + counts["negative"] + counts["neutral"] == counts["mentions"] > 0
    line = describe(summary)[0]
    assert " of " in line and "mentions" in line


def test_policy_passages(retriever: Retriever) -> None:
    hits = retriever.policies("how long does express shipping take", k=2)
    assert hits[0].id == "shipping" and "Express" in hits[0].text and hits[0].metadata["topic"] == "shipping"


class BrokenEmbedder(HashingEmbedder):
    def embed(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError("model file corrupt")


class BrokenStore(MemoryStore):
    def query(self, *a, **kw):  # type: ignore[no-untyped-def]
        raise ConnectionError("chroma server down")


@pytest.mark.parametrize("broken", ["embedder", "store"])
def test_degraded_mode_falls_back_to_lexical(tmp_path: Path, caplog, broken: str) -> None:  # type: ignore[no-untyped-def]
    good = build(MemoryStore(), tmp_path)
    emb = BrokenEmbedder(128) if broken == "embedder" else good.embedder
    store = good.store
    if broken == "store":
        store = BrokenStore()
        store._cols = good.store._cols  # type: ignore[attr-defined, union-attr]
    r = Retriever(CATALOG, emb, store, {k: p.collection for k, p in good._parts.items()})  # type: ignore[misc]
    with caplog.at_level(logging.WARNING, logger="knowledge.retrieve"):
        hits = r.search("dyson vacuum", Filters(in_stock=True), k=5)
    assert hits and [h.id for h in hits] == [
        h.id for h in good.search("dyson vacuum", Filters(in_stock=True), k=5, mode="lexical")
    ]
    assert "falling back to lexical" in caplog.text and r.last_degraded_reason
    assert r.policies("return an item")[0].id == "returns"


def test_no_index_at_all_is_lexical(tmp_path: Path) -> None:
    r = Retriever.from_index(CATALOG, HashingEmbedder(128), tmp_path, MemoryStore)
    assert r.degraded and r.search("coffee maker", k=3)[0].id in BY_ID


def test_idf_normalised_fusion_discounts_a_weak_lexical_match() -> None:
    from knowledge.docs import Doc
    from knowledge.lexical import LexicalIndex
    from knowledge.retrieve import Fusion, _fuse

    docs = [
        Doc(str(i), str(i), t, {})
        for i, t in enumerate(
            ["quiet desk fan", "day cream for dry skin", "mechanical keyboard", "ergonomic split keyboard"]
        )
    ]
    lex = LexicalIndex(docs)
    # Unknown words count in the query's weight: a vague query has little lexical evidence to offer.
    assert lex.query_weight("zzqx day") > lex.query_weight("day") > 0
    full = lex.query_weight("quiet fan")
    assert 0.3 < lex.top("quiet fan", 1)[0][1] / full < 1.0  # the weight bounds a full match
    weak = lex.top("typing all day, want something comfortable", 5)
    dense = [(3, 0.40), (2, 0.38), (1, 0.10)]
    by_top = _fuse(Fusion("convex", alpha=0.5), weak, dense)
    by_idf = _fuse(
        Fusion("convex", alpha=0.5, lex_norm="idf"),
        weak,
        dense,
        lex.query_weight("typing all day, want something comfortable"),
    )
    # Divided by its own best score, a match on "day" alone becomes 1.0 and outranks the keyboards.
    assert max(by_top, key=by_top.__getitem__) == 1
    assert max(by_idf, key=by_idf.__getitem__) == 3
