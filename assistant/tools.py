"""The assistant's tools: typed, docstringed functions in one registry (``TOOLS``).

Each tool takes a ``ToolContext`` (the shop, store, retriever, recommender, who is asking)
and returns a dataclass carrying the ids of the records it used. ``as_langchain_tools``
exports the same functions as langchain-core ``StructuredTool``s (imported lazily).
Tools never claim an action that did not happen: a cancellation or return is a ticket
request, and the result says exactly that.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from assistant.shopindex import ShopIndex, Snip, attr_words, bound_words
from assistant.support_tools import cancel_order, handoff, order_status, policy_qa, privacy, return_or_refund
from assistant.tool_results import (
    Comparison,
    HandoffResult,
    OrderRequest,
    OrderStatus,
    PolicyAnswer,
    PrivacyResult,
    ProductAnswer,
    ProductDetails,
    ProductHit,
    ProductList,
    Ranking,
)
from assistant.toolcontext import ToolContext
from knowledge.constraints import Constraints
from knowledge.money import money_words
from knowledge.records import Product

__all__ = [
    "TOOLS",
    "Comparison",
    "HandoffResult",
    "OrderRequest",
    "OrderStatus",
    "PolicyAnswer",
    "PrivacyResult",
    "ProductAnswer",
    "ProductDetails",
    "ProductHit",
    "ProductList",
    "Ranking",
    "ShopIndex",
    "Snip",
    "ToolContext",
    "as_langchain_tools",
    "call_tool",
]


# --- helpers --------------------------------------------------------------------------------
def constraint_words(c: Constraints, currency: str) -> list[str]:
    """The constraints in plain words, prices in the shop's currency ("under $150", "under ₹1,500")."""
    out: list[str] = []
    lo, hi = c.price.min, c.price.max
    if lo is not None and hi is not None:
        out.append(f"{money_words(lo, currency)}-{money_words(hi, currency)}")
    elif hi is not None:
        out.append(f"under {money_words(hi, currency)}")
    elif lo is not None:
        out.append(f"over {money_words(lo, currency)}")
    out += list(c.brands)
    out += [f"not {b}" for b in c.exclude_brands]
    out += [attr_words(k, list(v)) for k, v in c.attributes.items() if k != "title"]
    out += [f"{w} " for k, vals in c.attributes.items() if k == "title" for w in vals]
    out += [f"not {attr_words(k, list(v))}" for k, v in c.exclude_attributes.items()]
    out += [bound_words(k, b) for k, b in c.bounds.items()]
    if c.min_rating:
        out.append(f"rated {c.min_rating:g}+")
    if c.in_stock:
        out.append("in stock")
    return [w.strip() for w in out]


def _reason(hit: ProductHit, evidence: str | None) -> str:
    parts = []
    if hit.matches:
        first = ", ".join(hit.matches)
        parts.append(first[:1].upper() + first[1:])  # "Under SAR 800", not "Under sar 800"
    if evidence:
        parts.append(evidence)
    if hit.rating is not None and hit.rating_count:
        parts.append(f"rated {hit.rating:.1f}/5 by {hit.rating_count} shoppers")
    return "; ".join(parts[:3]) or "popular in the shop"


def _rec_scores(
    ctx: ToolContext, candidates: list[str]
) -> tuple[dict[str, float], dict[str, tuple[str, tuple[str, ...]]]]:
    """Recommender scores and one-line evidence (with the ids of products it names) per candidate.

    The fitted hybrid knows the customer's stored history; this session's events are folded in.
    Opted-out customers are scored as anonymous sessions; with no recommender, popularity ranks.
    """
    rec = ctx.recommender
    if rec is None or not candidates:
        return ctx.shop.popularity(candidates), {}
    cid = ctx.customer_id if ctx.personalized else None
    session = ctx.session_items if ctx.personalized else []
    pairs = rec.recommend(
        cid, history=session, k=len(candidates), candidates=set(candidates), exclude_seen=True
    )
    pop = ctx.shop.popularity(candidates)
    top = max(pop.values(), default=1.0) or 1.0
    # Already-bought candidates are excluded by the recommender; they rank last, by popularity.
    scores = {c: -1.0 + pop[c] / top / 10 for c in candidates}
    scores.update({pid: float(sc) for pid, sc in pairs if pid in scores and np.isfinite(sc)})
    evidence: dict[str, tuple[str, tuple[str, ...]]] = {}
    if cid is not None or session:
        for pid in sorted(scores, key=lambda p: -scores[p])[:4]:
            try:
                lines = rec.explain(cid, session, pid)
            except Exception:  # an item the recommender was not fitted on has no explanation
                lines = []
            line, ids = _name_ids(ctx.shop, lines[0]) if lines else ("", ())
            # History from another department ("after the backpack you bought") explains nothing here.
            dept = ctx.shop.products[pid].top_category
            if line and all(ctx.shop.products[i].top_category == dept for i in ids):
                evidence[pid] = (line, ids)
    return scores, evidence


def _name_ids(shop: ShopIndex, line: str) -> tuple[str, tuple[str, ...]]:
    """Shorten product titles in an explanation and return the ids of the products it names."""
    from assistant.profile import short_name

    ids = []
    for p in shop.products.values():
        if p.title in line:
            line = line.replace(p.title, short_name(p.title))
            ids.append(p.id)
    return line, tuple(ids)


def _rank01(values: dict[str, float]) -> dict[str, float]:
    """Ranks scaled to 0..1 (ties share their mean rank), so differently scaled scores can be blended."""
    distinct = sorted(set(values.values()))
    n = max(len(distinct) - 1, 1)
    pos = {v: i / n for i, v in enumerate(distinct)}
    return {k: pos[v] for k, v in values.items()}


# --- tools ----------------------------------------------------------------------------------
def recommend(
    ctx: ToolContext,
    constraints: Constraints | None = None,
    query: str = "",
    sort: tuple[str, str] | None = None,
    k: int = 3,
) -> ProductList:
    """Recommend products for this shopper within the constraints: hybrid recommender scores (their
    history and this session's events when personalization is allowed; popularity when cold) blended
    with how well each product matches the request text and its rating; ``sort`` = (attribute,
    "min"|"max") ranks by an attribute instead ("the lightest tent")."""
    c = constraints or Constraints()
    c = replace(c, exclude_ids=tuple(dict.fromkeys((*c.exclude_ids, *ctx.owned))))
    cands = ctx.shop.filter(c)
    words = constraint_words(c, ctx.currency)
    if not cands:
        return ProductList([], words)
    rel = ctx.shop.relevance(query, cands, ctx.retriever) if query else {}
    rec, evidence = _rec_scores(ctx, [p.id for p in cands])
    rec_r, rel_r = _rank01(rec), _rank01(rel) if rel else {}
    # Bayesian mean rating: a 5.0 from two reviews counts less than a 4.6 from forty.
    rating = {p.id: ((p.rating or 0.0) * p.rating_count + 3.5 * 5) / (p.rating_count + 5) for p in cands}
    rating_r = _rank01(rating)
    # Poorly rated products (with enough reviews to trust it) sink unless nothing else fits.
    poor = {
        p.id: 0.3 if p.rating is not None and p.rating < 3.0 and p.rating_count >= 3 else 0.0 for p in cands
    }
    w_rec, w_rel, w_rating = ctx.rank_weights
    blended = {
        p.id: w_rec * rec_r.get(p.id, 0)
        + w_rel * rel_r.get(p.id, 0)
        + w_rating * rating_r.get(p.id, 0)
        - poor[p.id]
        for p in cands
    }
    key = _sort_key(ctx, sort, blended)
    ranked = sorted(cands, key=key)[:k]
    if ctx.diversity > 0 and sort is None:  # an experiment arm's diversity re-ranking
        from assistant.arms import mmr

        ranked = mmr(sorted(cands, key=key)[: 5 * k], lambda p: blended[p.id], k, ctx.diversity)
    hits = []
    for p in ranked:
        hit = ctx.shop.hit(p, score=blended[p.id], matches=ctx.shop.matches(p, c))
        ev, ev_ids = evidence.get(p.id, ("", ()))
        hits.append(replace(_with_reason(hit, ev), evidence_ids=ev_ids))
    return ProductList(hits, words, personalized=bool(evidence))


def _sort_key(ctx: ToolContext, sort: tuple[str, str] | None, blended: dict[str, float]) -> Any:
    if sort is None:
        return lambda p: (-blended[p.id], p.id)
    attr, direction = sort
    sign = 1.0 if direction == "min" else -1.0

    def key(p: Product) -> tuple[float, float, str]:
        v = ctx.shop.value_of(p.id, attr)
        return (0.0 if v is not None else 1.0, sign * (v or 0.0), p.id)

    return key


def rank(
    ctx: ToolContext, product_ids: list[str], attribute: str, direction: str = "max", label: str = ""
) -> Ranking:
    """Order products by one attribute (price, rating or a catalog attribute): which is the lightest,
    the cheapest, the longest-lasting. Products without the attribute are left out."""
    vals = {
        pid: ctx.shop.value_of(pid, attribute)
        for pid in dict.fromkeys(product_ids)
        if pid in ctx.shop.products
    }
    known = [pid for pid, v in vals.items() if v is not None]
    ordered = sorted(known, key=lambda pid: (vals[pid] if direction == "min" else -(vals[pid] or 0.0), pid))
    hits = [_with_reason(ctx.shop.hit(ctx.shop.products[pid]), None) for pid in ordered]
    raw = {pid: ctx.shop.products[pid].attributes.get(attribute, "") for pid in ordered}
    return Ranking(hits, attribute, direction, raw, label)


def _with_reason(hit: ProductHit, evidence: str | None) -> ProductHit:
    return replace(hit, reason=_reason(hit, evidence), evidence=evidence or "")


def search_products(
    ctx: ToolContext, query: str, constraints: Constraints | None = None, k: int = 5
) -> ProductList:
    """Search the catalog by text (hybrid lexical + dense retrieval) within optional constraints."""
    c = constraints or Constraints()
    cands = ctx.shop.filter(c)
    rel = ctx.shop.relevance(query, cands, ctx.retriever)
    ranked = sorted((p for p in cands if rel.get(p.id, 0) > 0), key=lambda p: (-rel[p.id], p.id))[:k]
    hits = [
        _with_reason(ctx.shop.hit(p, score=rel[p.id], matches=ctx.shop.matches(p, c)), None) for p in ranked
    ]
    return ProductList(hits, constraint_words(c, ctx.currency))


def product_details(ctx: ToolContext, product_id: str) -> ProductDetails:
    """Everything the catalog knows about one product: price, rating, stock, attributes, description."""
    p = ctx.shop.products.get(product_id)
    if p is None:
        return ProductDetails(None)
    return ProductDetails(_with_reason(ctx.shop.hit(p), None), p.description, dict(p.attributes))


def compare(ctx: ToolContext, product_ids: list[str], attributes: list[str] | None = None) -> Comparison:
    """Compare products side by side: attributes, prices, ratings and review sentiment; ``attributes``
    (attribute keys) limits the side-by-side to what was asked about."""
    prods = [ctx.shop.products[i] for i in dict.fromkeys(product_ids) if i in ctx.shop.products]
    keys = sorted({k for p in prods for k in p.attributes if not attributes or k in attributes})
    attrs = {k: {p.id: p.attributes.get(k, "-") for p in prods} for k in keys}
    share: dict[str, float | None] = {}
    for p in prods:
        revs = ctx.shop.reviews.get(p.id, [])
        share[p.id] = None if not revs else sum(r.rating >= 4 for r in revs) / len(revs)
    return Comparison([_with_reason(ctx.shop.hit(p), None) for p in prods], attrs, share)


def product_qa(
    ctx: ToolContext, product_id: str, question: str, aspect: str | None = None, k: int = 2
) -> ProductAnswer:
    """Answer a question about one product from its record, description and reviews; ``aspect`` is the
    attribute asked about when known ("weight_g"). Returns the review ids used."""
    p = ctx.shop.products.get(product_id)
    if p is None:
        return ProductAnswer(None, [])
    snips = ctx.shop.review_snippets(product_id, question, k, ctx.retriever)
    desc = ctx.shop.description_snippet(p, question)
    spec = ctx.shop.spec_snippet(p, question, aspect)  # the record's own figure beats a reviewer's impression
    return ProductAnswer(
        _with_reason(ctx.shop.hit(p), None), ([spec] if spec else []) + ([desc] if desc else []) + snips
    )


TOOLS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        recommend,
        search_products,
        rank,
        product_details,
        compare,
        product_qa,
        order_status,
        cancel_order,
        return_or_refund,
        policy_qa,
        handoff,
        privacy,
    )
}


def call_tool(name: str, ctx: ToolContext, **kwargs: Any) -> Any:
    if name not in TOOLS:
        raise KeyError(f"unknown tool {name!r}: choose one of {', '.join(TOOLS)}")
    return TOOLS[name](ctx, **kwargs)


def as_langchain_tools(ctx: ToolContext) -> list[Any]:
    """The registry as langchain-core StructuredTools bound to one context (adapter at the edge)."""
    from functools import partial

    from langchain_core.tools import StructuredTool
    from pydantic import create_model

    out = []
    for name, fn in TOOLS.items():
        sig = inspect.signature(fn)
        hints = inspect.get_annotations(fn, eval_str=True)
        fields = {
            p: (hints[p], ... if prm.default is inspect.Parameter.empty else prm.default)
            for p, prm in sig.parameters.items()
            if p != "ctx"
        }
        schema = create_model(f"{name}_args", **fields)  # type: ignore[call-overload]
        out.append(
            StructuredTool.from_function(
                func=partial(fn, ctx), name=name, description=inspect.getdoc(fn) or name, args_schema=schema
            )
        )
    return out
