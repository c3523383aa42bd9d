"""Turn records into indexable documents (text + flat metadata + content hash).

The same functions feed the vector index and the lexical index, so both see identical text.
Metadata is flat and never holds None (Chroma rejects it): an unknown price simply has no
``price`` key, so any price condition excludes it — an unknown price is never "under $50".
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from knowledge.records import Policy, Product, Review

KINDS = ("product", "review", "policy")
CHUNK_WORDS = {"review": 80, "policy": 110}
CAT_LEVELS = 4
DENSE_DESC_WORDS = 40


@dataclass(frozen=True)
class Doc:
    id: str  # unique within its collection (a review chunk is "<review id>#<n>")
    record_id: str  # the record it came from: product / review / policy id
    text: str
    meta: dict[str, Any]
    dense_text: str | None = None  # a shorter text for the embedder; None = text

    @property
    def embed_text(self) -> str:
        return self.text if self.dense_text is None else self.dense_text

    @property
    def hash(self) -> str:
        payload = json.dumps([self.text, self.meta], sort_keys=True, ensure_ascii=False)
        return hashlib.sha1(payload.encode()).hexdigest()


def norm(s: str | None) -> str:
    return re.sub(r"\s+", " ", (s or "").strip().lower())


def product_meta(p: Product) -> dict[str, Any]:
    levels = [norm(x) for x in p.category.split(">") if x.strip()] if p.category else []
    meta: dict[str, Any] = {"record_id": p.id, "title": p.title, "cat": " > ".join(levels)}
    for i, lv in enumerate(levels[:CAT_LEVELS]):
        meta[f"cat{i}"] = lv
    # Always present ("" when unknown) so that "not brand X" keeps the products without a brand.
    meta["brand"] = norm(p.brand)
    if p.price is not None:
        meta["price"] = float(p.price)
    if p.stock is not None:
        meta["stock"] = int(p.stock)
        meta["in_stock"] = p.stock > 0
    if p.rating is not None:
        meta["rating"] = float(p.rating)
    return meta


def product_text(p: Product) -> str:
    attrs = "; ".join(f"{k}: {v}" for k, v in p.attributes.items())
    parts = [p.title, p.brand or "", p.category.replace(" > ", ", "), attrs, p.description]
    return ". ".join(x.strip().rstrip(".") for x in parts if x and x.strip())


def product_dense_text(p: Product) -> str:
    """Title, brand, category and attributes first, then the description's opening: MiniLM's cost grows
    with length and its useful context is short, so a long description is cut (lexical keeps all of it)."""
    head = product_text(Product(**{**p.to_dict(), "description": ""}))
    words = p.description.split()[:DENSE_DESC_WORDS]
    return f"{head}. {' '.join(words)}" if words else head


def product_docs(products: list[Product]) -> list[Doc]:
    return [Doc(p.id, p.id, product_text(p), product_meta(p), product_dense_text(p)) for p in products]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text.strip()) if s.strip()]


def chunk(text: str, max_words: int) -> list[str]:
    """Greedy sentence packing up to max_words; a single over-long sentence becomes its own chunk."""
    out: list[str] = []
    cur: list[str] = []
    n = 0
    for s in _sentences(text):
        w = len(s.split())
        if cur and n + w > max_words:
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(s)
        n += w
    if cur:
        out.append(" ".join(cur))
    return out or [text.strip()]


def review_docs(reviews: list[Review]) -> list[Doc]:
    docs = []
    for r in reviews:
        body = f"{r.title}. {r.text}" if r.title else r.text
        for i, c in enumerate(chunk(body, CHUNK_WORDS["review"])):
            meta = {"record_id": r.id, "product_id": r.product_id, "rating": int(r.rating), "chunk": i}
            docs.append(Doc(f"{r.id}#{i}", r.id, c, meta))
    return docs


def policy_docs(policies: list[Policy]) -> list[Doc]:
    docs = []
    for p in policies:
        # Split on markdown headings/blank lines first so a passage stays within one section.
        paras = [x.strip() for x in re.split(r"\n\s*\n|\n(?=#)", p.text) if x.strip()]
        passages: list[str] = []
        for para in paras:
            for c in chunk(para, CHUNK_WORDS["policy"]):
                if passages and len(passages[-1].split()) + len(c.split()) <= CHUNK_WORDS["policy"]:
                    passages[-1] = passages[-1] + "\n" + c
                else:
                    passages.append(c)
        for i, c in enumerate(passages):
            meta = {"record_id": p.id, "title": p.title, "topic": p.topic, "chunk": i}
            docs.append(Doc(f"{p.id}#{i}", p.id, f"{p.title}. {c}", meta))
    return docs


def docs_for(kind: str, records: list[Any]) -> list[Doc]:
    builders: dict[str, Callable[[list[Any]], list[Doc]]] = {
        "product": product_docs,
        "review": review_docs,
        "policy": policy_docs,
    }
    return builders[kind](records)
