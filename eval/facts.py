"""The shop's ground truth for scoring (catalog, orders, policies), and the claim checker that
finds product names, prices and ratings in an answer and checks them against it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_SENT = re.compile(r"(?<=[.!?])\s+|\n+")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-+.]*[A-Za-z0-9+]|[A-Za-z0-9]")
_PRICE = re.compile(r"(?:\$|USD\s?)\s?(\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)")
_RATING = re.compile(
    r"(\d(?:\.\d{1,2})?)\s*(?:/\s*5\b|out of 5\b|-?\s?stars?\b)|\brated\s+(\d(?:\.\d{1,2})?)\b"
    r"|\brating(?: of|:)?\s+(\d(?:\.\d{1,2})?)\b"
)
_ORDER = re.compile(r"\bORD-\d{6}\b", re.I)
_PID = re.compile(r"\bP\d{4}\b")
# "$80-$120", "under $50", "a budget of $60": the reply restating a constraint, not a price claim.
_RANGE = re.compile(r"\$\s?\d[\d,.]*\s*(?:-|–|to|and)\s*\$\s?\d[\d,.]*")
_BOUND = re.compile(
    r"(?:under|over|below|above|less than|more than|up to|at most|at least|around|about|budget(?: of| is)?"
    r"|within|max(?:imum)?|min(?:imum)?)\s*$",
    re.I,
)
_STOP = {
    "and",
    "or",
    "the",
    "is",
    "are",
    "has",
    "have",
    "makes",
    "offers",
    "also",
    "for",
    "with",
    "a",
    "an",
    "in",
    "on",
    "at",
    "to",
    "of",
    "by",
    "from",
    "if",
    "but",
    "so",
    "that",
    "this",
    "these",
    "those",
    "it",
    "its",
}


@dataclass
class Facts:
    """Lookup tables over a shop (anything with products / orders / policies / reviews lists)."""

    products: dict[str, Any]
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, Any] = field(default_factory=dict)
    reviews: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_brand: dict[str, list[tuple[list[str], str]]] = {}
        self.title_vocab: set[str] = set()
        for p in self.products.values():
            if not p.brand or not p.title.startswith(p.brand):
                continue
            rest = [t.lower() for t in _TOKEN.findall(p.title[len(p.brand) :])]
            self.by_brand.setdefault(p.brand, []).append((rest, p.id))
            self.title_vocab.update(rest[1:])  # words after the model name: generic descriptors
        # Brands longest first so "Basics Co." wins over a shorter overlapping name.
        self.brands = sorted(self.by_brand, key=len, reverse=True)
        self.models = {rest[0] for lst in self.by_brand.values() for rest, _ in lst if rest}
        self.policy_amounts = {a for pol in self.policies.values() for a in amounts(pol.text)}

    @classmethod
    def from_shop(cls, shop: Any) -> Facts:
        return cls(
            products={p.id: p for p in shop.products},
            orders={o["id"]: o for o in getattr(shop, "orders", [])},
            policies={p.id: p for p in getattr(shop, "policies", [])},
            reviews={r.id: r for r in getattr(shop, "reviews", [])},
        )


def amounts(text: str) -> list[float]:
    return [float(m.group(1).replace(",", "")) for m in _PRICE.finditer(text)]


def _numbers(text: str) -> set[float]:
    return {float(x.replace(",", "")) for x in re.findall(r"\d+(?:,\d{3})*(?:\.\d+)?", text)}


def product_mentions(sentence: str, facts: Facts) -> list[tuple[str, set[str]]]:
    """(surface text, candidate product ids) for each product named in a sentence. A brand followed
    by a capitalised token that is not a generic title word is a product name; when no catalog
    title of that brand matches, the candidate set is empty (an invented product)."""
    out: list[tuple[str, set[str]]] = []
    for brand in facts.brands:
        for m in re.finditer(r"(?<![\w'])" + re.escape(brand) + r"(?![\w'])", sentence):
            tail = sentence[m.end() :]
            toks = _TOKEN.findall(tail[:80])
            if not toks or not (toks[0][0].isupper() or toks[0][0].isdigit()):
                continue
            low = [t.lower() for t in toks]
            if low[0] in facts.title_vocab or low[0] in _STOP:
                continue  # "Sony Wireless Headphones": a kind of product, not a named one
            # An unknown word names a product only if it looks like a model name (a digit or an
            # inner capital: "WH-1000XM5", "QuietComfort", "AirPods"); "Apple Pay" does not.
            if low[0] not in facts.models and not (
                re.search(r"\d", toks[0])
                or re.search(r"[a-z][A-Z]", toks[0])
                or (len(toks) > 1 and toks[1][:1].isdigit())
            ):
                continue
            best, cands = 0, set()
            for rest, pid in facts.by_brand[brand]:
                n = 0
                while n < min(len(rest), len(low)) and rest[n] == low[n]:
                    n += 1
                if n > best:
                    best, cands = n, {pid}
                elif n == best and n > 0:
                    cands.add(pid)
            out.append((" ".join([brand, *toks[: max(best, 1)]]), cands if best > 0 else set()))
    for pid in _PID.findall(sentence):
        out.append((pid, {pid} if pid in facts.products else set()))
    return out


def _price_ok(value: float, allowed: set[float], cents_given: bool) -> bool:
    # "$129" for 128.99 is a rounding, not a wrong price; "$120" for 128.99 is wrong.
    tol = 0.005 if cents_given else 1.0
    return any(abs(value - a) < tol for a in allowed)


@dataclass
class ClaimReport:
    claims: int = 0
    supported: int = 0
    unknown_products: list[str] = field(default_factory=list)
    wrong_prices: list[str] = field(default_factory=list)
    wrong_ratings: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)


def _figures(sent: str) -> tuple[list[tuple[float, bool]], list[float], list[str]]:
    """The prices (value, cents given), star ratings and order ids a sentence states. Prices inside a
    range or after a bound word ("under $50") are the shopper's budget, not a claim."""
    spans = [m.span() for m in _RANGE.finditer(sent)]
    prices = [
        (float(m.group(1).replace(",", "")), "." in m.group(1))
        for m in _PRICE.finditer(sent)
        if not any(a <= m.start() < b for a, b in spans) and not _BOUND.search(sent[: m.start()])
    ]
    ratings = [float(next(g for g in m.groups() if g)) for m in _RATING.finditer(sent)]
    order_ids = [o.upper() for o in _ORDER.findall(sent)]
    return prices, ratings, order_ids


@dataclass(frozen=True)
class _Known:
    """Figures a sentence that names no product may restate: anything the tools returned in the
    conversation (product, order and cited-review figures) and the numbers the shopper typed."""

    user_nums: set[float]
    order_amounts: set[float]
    prices: set[float]
    ratings: set[float]
    review_ratings: set[float]

    @classmethod
    def of(
        cls, facts: Facts, returned: set[str], orders: set[str], user_text: str, review_ids: set[str]
    ) -> _Known:
        order_amounts = {
            float(x)
            for oid in orders
            if oid in facts.orders
            for x in [facts.orders[oid].get("total") or 0]
            + [it.get("price") or 0 for it in facts.orders[oid].get("items", [])]
        }
        prices = {
            facts.products[p].price for p in returned if p in facts.products and facts.products[p].price
        }
        ratings = {
            round(facts.products[p].rating, 1)
            for p in returned
            if p in facts.products and facts.products[p].rating is not None
        }
        review_ratings = {float(facts.reviews[r].rating) for r in review_ids if r in facts.reviews}
        return cls(_numbers(user_text), order_amounts, prices, ratings, review_ratings)


def _wrong_figures(
    sent: str,
    facts: Facts,
    named: set[str],
    known: _Known,
    figures: tuple[list[tuple[float, bool]], list[float], list[str]],
) -> tuple[list[str], list[str]]:
    """(wrong prices, wrong ratings) in one sentence. A sentence that names products is checked
    against those products; otherwise any product, order or policy figure the tools returned may be
    the one meant."""
    prices, ratings, order_ids = figures
    if named:
        allowed_p = {facts.products[p].price for p in named if facts.products[p].price is not None}
        allowed_r = {
            round(facts.products[p].rating, 1) for p in named if facts.products[p].rating is not None
        }
    else:
        allowed_p, allowed_r = known.prices | known.order_amounts, known.ratings | known.review_ratings
    allowed_p = (
        allowed_p | known.user_nums | facts.policy_amounts | (known.order_amounts if order_ids else set())
    )
    wrong_p = [
        f"${value:g} in: {sent[:120]}" for value, cents in prices if not _price_ok(value, allowed_p, cents)
    ]
    allowed_r = allowed_r | known.review_ratings | known.user_nums
    wrong_r = [
        f"{r:g} stars in: {sent[:120]}"
        for r in ratings
        if r > 5 or not any(abs(r - a) <= 0.051 for a in allowed_r)
    ]
    return wrong_p, wrong_r


def check_claims(
    text: str,
    facts: Facts,
    returned: set[str],
    *,
    orders: set[str] = frozenset(),  # type: ignore[assignment]
    user_text: str = "",
    review_ids: set[str] = frozenset(),  # type: ignore[assignment]
) -> ClaimReport:
    """Check every sentence that names a product, price, rating or order against tool results.

    `returned`: product ids the tools returned in this conversation (cards and citations);
    `orders`: order ids the tools returned; `user_text`: what the shopper typed (numbers they
    gave may be echoed); `review_ids`: cited reviews (their star ratings may be quoted)."""
    rep = ClaimReport()
    known = _Known.of(facts, returned, orders, user_text, review_ids)
    for sent in (s.strip() for s in _SENT.split(text)):
        if not sent:
            continue
        mentions = product_mentions(sent, facts)
        figures = _figures(sent)
        if not (mentions or any(figures)):
            continue
        rep.claims += 1
        ok = True
        named: set[str] = set()
        for surface, cands in mentions:
            hit = cands & returned
            if hit:
                named |= hit
            else:
                rep.unknown_products.append(surface)
                ok = False
        if any(oid not in orders and oid not in user_text.upper() for oid in figures[2]):
            ok = False
        wrong_prices, wrong_ratings = _wrong_figures(sent, facts, named, known, figures)
        rep.wrong_prices += wrong_prices
        rep.wrong_ratings += wrong_ratings
        if ok and not wrong_prices and not wrong_ratings:
            rep.supported += 1
        else:
            rep.unsupported.append(sent[:160])
    return rep
