"""Grounding check for generated answers.

An answer passes when every product it names is among the tool results, every price and
rating it states matches the record of the product it is about, every bracketed source id
exists in the facts, and a support answer cites (or clearly uses) a policy passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from knowledge.records import Product

if TYPE_CHECKING:
    from assistant.generate.facts import Facts

# A price in any currency a shop may quote: symbol or code before ("$91.99", "SAR 1,499", "₹1,499.00") or
# after the number ("1,499 SAR", "24,99 €", "90 dollars").
_CUR = r"(?:US\$|\$|£|€|₹|﷼|Rs\.?|USD|GBP|EUR|INR|SAR|SR|AED|JPY|CAD|AUD)"
_CUR_WORD = r"(?:dollars|pounds|euros|rupees|riyals|USD|GBP|EUR|INR|SAR|€|£)"
_PRICE = re.compile(
    rf"{_CUR}\s?(\d{{1,3}}(?:,\d{{3}})+|\d+)(\.\d{{1,2}})?(?!\d)"
    rf"|(?<![\w.,])(\d{{1,3}}(?:,\d{{3}})+|\d+)((?:[.,]\d{{1,2}})?)\s?{_CUR_WORD}(?![a-z])",
    re.I,
)
_RATING = re.compile(
    r"(?<![\d.$])(\d(?:\.\d{1,2})?)\s*(?:/\s*5\b|out of 5|-?\s?stars?\b|★)"
    r"|\brat(?:ed|ing)(?: of| is| at)?\s+(\d(?:\.\d{1,2})?)(?![\d%])",
    re.I,
)
_CITE = re.compile(r"\[([^\[\]\s]{1,80})\]")
_ID_LIKE = re.compile(r"(?<![\w#-])([A-Z]{1,4}-?\d{3,})(?![\w-])")  # R00751, P0009, ORD-104110
# Units of numeric attributes, by the attribute name's last word: "battery_life_hours" -> "25 hours".
_UNITS = {
    "hours": r"h(?:ours?|rs?)?",
    "days": r"days?",
    "minutes": r"min(?:utes?|s)?",
    "min": r"min(?:utes?|s)?",
    "g": r"g(?:rams?)?",
    "kg": r"kg|kilo(?:gram)?s?",
    "watts": r"w(?:atts?)?",
    "in": r"-?inch(?:es)?|in\b|\"",
    "l": r"l|lit(?:re|er)s?",
    "hz": r"hz",
    "mm": r"mm",
    "lb": r"lbs?|pounds?",
    "ml": r"ml",
    "cm": r"cm",
    "ft": r"ft|feet|foot",
    "mbps": r"mb/?s|mbps",
    "people": r"people|persons?",
}
_NUM_UNIT = re.compile(
    r"(?<![\w.$])(\d+(?:\.\d+)?)\s?(" + "|".join(f"(?:{u})" for u in _UNITS.values()) + r")(?![a-z])", re.I
)


def _norm(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


@dataclass
class GroundingReport:
    unknown_products: list[str] = field(default_factory=list)
    wrong_prices: list[str] = field(default_factory=list)
    wrong_ratings: list[str] = field(default_factory=list)
    wrong_attributes: list[str] = field(
        default_factory=list
    )  # "25 hours" of battery where the record says 60
    bad_citations: list[str] = field(default_factory=list)
    missing_citation: bool = False
    citations: list[str] = field(default_factory=list)  # ids of facts the answer cites or uses

    @property
    def ok(self) -> bool:
        return not (
            self.unknown_products
            or self.wrong_prices
            or self.wrong_ratings
            or self.wrong_attributes
            or self.bad_citations
            or self.missing_citation
        )


class Grounder:
    """Knows every catalog product's name keys so it can spot products the tools did not return."""

    def __init__(self, products: list[Product]) -> None:
        self.products = {p.id: p for p in products}
        # A product is named by its full title or a shortened "Brand Model" prefix (2-3 words).
        self._keys: dict[str, set[str]] = {}
        for p in products:
            toks = p.title.split()
            for n in {len(toks), 3, 2}:
                if 2 <= n <= len(toks):
                    self._keys.setdefault(_norm(" ".join(toks[:n])).strip(), set()).add(p.id)
            self._keys.setdefault(p.id.lower(), set()).add(p.id)
        alts = sorted(self._keys, key=len, reverse=True)
        self._key_rx = (
            re.compile(
                r"(?<![a-z0-9])("
                + "|".join(r"[\W_]+".join(map(re.escape, k.split())) for k in alts)
                + r")(?![a-z0-9])",
                re.I,
            )
            if alts
            else None
        )
        brands = sorted({p.brand for p in products if p.brand}, key=len, reverse=True)
        generic = {
            w
            for p in products
            for w in re.findall(r"[a-z]+", (p.category + " " + " ".join(p.attributes.values())).lower())
        }
        self._generic = generic | {
            "products",
            "product",
            "range",
            "line",
            "options",
            "brand",
            "and",
            "or",
            "is",
            "has",
        }
        # "Brand Capitalised-word" that is no catalog product is a product the model made up.
        self._brand_rx = (
            re.compile(r"\b(" + "|".join(map(re.escape, brands)) + r")\s+([A-Z0-9][\w-]*)")
            if brands
            else None
        )

    def forbid(self, names: list[str]) -> None:
        """Names that are never a real product here (the prompt's worked examples): always flagged."""
        self._forbidden = [n for n in names if n]

    def named_products(self, text: str) -> list[tuple[int, set[str], str]]:
        """(position, candidate product ids, surface) for every product mention;
        ids empty = not in the catalog."""
        found: list[tuple[int, set[str], str]] = []
        spans: list[tuple[int, int]] = []
        if self._key_rx is not None:
            for m in self._key_rx.finditer(text):
                key = _norm(m.group(1)).strip()
                if key in self._keys:
                    found.append((m.start(), set(self._keys[key]), m.group(1)))
                    spans.append((m.start(), m.end()))
        for name in getattr(self, "_forbidden", []):
            for m in re.finditer(rf"\b{re.escape(name)}\b", text, re.I):
                found.append((m.start(), set(), m.group(0)))
        if self._brand_rx is not None:
            for m in self._brand_rx.finditer(text):
                inside = any(a <= m.start() < b for a, b in spans)
                if not inside and m.group(2).lower() not in self._generic:
                    found.append((m.start(), set(), m.group(0)))
        return sorted(found, key=lambda x: x[0])

    def check(self, text: str, facts: Facts) -> GroundingReport:
        rep = GroundingReport()
        allowed = facts.product_ids
        mentions = self.named_products(text)
        for _, pids, surface in mentions:
            if not pids & allowed:
                name = self.products[sorted(pids)[0]].title if pids else surface
                if name not in rep.unknown_products:
                    rep.unknown_products.append(name)
        # Owned products named in the signals (context_ids) are allowed mentions but not cards:
        # their figures come from the catalog record, so a mention of one never raises KeyError.
        by_id: dict[str, Any] = {
            **{i: self.products[i] for i in allowed if i in self.products},
            **{p.product_id: p for p in facts.products},
        }
        rep.wrong_prices = _wrong_prices(text, facts, mentions, by_id)
        rep.wrong_ratings = _wrong_ratings(text, facts, mentions, by_id)
        rep.wrong_attributes = self._attribute_claims(text, facts, mentions, by_id)
        _check_citations(text, facts, rep)
        return rep

    def _attribute_claims(
        self, text: str, facts: Facts, mentions: list[tuple[int, set[str], str]], by_id: dict[str, Any]
    ) -> list[str]:
        """Measured figures ("a battery life of 25 hours", "weighs 250 g") must be the record's value
        for the product the sentence is about (the last one named before the figure, or the only
        product in the facts). Figures quoted from a review or policy in the facts are fine."""
        quoted = " ".join([facts.question, *(s.text for s in facts.snippets)]).lower()
        only = facts.products[0].product_id if len(facts.products) == 1 else None
        bad: list[str] = []
        for m in _NUM_UNIT.finditer(text):
            value, unit = float(m.group(1)), m.group(2).lower()
            pid = _nearest(mentions, m.start(), facts.product_ids, text) or only
            start = max(text.rfind(". ", 0, m.start()), text.rfind("\n", 0, m.start()))
            both = pid is None and re.search(r"\b(both|all three|each)\b", text[start + 1 : m.start()], re.I)
            # "Both have 900 watts": the figure must hold for every product compared.
            prods = (
                [self.products[p.product_id] for p in facts.products if p.product_id in self.products]
                if both
                else [self.products[pid]]
                if pid in self.products
                else []
            )
            if re.search(rf"(?<![\d.]){re.escape(m.group(1))}(?![\d.])", quoted):
                continue
            for prod in prods:
                same_unit = [
                    v
                    for k, v in prod.attributes.items()
                    if k.rsplit("_", 1)[-1] in _UNITS
                    and re.fullmatch(_UNITS[k.rsplit("_", 1)[-1]], unit, re.I)
                ]
                nums = [float(x) for v in same_unit for x in re.findall(r"\d+(?:\.\d+)?", str(v))]
                if nums and not any(abs(n - value) < 1e-6 for n in nums):
                    bad.append(m.group(0).strip())
                    break
        return bad


Mentions = list[tuple[int, set[str], str]]


def _wrong_prices(text: str, facts: Facts, mentions: Mentions, by_id: dict[str, Any]) -> list[str]:
    allowed = facts.product_ids
    free = _amounts(
        " ".join(
            [
                facts.question,
                *facts.constraints,
                *(s.text for s in facts.snippets),
                *(p.reason for p in facts.products),
            ]
        )
    )
    if facts.order is not None and facts.order.found:
        free |= {round(float(facts.order.total or 0), 2)}
        free |= {round(float(i.get("price") or 0), 2) for i in facts.order.items}
    out = []
    for m in _PRICE.finditer(text):
        value = _price_value(m)
        near = _nearest(mentions, m.start(), allowed, text)
        if near in by_id and by_id[near].price is not None and abs(by_id[near].price - value) < 0.006:
            continue
        if value in free:
            continue
        if near is None and any(p.price is not None and abs(p.price - value) < 0.006 for p in facts.products):
            continue
        out.append(m.group(0).strip())
    return out


def _wrong_ratings(text: str, facts: Facts, mentions: Mentions, by_id: dict[str, Any]) -> list[str]:
    review_stars = {float(s.rating) for s in facts.snippets if s.rating}
    out = []
    for m in _RATING.finditer(text):
        value = float(m.group(1) or m.group(2))
        near = _nearest(mentions, m.start(), facts.product_ids, text)
        cands = [by_id[near]] if near in by_id else facts.products
        if (
            any(p.rating is not None and abs(p.rating - value) < 0.051 for p in cands)
            or value in review_stars
        ):
            continue
        out.append(m.group(0).strip())
    return out


def _check_citations(text: str, facts: Facts, rep: GroundingReport) -> None:
    known = facts.record_ids
    for m in _CITE.finditer(text):
        cid = m.group(1).strip()
        if cid in known:
            if cid not in rep.citations:
                rep.citations.append(cid)
        elif re.search(r"[#:]|\d", cid):  # looks like a source id; plain bracketed words are left alone
            rep.bad_citations.append(cid)
    # A record id outside brackets must exist too ("(R0012)" is as invented as "[R0012]").
    for m in _ID_LIKE.finditer(text):
        cid = m.group(1)
        if cid not in known and cid not in rep.bad_citations and f"[{cid}]" not in text:
            rep.bad_citations.append(cid)
    if facts.needs_policy_citation and not any(c in facts.policy_ids for c in rep.citations):
        used = _best_overlap(text, [s for s in facts.snippets if s.kind == "policy"])
        if used:
            rep.citations.append(used)
        else:
            rep.missing_citation = True


def _states_price(text: str, price: float) -> bool:
    """The text gives this price as a shop writes it: 91.99, 1,499.00, or 1,499 for a whole amount."""
    forms = {f"{price:.2f}", f"{price:,.2f}"}
    if float(price).is_integer():
        forms |= {f"{price:.0f}", f"{price:,.0f}"}
    return any(re.search(rf"(?<![\d.,]){re.escape(f)}(?![\d])", text) for f in forms)


def _price_value(m: re.Match[str]) -> float:
    if m.group(1):
        return round(float(m.group(1).replace(",", "") + (m.group(2) or "")), 2)
    return round(float(m.group(3).replace(",", "") + (m.group(4) or "").replace(",", ".")), 2)


def _amounts(text: str) -> set[float]:
    return {_price_value(m) for m in _PRICE.finditer(text)} | {
        float(x) for x in re.findall(r"\b\d+(?:\.\d+)?\b", text)
    }


def _nearest(mentions: list[tuple[int, set[str], str]], pos: int, allowed: set[str], text: str) -> str | None:
    """The allowed product mentioned last before ``pos`` in the same sentence, if any."""
    start = max(text.rfind(". ", 0, pos), text.rfind("\n", 0, pos), text.rfind("; ", 0, pos))
    best = None
    for mpos, pids, _ in mentions:
        if start < mpos < pos:
            hit = pids & allowed
            if len(hit) == 1:
                best = next(iter(hit))
    return best


def _best_overlap(text: str, snippets: list[Any]) -> str | None:
    words = set(re.findall(r"[a-z0-9]{3,}", text.lower()))
    best, score = None, 0.0
    for s in snippets:
        sw = set(re.findall(r"[a-z0-9]{3,}", s.text.lower()))
        if not sw:
            continue
        ov = len(words & sw) / min(len(sw), 25)
        nums = set(re.findall(r"\d+", s.text)) & set(re.findall(r"\d+", text))
        if nums:
            ov += 0.2
        if ov > score:
            best, score = s.id, ov
    return best if score >= 0.3 else None


_FIGURE = re.compile(r"\$?\d+(?:[.,]\d+)?(?:\s?-\s?\d+)?%?")


def coverage_gaps(text: str, facts: Facts) -> list[str]:
    """Key facts of a support or product answer that the text leaves out: the order's status and
    carrier, the figures of the policy sentence that best answers the question, the price of a
    product asked about, the record's value for an attribute asked about. A grounded answer that
    leaves them out does not answer the question; the template (which states them) is used instead."""
    low = text.lower()
    gaps: list[str] = []
    order = facts.order
    if order is not None and order.found:
        gaps += [w for w in (order.status, order.carrier) if w and w.lower() not in low]
    if facts.action == "policy_qa":
        best = _best_sentence(facts.question, [s.text for s in facts.snippets if s.kind == "policy"][:1])
        gaps += [f for f in _FIGURE.findall(best) if _compact(f) not in _compact(text)]
    if (
        facts.action == "compare"
    ):  # a comparison that leaves out the prices compares nothing the shopper asked
        gaps += [
            f"{p.price:.2f}"
            for p in facts.products
            if p.price is not None and not _states_price(text, p.price)
        ]
    if facts.action == "product_details" and facts.products:
        p = facts.products[0]
        if p.price is not None and not _states_price(text, p.price):
            gaps.append(f"{p.price:.2f}")
        if p.in_stock is False and not re.search(r"out of stock|not in stock|sold out|unavailable", low):
            gaps.append("out of stock")
    for s in facts.snippets:
        if s.kind == "spec":
            gaps += [v.strip() for v in re.findall(r":\s*([^;]+)", s.text) if v.strip().lower() not in low]
    return gaps


def _compact(s: str) -> str:
    return re.sub(r"\s+", "", s.lower()).replace("$", "")


def _best_sentence(question: str, texts: list[str]) -> str:
    """The sentence that answers the question best: word overlap (stemmed), figures break ties upward."""
    from assistant.textmatch import stem, words

    q = {stem(w) for w in words(question)}
    best, score = "", 0.0
    for t in texts:
        for sent in re.split(r"(?<![ap]\.m\.)(?<=[.!?])\s+", t):
            overlap = len(q & {stem(w) for w in words(sent)})
            sc = overlap + 0.5 * bool(re.search(r"\d", sent)) if overlap else 0.0
            if sc > score:
                best, score = sent, sc
    return best
