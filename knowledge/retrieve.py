"""Hybrid retrieval: dense (vector store) + lexical (BM25) fused by weighted reciprocal rank,
exact metadata filters, optional MMR, product-scoped review search with an aspect summary,
and policy passages. Every hit carries the id of the record it came from.

Degraded mode: when the embedder or the vector store fails, search falls back to lexical only
and logs a warning, so a broken model or a dead Chroma server never takes search down.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from knowledge.catalog import Catalog
from knowledge.docs import CAT_LEVELS, KINDS, Doc, docs_for, norm
from knowledge.index import RECORDS, pointer_for
from knowledge.lexical import LexicalIndex
from knowledge.vectorstore import VectorStore, Where, matches_where

if TYPE_CHECKING:
    from knowledge.embed import Embedder

log = logging.getLogger(__name__)
Kind = Literal["product", "review", "policy"]
Mode = Literal["hybrid", "dense", "lexical"]


@dataclass(frozen=True)
class Hit:
    id: str  # the record id (product / review / policy); chunk ids are in metadata["chunk_id"]
    kind: str
    score: float
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Filters:
    category: str | None = None  # any level ("headphones") or a path prefix ("electronics > audio")
    brand: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    min_rating: float | None = None
    in_stock: bool | None = None
    exclude_brands: tuple[str, ...] = ()
    exclude_ids: tuple[str, ...] = ()

    def to_where(self) -> Where | None:
        """The filter in the store's dict language. Unknown prices/ratings/stock never pass a condition."""
        conds: list[Where] = []
        if self.category:
            parts = [norm(x) for x in self.category.split(">") if x.strip()]
            if len(parts) > 1:
                conds += [{f"cat{i}": p} for i, p in enumerate(parts[:CAT_LEVELS])]
            else:
                conds.append({"$or": [{f"cat{i}": parts[0]} for i in range(CAT_LEVELS)]})
        if self.brand:
            conds.append({"brand": norm(self.brand)})
        if self.price_min is not None:
            conds.append({"price": {"$gte": float(self.price_min)}})
        if self.price_max is not None:
            conds.append({"price": {"$lte": float(self.price_max)}})
        if self.min_rating is not None:
            conds.append({"rating": {"$gte": float(self.min_rating)}})
        if self.in_stock is not None:
            conds.append({"in_stock": bool(self.in_stock)})
        if self.exclude_brands:
            conds.append({"brand": {"$nin": [norm(b) for b in self.exclude_brands]}})
        if self.exclude_ids:
            conds.append({"record_id": {"$nin": list(self.exclude_ids)}})
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else {"$and": conds}


@dataclass(frozen=True)
class Fusion:
    """How dense and lexical rankings are combined.

    ``rrf``: weighted reciprocal-rank fusion, w/(rrf_k + rank). ``convex``: alpha * dense cosine +
    (1 - alpha) * normalised BM25, where ``lex_norm`` is ``top`` (divide by the query's best BM25 score)
    or ``idf`` (divide by the query's idf mass, ``LexicalIndex.query_weight``). Chosen on validation queries.
    """

    method: str = "rrf"
    rrf_k: float = 60.0
    w_dense: float = 1.0
    w_lexical: float = 1.0
    alpha: float = 0.5
    lex_norm: str = "top"
    pool: int = 50  # candidates taken from each side before fusion

    @classmethod
    def packaged(cls) -> Fusion:
        """The weights chosen on the validation part of the demo queries (`aisle bench retrieval`)."""
        try:
            data = json.loads(resources.files("knowledge.bench_data").joinpath("fusion.json").read_text())
        except (FileNotFoundError, ModuleNotFoundError):
            return cls()
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class _Part:
    """One kind's documents: lexical index, metadata, and the live vector collection name."""

    def __init__(self, kind: str, docs: list[Doc], collection: str | None) -> None:
        self.kind = kind
        self.docs = docs
        self.pos = {d.id: i for i, d in enumerate(docs)}
        self.lex = LexicalIndex(docs)
        self.collection = collection
        self._masks: dict[str, np.ndarray] = {}

    def mask(self, where: Where | None) -> np.ndarray | None:
        if where is None:
            return None
        key = json.dumps(where, sort_keys=True)
        m = self._masks.get(key)
        if m is None:
            m = np.fromiter((matches_where(d.meta, where) for d in self.docs), bool, len(self.docs))
            if len(self._masks) > 256:
                self._masks.clear()
            self._masks[key] = m
        return m


class Retriever:
    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder | None,
        store: VectorStore | None,
        collections: dict[str, str] | None = None,
        fusion: Fusion | None = None,
    ) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.store = store
        self.fusion = fusion or Fusion.packaged()
        cols = collections or {}
        self._parts = {k: _Part(k, docs_for(k, getattr(catalog, RECORDS[k])), cols.get(k)) for k in KINDS}
        self._reviews_by_product: dict[str, list[Any]] = {}
        for r in catalog.reviews:
            self._reviews_by_product.setdefault(r.product_id, []).append(r)
        self.degraded = embedder is None or store is None or not cols
        self.last_degraded_reason: str | None = None

    @classmethod
    def from_index(
        cls, catalog: Catalog, embedder: Embedder, data_dir: Path, open_store: Callable[[], VectorStore]
    ) -> Retriever:
        """Search the live indexes an ``Indexer`` built under ``data_dir``. ``open_store`` is
        called here so that a store that cannot open degrades search to lexical, not fails it."""
        pointer = pointer_for(data_dir).read()
        collections = pointer.get("collections", {})
        if not collections:
            log.warning("no vector index under %s: lexical search only until you run `aisle index`", data_dir)
        elif pointer.get("embedder") not in (None, embedder.name):
            # Query vectors from another model would rank nonsense: better lexical than wrong.
            log.warning(
                "the index was built with %s but the embedder is %s: lexical search only until "
                "you run `aisle index --rebuild`",
                pointer.get("embedder"),
                embedder.name,
            )
            collections = {}
        try:
            store: VectorStore | None = open_store()
        except Exception as exc:  # a dead Chroma server must not take search down
            log.warning("vector store unavailable (%s): lexical search only", exc)
            store = None
        return cls(catalog, embedder, store, collections)

    # ------------------------------------------------------------ core

    def _dense(
        self, part: _Part, query: str, where: Where | None, n: int, with_embeddings: bool = False
    ) -> list[tuple[int, float, np.ndarray | None]] | None:
        if self.embedder is None or self.store is None or not part.collection:
            return None
        try:
            qv = self.embedder.embed([query])[0]
            hits = self.store.query(
                part.collection, qv, n, where, with_embeddings=with_embeddings, with_payload=False
            )
        except Exception as exc:  # degraded mode: lexical still answers
            self.last_degraded_reason = f"{type(exc).__name__}: {exc}"
            log.warning(
                "dense retrieval failed (%s); falling back to lexical search", self.last_degraded_reason
            )
            return None
        out = []
        for h in hits:
            i = part.pos.get(h.id)
            # Exactness: the catalog's own metadata decides, not whatever the store holds.
            if i is not None and matches_where(part.docs[i].meta, where):
                out.append((i, 1.0 - h.distance, h.embedding))
        return out

    def _ranked(
        self, part: _Part, query: str, where: Where | None, k: int, mode: Mode, mmr: float | None = None
    ) -> list[tuple[int, float]]:
        pool = max(self.fusion.pool, 3 * k)
        lex = [] if mode == "dense" else part.lex.top(query, pool, part.mask(where))
        dense = (
            None
            if mode == "lexical"
            else self._dense(part, query, where, pool, with_embeddings=mmr is not None)
        )
        if mode == "dense" and dense is None:
            lex = part.lex.top(query, pool, part.mask(where))  # degraded: dense asked for, lexical given
        if dense is None or mode == "lexical":
            fused = {i: s for i, s in lex}
        elif mode == "dense":
            fused = {i: s for i, s, _ in dense}
        else:
            qw = part.lex.query_weight(query) if self.fusion.lex_norm == "idf" else None
            fused = _fuse(self.fusion, lex, [(i, s) for i, s, _ in dense], qw)
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
        if mmr is not None and dense:
            vecs = {i: e for i, _, e in dense if e is not None}
            ranked = _mmr(ranked, vecs, k * 3, mmr)
        return ranked

    def _hits(self, part: _Part, ranked: list[tuple[int, float]], k: int) -> list[Hit]:
        out: list[Hit] = []
        seen: set[str] = set()
        for i, score in ranked:
            d = part.docs[i]
            if d.record_id in seen:  # one hit per record: the best chunk speaks for it
                continue
            seen.add(d.record_id)
            meta = {**d.meta, "chunk_id": d.id}
            out.append(Hit(d.record_id, part.kind, float(score), d.text, meta))
            if len(out) >= k:
                break
        return out

    def search(
        self,
        query: str,
        filters: Filters | None = None,
        k: int = 10,
        kind: Kind = "product",
        mode: Mode = "hybrid",
        mmr: float | None = None,
    ) -> list[Hit]:
        """Top-k records for a query. ``mmr`` (0..1, e.g. 0.7) trades relevance for diversity.

        ``filters`` apply to products; use ``reviews_for`` to scope reviews to one product.
        """
        if kind not in self._parts:
            raise ValueError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
        part = self._parts[kind]
        where = filters.to_where() if filters and kind == "product" else None
        return self._hits(part, self._ranked(part, query, where, k, mode, mmr), k)

    # ------------------------------------------------------------ reviews and policies

    def reviews_for(self, product_id: str, query: str, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        part = self._parts["review"]
        where: Where = {"product_id": product_id}
        return self._hits(part, self._ranked(part, query, where, k, mode), k)

    def aspect_summary(self, product_id: str) -> dict[str, dict[str, Any]]:
        from knowledge.aspects import summarize

        return summarize(self._reviews_by_product.get(product_id, []))

    def policies(self, query: str, k: int = 3, mode: Mode = "hybrid") -> list[Hit]:
        part = self._parts["policy"]
        return self._hits(part, self._ranked(part, query, None, k, mode), k)


def _fuse(
    f: Fusion, lex: list[tuple[int, float]], dense: list[tuple[int, float]], query_weight: float | None = None
) -> dict[int, float]:
    fused: dict[int, float] = {}
    if f.method == "convex":
        top = query_weight or max((s for _, s in lex), default=0.0) or 1.0
        floor = min((s for _, s in dense), default=0.0)  # an item missing from a side gets that side's floor
        d, lx = dict(dense), {i: s / top for i, s in lex}
        for i in set(d) | set(lx):
            fused[i] = f.alpha * d.get(i, floor) + (1 - f.alpha) * lx.get(i, 0.0)
        return fused
    for r, (i, _) in enumerate(lex):
        fused[i] = fused.get(i, 0.0) + f.w_lexical / (f.rrf_k + r + 1)
    for r, (i, _) in enumerate(dense):
        fused[i] = fused.get(i, 0.0) + f.w_dense / (f.rrf_k + r + 1)
    return fused


def _mmr(
    ranked: list[tuple[int, float]], vecs: dict[int, np.ndarray], n: int, lam: float
) -> list[tuple[int, float]]:
    """Maximal marginal relevance over the candidates that have vectors; the rest keep their order after."""
    cands = [(i, s) for i, s in ranked[: max(n, 1) * 2] if i in vecs]
    if len(cands) < 2:
        return ranked
    top = max(s for _, s in cands) or 1.0
    rel = {i: s / top for i, s in cands}
    chosen: list[int] = []
    left = [i for i, _ in cands]
    while left and len(chosen) < n:

        def gain(i: int) -> float:
            sim = max((float(vecs[i] @ vecs[j]) for j in chosen), default=0.0)
            return lam * rel[i] - (1 - lam) * sim

        best = max(left, key=gain)
        chosen.append(best)
        left.remove(best)
    score = dict(ranked)
    rest = [(i, s) for i, s in ranked if i not in set(chosen)]
    return [(i, score[i]) for i in chosen] + rest
