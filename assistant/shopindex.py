"""In-memory lookups over the catalog that the tools and the grounding check share.

Built once per Assistant from any object with ``products``, ``reviews`` and ``policies``
lists (``knowledge.catalog.Catalog`` or the demo shop). Retrieval goes through the injected
``knowledge.retrieve.Retriever`` when there is one; the small lexical scorer here only
serves catalogs without an index (and unit tests).
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from knowledge.records import Policy, Product, Review

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(["a", "an", "the", "and", "or", "of", "for", "to", "in", "on", "with", "is", "are", "it", "this", "that", "my", "me", "i", "you", "your", "do", "does", "can", "what", "how", "about", "any", "have", "has", "be", "was", "will", "would", "should", "under", "over", "than"])


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


# Question words that name an attribute without its catalog word.
ASK_SYNONYMS = {"heavy": "weight", "color": "colour", "colors": "colour", "big": "capacity",
                "size": "capacity", "roomy": "capacity", "waterproof": "water", "rain": "water", "wet": "water",
                "loud": "output", "powerful": "power", "charge": "battery", "last": "battery", "lasts": "battery"}


def _stem(w: str) -> str:
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


@functools.lru_cache(maxsize=8192)
def _stems(text: str) -> frozenset[str]:
    # Memoised: every filter() call matches the category against all products' titles (was ~5 ms a turn).
    return frozenset(_stem(w) for w in words(text))


@dataclass(frozen=True)
class Snip:
    """A quoted piece of retrieved text with the id of its record. Data, never instructions."""

    id: str
    kind: str  # review | policy | description
    text: str
    product_id: str | None = None
    rating: int | None = None


class ShopIndex:
    def __init__(self, products: list[Product], reviews: list[Review], policies: list[Policy],
                 interactions: list[dict[str, Any]] | None = None) -> None:
        self.products: dict[str, Product] = {p.id: p for p in products}
        self.reviews: dict[str, list[Review]] = defaultdict(list)
        for r in reviews:
            self.reviews[r.product_id].append(r)
        self.policies = list(policies)
        self._policy_text = {p.id: p.text for p in policies}
        self.passages: list[Snip] = [
            Snip(f"{pol.id}#{i}", "policy", para.strip())
            for pol in policies for i, para in enumerate(p for p in re.split(r"\n\s*\n", pol.text) if p.strip())
        ]
        counts = Counter(e["product_id"] for e in (interactions or []) if e.get("event") in ("purchase", "cart"))
        self._pop = {pid: counts.get(pid, 0) + 0.1 * p.rating_count for pid, p in self.products.items()}
        self.brands = sorted({p.brand for p in products if p.brand}, key=str.lower)
        # The shop's "now" for date rules (return window). None = the real clock; a demo or
        # snapshot shop lives at the time its data was generated (see ``shop_clock``).
        self.now: datetime | None = None

    def clock(self) -> datetime:
        """The shop's current time (naive UTC, like the stored timestamps)."""
        return self.now if self.now is not None else datetime.now(UTC).replace(tzinfo=None)

    @classmethod
    def from_catalog(cls, catalog: Any, now: datetime | None = None) -> ShopIndex:
        """``now`` = the configured shop clock (``AISLE_SHOP_NOW``); see ``shop_clock``."""
        shop = cls(list(catalog.products), list(catalog.reviews), list(catalog.policies),
                   list(getattr(catalog, "interactions", []) or []))
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

    @staticmethod
    def _cat_match(p: Product, category: str) -> bool:
        want = _stems(category)
        return bool(want) and want <= _stems(p.category + " " + p.title)

    @staticmethod
    def _attr_match(p: Product, key: str, value: str | list[str]) -> bool:
        if isinstance(value, list | tuple):  # values read off the catalog (infer_attributes): exact, any-of
            want = {str(v).lower() for v in value}
            if str(p.attributes.get(key, "")).lower() in want:
                return True
            # A title that says it ("... Eau de Parfum") counts even where the attribute record disagrees.
            title = p.title.lower()
            return any(re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", title) for v in want
                       if v not in ("yes", "no") and not re.fullmatch(r"[\d.\- ]+", v))
        if p.attributes.get(key, "").lower() == value.lower():
            return True
        hay = " ".join([p.title, p.description, *p.attributes.values()]).lower()
        return value.lower() in hay

    def filter(self, *, category: str | None = None, brands: list[str] | None = None,
               exclude_brands: list[str] | None = None, price_min: float | None = None,
               price_max: float | None = None, min_rating: float | None = None,
               attributes: dict[str, Any] | None = None, exclude_ids: list[str] | None = None,
               in_stock: bool = False) -> list[Product]:
        want_brands = {b.lower() for b in brands or []}
        no_brands = {b.lower() for b in exclude_brands or []}
        skip = set(exclude_ids or [])
        out = []
        for p in self.products.values():
            brand = (p.brand or "").lower()
            if p.id in skip or (want_brands and brand not in want_brands) or brand in no_brands:
                continue
            if category and not self._cat_match(p, category):
                continue
            if price_min is not None and (p.price is None or p.price < price_min):
                continue
            if price_max is not None and (p.price is None or p.price > price_max):
                continue
            if min_rating is not None and (p.rating is None or p.rating < min_rating):
                continue
            if in_stock and p.in_stock is False:
                continue
            if attributes and not all(self._attr_match(p, k, v) for k, v in attributes.items()):
                continue
            out.append(p)
        return out

    def infer_category(self, text: str) -> str | None:
        """The one leaf category a request names by a word of its leaf name ("she loves yoga" ->
        Yoga Mats), or None when no leaf or several match (the shopper is asked instead)."""
        said = {_stem(w) for w in words(text)}
        leaves: dict[str, set[str]] = defaultdict(set)
        for p in self.products.values():
            leaf = p.category.split(">")[-1].strip()
            for w in words(leaf):
                if len(w) >= 4:
                    leaves[_stem(w)].add(leaf)
        hit = {leaf for w in said for leaf in leaves.get(w, ())}
        return next(iter(hit)) if len(hit) == 1 else None

    def _title_words(self, text: str, cands: list[Product]) -> list[str]:
        """Descriptive title words the text uses that split the category ("mechanical" keyboards):
        in some titles but not all, and not a brand, a model name or a category word."""
        if len(cands) < 2:
            return []
        model = getattr(self, "_model_words", None)
        if model is None:
            model = set()
            for p in self.products.values():
                toks = [t.lower() for t in p.title.split()]
                model.update(toks[1:2])  # the model name ("Pulse") and short variants ("Pro", "300")
                model.update(t for t in toks[2:3] if len(t) <= 4 or t.isdigit())
                model.update(w for w in words(p.brand or ""))
            self._model_words = model
        said = set(re.findall(r"[a-z][a-z-]{3,}", text.lower()))
        # Words that are attribute values ("wireless") are the attribute rules' business, not the title's.
        cat_words = {w for p in cands for w in words(p.category + " " + " ".join(map(str, p.attributes.values())))}
        out = []
        for w in sorted(said - model - cat_words - _STOP):
            n = sum(1 for p in cands if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", p.title.lower()))
            if 2 <= n < len(cands):
                out.append(w)
        return out

    def infer_attributes(self, text: str, category: str | None) -> dict[str, list[str]]:
        """Attribute constraints the text states in the catalog's own words, for one category.

        "espresso machine" -> type in [espresso]; "insulated" -> insulated in [yes]; "tent for 4 people"
        -> capacity_people in [4]; "at least 65W" -> output_watts in [65, 100, 140]. Only attributes
        whose values differ within the category count, so a word that names the category is no filter.
        """
        cands = self.filter(category=category) if category else []
        vals: dict[str, set[str]] = defaultdict(set)
        for p in cands:
            for k, v in p.attributes.items():
                vals[k].add(str(v))
        t = " " + text.lower().replace("\u2019", "'") + " "
        out: dict[str, list[str]] = {}
        for key, vs in vals.items():
            if len(vs) < 2:
                continue
            low = {v.lower() for v in vs}
            if low <= {"yes", "no"}:
                kw = re.escape(key.replace("_", " ").lower())
                if re.search(rf"\b(?:non-?|not |no |without ){kw}\b", t):
                    out[key] = [v for v in vs if v.lower() == "no"]
                elif re.search(rf"\b{kw}\b", t):
                    out[key] = [v for v in vs if v.lower() == "yes"]
                continue
            num = _number_constraint(t, key)
            if num is not None:
                hit = [v for v in vs if _num_ok(v, *num)]
                if hit:
                    out[key] = sorted(hit)
                continue
            words_hit = [v for v in vs if not re.fullmatch(r"[\d.]+", v)
                         and (re.search(rf"(?<![\w-]){re.escape(v.lower())}(?![\w-])", t)
                              # "strategic" states "strategy": a long single word matched by its stem
                              or (re.fullmatch(r"[a-z]{7,}", v.lower()) is not None
                                  and re.search(rf"\b{re.escape(v.lower()[:6])}[a-z]*\b", t) is not None)
                              or _distinct_word(v, low, t))]
            if words_hit:
                out[key] = [max(words_hit, key=len)]  # "4-season" over "season"-like shorter hits
        stated = " ".join([str(v).lower() for vs in out.values() for v in vs] + [k.replace("_", " ") for k in out])
        for w in self._title_words(t, cands):
            if w not in stated:  # matched by the title (see _attr_match): "title" is no catalog attribute
                out[f"title:{w}"] = [w]
        return out

    def matches(self, p: Product, price_min: float | None, price_max: float | None, brands: list[str] | None,
                attributes: dict[str, Any] | None, category: str | None) -> tuple[str, ...]:
        """The session constraints this product satisfies, in plain words (for the card's reason)."""
        out: list[str] = []
        if price_max is not None and p.price is not None and p.price <= price_max:
            out.append(f"under ${price_max:,.0f}")
        elif price_min is not None and p.price is not None and p.price >= price_min:
            out.append(f"over ${price_min:,.0f}")
        if brands and p.brand and p.brand.lower() in {b.lower() for b in brands}:
            out.append(p.brand)
        out += [attr_words(k, v) for k, v in (attributes or {}).items() if self._attr_match(p, k, v)]
        return tuple(out)

    def hit(self, p: Product, score: float = 0.0, matches: tuple[str, ...] = ()) -> Any:
        from assistant.tool_results import ProductHit

        return ProductHit(p.id, p.title, p.brand, p.price, p.currency, p.rating, p.rating_count, p.in_stock,
                          p.category, score=score, matches=matches)

    def relevance(self, query: str, cands: list[Product], retriever: Any | None) -> dict[str, float]:
        """How well each candidate matches the request text (retriever when present, else word overlap)."""
        ids = {c.id for c in cands}
        if retriever is not None:
            from knowledge.retrieve import Filters

            hits = retriever.search(query, Filters(), k=min(100, max(20, len(self.products))), kind="product")
            return {h.id: float(h.score) for h in hits if h.id in ids}
        q = {_stem(w) for w in words(query)}
        out = {}
        for c in cands:
            title = {_stem(w) for w in words(c.title + " " + c.category + " " + (c.brand or ""))}
            body = {_stem(w) for w in words(c.description + " " + " ".join(c.attributes.values()))}
            out[c.id] = 2.0 * len(q & title) + 0.5 * len(q & body)
        return out

    # --- snippets --------------------------------------------------------------------------
    def review_snippets(self, product_id: str, question: str, k: int, retriever: Any | None) -> list[Snip]:
        if retriever is not None:
            hits = retriever.reviews_for(product_id, question, k)
            return [Snip(h.id, "review", focus(h.text, question, 110), product_id, (h.metadata or {}).get("rating"))
                    for h in hits]
        q = {_stem(w) for w in words(question)}
        revs = self.reviews.get(product_id, [])
        scored = sorted(revs, key=lambda r: (-len(q & {_stem(w) for w in words(r.title + " " + r.text)}), r.id))
        return [Snip(r.id, "review", focus(r.text, question, 110), product_id, r.rating) for r in scored[:k]]

    def spec_snippet(self, p: Product, question: str) -> Snip | None:
        """The product's attributes the question asks about ("how long does the battery last?" ->
        battery life hours: 60; "on-ear or over-ear?" -> form factor: over-ear), from the record."""
        q = {_stem(w) for w in words(question)} - {_stem(w) for w in words(p.title)}
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
            key_words = {_stem(w) for w in words(k.replace("_", " ")) if len(w) >= 4 and w != "hours"}
            asked_value = any(len(x) >= 3 and re.search(rf"(?<![\w-]){re.escape(x)}(?![\w-])", low)
                              for x in self._attr_values.get(k, ()) if not x.replace(".", "").isdigit())
            asked_key = bool(key_words & q) or any(
                (len(w) >= 5 and kw.startswith(w)) or (len(kw) >= 5 and w.startswith(kw)) for w in q for kw in key_words)
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
        q = {_stem(w) for w in words(question)} - {_stem(w) for w in words(p.title + " " + p.category)}
        best = max(sentences, key=lambda s: len(q & {_stem(w) for w in words(s)}))
        if not q & {_stem(w) for w in words(best)}:
            return None
        return Snip(f"{p.id}:description", "description", _clip(best, 160), p.id)

    def policy_snippets(self, question: str, k: int, retriever: Any | None, topic: str | None = None) -> list[Snip]:
        """The best passage of each of the k most relevant policies, cited by the policy's id."""
        if retriever is not None:
            hits = retriever.policies(question, k + (2 if topic else 0))
            if topic:  # the retriever ranks by text; a tool that knows its topic puts that policy first
                hits = sorted(hits, key=lambda h: h.id not in self._topic_ids(topic))
            if topic and self._topic_ids(topic) and (not hits or hits[0].id not in self._topic_ids(topic)):
                hits = []  # the topic's policy was not retrieved: quote it from the catalog below
            if hits:  # quote the most relevant sentences of the whole policy, not just the hit chunk
                return [Snip(h.id, "policy", focus(self._policy_text.get(h.id, h.text), question, 400)) for h in hits[:k]]
        q = {_stem(w) for w in words(question)}
        scored = sorted(self.passages, key=lambda s: (not (topic and s.id.split("#")[0] in self._topic_ids(topic)),
                                                      -len(q & {_stem(w) for w in words(s.text)})))
        out: list[Snip] = []
        for s in scored:
            pid = s.id.split("#")[0]
            if all(o.id != pid for o in out):
                out.append(Snip(pid, "policy", focus(self._policy_text.get(pid, s.text), question, 400)))
            if len(out) >= k:
                break
        return out

    def _topic_ids(self, topic: str) -> set[str]:
        return {p.id for p in self.policies if p.topic == topic or p.id == topic}

    def return_window_days(self, default: int = 30) -> int:
        for pol in self.policies:
            if pol.topic == "returns" or pol.id == "returns":
                m = re.search(r"(\d{1,3})[- ]days?", pol.text)
                if m:
                    return int(m.group(1))
        return default


_UNITS = {"people": r"people|persons?|adults?|friends|players", "players": r"players|people|persons?|friends",
          "in": r"inch(?:es)?|in\b|\"", "watts": r"w\b|watts?", "hz": r"hz", "l": r"l\b|litres?|liters?"}


def attr_words(key: str, value: str | list[str]) -> str:
    """A constraint for a card's reason: "espresso", "insulated", "4 people"-style plain words."""
    vals = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    if {v.lower() for v in vals} <= {"yes", "no"}:
        return ("not " if vals[0].lower() == "no" else "") + key.replace("_", " ")
    if all(re.fullmatch(r"[\d.\-]+", v) for v in vals):
        return f"{key.replace('_', ' ')} {'/'.join(vals)}"
    return " or ".join(vals)


def _distinct_word(value: str, values: set[str], t: str) -> bool:
    """"nonstick pans" states material "ceramic nonstick": a long word no other value of the key has."""
    own = value.lower().split()
    if len(own) < 2:
        return False
    others = {w for v in values if v != value.lower() for w in v.split()}
    return any(len(w) >= 5 and w not in others and re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", t) for w in own)


def _number_constraint(t: str, key: str) -> tuple[float, str] | None:
    """(number, op) when the text states a number in the unit the attribute key ends with."""
    unit = _UNITS.get(key.rsplit("_", 1)[-1])
    if unit is None:
        return None
    m = re.search(rf"(at least|minimum|min\.?|over|more than|\d+\s*\+|up to|at most|max(?:imum)?)?\s*"
                  rf"(?:of\s+)?(\d+(?:\.\d+)?)\s*-?\s*(?:{unit})", t)
    if m is None:
        return None
    op = m.group(1) or ""
    return float(m.group(2)), (">=" if op and op[0] in "aomd" and not op.startswith("at most") else
                               "<=" if op.startswith(("up to", "at most", "max")) else "=")


def _num_ok(value: str, n: float, op: str) -> bool:
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", value)]
    if not nums:
        return False
    if len(nums) == 2 and "-" in value:  # a range such as players "2-6": the stated number must fit
        return nums[0] <= n <= nums[1] if op == "=" else (nums[1] >= n if op == ">=" else nums[0] <= n)
    return nums[0] == n if op == "=" else (nums[0] >= n if op == ">=" else nums[0] <= n)


def _clip(text: str, n: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


_SENT = re.compile(r"(?<![ap]\.m\.)(?<=[.!?])\s+")  # sentence ends, but not "1 p.m. Eastern"


def focus(text: str, question: str, n: int) -> str:
    """The sentences of ``text`` that best match the question, in their original order, within n chars.

    A sentence's section heading counts towards its match ("## How to make a claim" makes the
    sentence under it the answer to "how do I make a warranty claim?") but is not quoted."""
    paras: list[str] = []
    heads: list[str] = []  # the heading above each paragraph
    head = ""

    def new_para(p: str = "") -> None:
        paras.append(p)
        heads.append(head)

    for line in text.replace("**", "").splitlines():
        line = line.strip()
        if line and set(line) <= set("|-: "):  # a table rule: the row above it was the header
            while paras and not paras[-1]:
                paras.pop()
                heads.pop()
            if paras and paras[-1].startswith("\x00"):
                paras.pop()
                heads.pop()
            new_para()
        elif not line or line.startswith("#"):
            if line.startswith("#"):
                head = line.lstrip("#").strip()
            new_para()  # headings end a paragraph and are not quoted
        elif line.startswith("|"):
            new_para("\x00" + ", ".join(c.strip() for c in line.strip("|").split("|")) + ".")
            new_para()
        elif paras:
            paras[-1] = (paras[-1] + " " + line).strip()
        else:
            new_para(line)
    pairs = [(s.strip().lstrip("\x00"), h) for para, h in zip(paras, heads, strict=True)
             for s in _SENT.split(para) if len(s.strip().lstrip("\x00")) > 2]
    if len(pairs) > 1:  # a review's one-word title ("Fantastic.") says nothing the rating does not
        pairs = [x for x in pairs if len(x[0]) >= 15] or pairs
    sents = [x[0] for x in pairs]
    if sum(len(s) + 1 for s in sents) <= n:
        return _clip(" ".join(sents), n)
    q = {_stem(w) for w in words(question)}

    def score(i: int) -> float:
        body = {_stem(w) for w in words(pairs[i][0])}
        under = {_stem(w) for w in words(pairs[i][1])} - body
        # Word overlap with the question; policies state their key facts in numbers (days, dollars).
        return len(q & body) + 0.75 * len(q & under) + 0.5 * bool(re.search(r"\d", pairs[i][0]))

    ranked = sorted(range(len(sents)), key=lambda i: (-score(i), i))
    keep: list[int] = []
    used = 0
    for i in ranked:
        if used + len(sents[i]) + 1 > n and keep:
            continue
        keep.append(i)
        used += len(sents[i]) + 1
    return _clip(" ".join(sents[i] for i in sorted(keep)), n)


def _naive_utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo is not None else ts


def shop_clock(configured: datetime | None, product_ids: set[str], demo_dir: Path | None = None) -> datetime | None:
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
