"""In-memory lookups over the catalog that the tools and the grounding check share.

Built once per Assistant from any object with ``products``, ``reviews`` and ``policies``
lists (``knowledge.catalog.Catalog`` or the demo shop). Retrieval goes through the injected
``knowledge.retrieve.Retriever`` when there is one; the small lexical scorer here only
serves catalogs without an index (and unit tests).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.policyindex import PolicyIndex
from assistant.snippet import Snip
from assistant.textmatch import clip, focus, stem, words
from knowledge.constraints import Bound, Constraints, attr_number, filter_products
from knowledge.money import money_words
from knowledge.records import Policy, Product, Review

# Question words that name an attribute without its catalog word.
ASK_SYNONYMS = {
    "heavy": "weight",
    "color": "colour",
    "colors": "colour",
    "big": "capacity",
    "size": "capacity",
    "roomy": "capacity",
    "waterproof": "water",
    "rain": "water",
    "wet": "water",
    "loud": "output",
    "powerful": "power",
    "charge": "battery",
    "last": "battery",
    "lasts": "battery",
}


class ShopIndex(PolicyIndex):
    """The catalog's products and reviews for the tools, the policies (``PolicyIndex``) and the clock."""

    def __init__(
        self,
        products: list[Product],
        reviews: list[Review],
        policies: list[Policy],
        interactions: list[dict[str, Any]] | None = None,
    ) -> None:
        self.products: dict[str, Product] = {p.id: p for p in products}
        self.reviews: dict[str, list[Review]] = defaultdict(list)
        for r in reviews:
            self.reviews[r.product_id].append(r)
        super().__init__(policies)
        counts = Counter(
            e["product_id"] for e in (interactions or []) if e.get("event") in ("purchase", "cart")
        )
        self._pop = {pid: counts.get(pid, 0) + 0.1 * p.rating_count for pid, p in self.products.items()}
        self.brands = sorted({p.brand for p in products if p.brand}, key=str.lower)
        self.currency = Counter(p.currency for p in products).most_common(1)[0][0] if products else "USD"
        # The shop's "now" for date rules (return window). None = the real clock; a demo or
        # snapshot shop lives at the time its data was generated (see ``shop_clock``).
        self.now: datetime | None = None

    def clock(self) -> datetime:
        """The shop's current time (naive UTC, like the stored timestamps)."""
        return self.now if self.now is not None else datetime.now(UTC).replace(tzinfo=None)

    @classmethod
    def from_catalog(cls, catalog: Any, now: datetime | None = None) -> ShopIndex:
        """``now`` = the configured shop clock (``AISLE_SHOP_NOW``); see ``shop_clock``."""
        shop = cls(
            list(catalog.products),
            list(catalog.reviews),
            list(catalog.policies),
            list(getattr(catalog, "interactions", []) or []),
        )
        shop.now = shop_clock(now, set(shop.products))
        return shop

    def add_popularity(self, store: Any) -> None:
        """Count purchases and carts recorded in the store (the demo shop's history, live events)."""
        for ev in store.events(kinds=["purchase", "cart"]):
            pid = ev.get("product_id")
            if pid in self._pop:
                self._pop[pid] += 1.0 if ev["kind"] == "purchase" else 0.5

    # --- products --------------------------------------------------------------------------
    def popularity(self, ids: list[str]) -> dict[str, float]:
        return {i: self._pop.get(i, 0.0) for i in ids}

    def filter(self, c: Constraints) -> list[Product]:
        """The products that satisfy every constraint."""
        return filter_products(self.products.values(), c)

    def count(self, c: Constraints) -> int:
        return sum(1 for p in self.products.values() if c.matches(p))

    def value_of(self, product_id: str, attribute: str) -> float | None:
        """A product's number for ranking: its price, rating, or an attribute's first number."""
        p = self.products.get(product_id)
        val = attr_number(p, attribute) if p is not None else None
        return None if val is None else val[0]

    def matches(self, p: Product, c: Constraints) -> tuple[str, ...]:
        """The stated constraints this product satisfies, in plain words (for the card's reason)."""
        out: list[str] = []
        if c.price.max is not None and p.price is not None and p.price <= c.price.max:
            out.append(f"under {money_words(c.price.max, p.currency)}")
        elif c.price.min is not None and p.price is not None and p.price >= c.price.min:
            out.append(f"over {money_words(c.price.min, p.currency)}")
        if c.brands and p.brand and p.brand.lower() in {b.lower() for b in c.brands}:
            out.append(p.brand)
        out += [
            attr_words(k, list(v))
            for k, v in c.attributes.items()
            if Constraints(attributes={k: v}).matches(p)
        ]
        out += [bound_words(k, b) for k, b in c.bounds.items() if Constraints(bounds={k: b}).matches(p)]
        return tuple(out)

    def hit(self, p: Product, score: float = 0.0, matches: tuple[str, ...] = ()) -> Any:
        from assistant.tool_results import ProductHit

        return ProductHit(
            p.id,
            p.title,
            p.brand,
            p.price,
            p.currency,
            p.rating,
            p.rating_count,
            p.in_stock,
            p.category,
            score=score,
            matches=matches,
        )

    def relevance(self, query: str, cands: list[Product], retriever: Any | None) -> dict[str, float]:
        """How well each candidate matches the request text (retriever when present, else word overlap)."""
        ids = {c.id for c in cands}
        if retriever is not None:
            from knowledge.retrieve import Filters

            hits = retriever.search(query, Filters(), k=min(100, max(20, len(self.products))), kind="product")
            return {h.id: float(h.score) for h in hits if h.id in ids}
        q = {stem(w) for w in words(query)}
        out = {}
        for c in cands:
            title = {stem(w) for w in words(c.title + " " + c.category + " " + (c.brand or ""))}
            body = {stem(w) for w in words(c.description + " " + " ".join(c.attributes.values()))}
            out[c.id] = 2.0 * len(q & title) + 0.5 * len(q & body)
        return out

    # --- snippets --------------------------------------------------------------------------
    def review_snippets(self, product_id: str, question: str, k: int, retriever: Any | None) -> list[Snip]:
        if retriever is not None:
            hits = retriever.reviews_for(product_id, question, k)
            return [
                Snip(
                    h.id, "review", focus(h.text, question, 110), product_id, (h.metadata or {}).get("rating")
                )
                for h in hits
            ]
        q = {stem(w) for w in words(question)}
        revs = self.reviews.get(product_id, [])
        scored = sorted(
            revs, key=lambda r: (-len(q & {stem(w) for w in words(r.title + " " + r.text)}), r.id)
        )
        return [Snip(r.id, "review", focus(r.text, question, 110), product_id, r.rating) for r in scored[:k]]

    def spec_snippet(self, p: Product, question: str, aspect: str | None = None) -> Snip | None:
        """The product's attributes the question asks about ("how long does the battery last?" ->
        battery life hours: 60; "on-ear or over-ear?" -> form factor: over-ear), from the record.
        ``aspect`` (the attribute the parser read from the question) decides when the record has it."""
        if aspect and aspect in p.attributes:
            return Snip(f"{p.id}:specs", "spec", f"{aspect.replace('_', ' ')}: {p.attributes[aspect]}", p.id)
        q = {stem(w) for w in words(question)} - {stem(w) for w in words(p.title)}
        low = " " + question.lower().replace(p.title.lower(), " ") + " "
        if not hasattr(self, "_attr_values"):
            vals: dict[str, set[str]] = defaultdict(set)
            for prod in self.products.values():
                for k, v in prod.attributes.items():
                    vals[k].add(str(v).lower())
            self._attr_values = vals
        # Shoppers ask with a verb or a US spelling ("what does it weigh", "what color"): a word that
        # starts an attribute's name ("weigh" -> weight_kg) or a listed synonym asks for it too.
        q |= {ASK_SYNONYMS[w] for w in q if w in ASK_SYNONYMS}
        hits = []
        for k, v in p.attributes.items():
            key_words = {stem(w) for w in words(k.replace("_", " ")) if len(w) >= 4 and w != "hours"}
            asked_value = any(
                len(x) >= 3 and re.search(rf"(?<![\w-]){re.escape(x)}(?![\w-])", low)
                for x in self._attr_values.get(k, ())
                if not x.replace(".", "").isdigit()
            )
            asked_key = bool(key_words & q) or any(
                (len(w) >= 5 and kw.startswith(w)) or (len(kw) >= 5 and w.startswith(kw))
                for w in q
                for kw in key_words
            )
            if asked_key or asked_value:
                hits.append(f"{k.replace('_', ' ')}: {v}")
        if not hits:
            return None
        return Snip(f"{p.id}:specs", "spec", "; ".join(hits[:3]), p.id)

    def description_snippet(self, p: Product, question: str) -> Snip | None:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", p.description) if s.strip()]
        if not sentences:
            return None
        # Only a sentence that shares a word with the question (beyond the product's own name) helps.
        q = {stem(w) for w in words(question)} - {stem(w) for w in words(p.title + " " + p.category)}
        best = max(sentences, key=lambda s: len(q & {stem(w) for w in words(s)}))
        if not q & {stem(w) for w in words(best)}:
            return None
        return Snip(f"{p.id}:description", "description", clip(best, 160), p.id)


def bound_words(key: str, b: Bound) -> str:
    """ "battery life hours 30+" -> plain words for a numeric bound."""
    name = key.replace("_", " ")
    if b.min is not None and b.max is not None:
        return f"{name} {b.min:g}-{b.max:g}"
    return f"{name} {b.min:g}+" if b.min is not None else f"{name} up to {b.max:g}"


def attr_words(key: str, value: str | list[str]) -> str:
    """A constraint for a card's reason: "espresso", "insulated", "4 people"-style plain words."""
    vals = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    if {v.lower() for v in vals} <= {"yes", "no"}:
        return ("not " if vals[0].lower() == "no" else "") + key.replace("_", " ")
    if all(re.fullmatch(r"[\d.\-]+", v) for v in vals):
        return f"{key.replace('_', ' ')} {'/'.join(vals)}"
    return " or ".join(vals)


def _naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo is not None else ts


def shop_clock(
    configured: datetime | None, product_ids: set[str], demo_dir: Path | None = None
) -> datetime | None:
    """The shop's "now": the configured one (``AISLE_SHOP_NOW``), else the demo manifest's ``now``
    when the catalog is the demo shop's (its orders were delivered relative to that date, so the
    wall clock would put every delivery outside the return window), else None (real clock)."""
    if configured is not None:
        return _naive_utc(configured)
    if demo_dir is None:
        from knowledge.demo import DEMO_DIR

        demo_dir = DEMO_DIR
    import json

    try:
        manifest = json.loads((demo_dir / "manifest.json").read_text(encoding="utf-8"))
        with (demo_dir / "products.jsonl").open(encoding="utf-8") as fh:
            demo_ids = {json.loads(line)["id"] for line in fh if line.strip()}
    except (OSError, ValueError, KeyError):  # no demo data shipped: a real shop
        return None
    if not product_ids or not product_ids <= demo_ids or not manifest.get("now"):
        return None
    return _naive_utc(datetime.fromisoformat(str(manifest["now"]).replace("Z", "+00:00")))
