"""Entity extraction: catalog terms (via the gazetteer), prices, quantities, order ids, emails,
references to shown products and negations. Pure functions of (text, gazetteer); no model.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.nlu.gazetteer import Gazetteer, Match

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "a couple of": 2, "a pair of": 2, "a dozen": 12, "twenty": 20,
                "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100}
ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
            "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "last": -1}
CURRENCY = {"$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD",
            "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP",
            "pound": "GBP", "pounds": "GBP", "quid": "GBP"}
NEGATION_CUES = {"not", "no", "without", "except", "non", "never", "avoid", "exclude", "excluding", "but",
                 "nothing", "dont", "don't", "isn't", "aren't", "hate"}
NEG_SKIP = {"the", "a", "an", "any", "from", "by", "made", "too", "so", "more", "want", "like", "need",
            "one", "ones", "something", "anything", "thing", "stuff", "that", "is", "are", "of", "really"}

_AMOUNT = r"(?P<{n}c1>[$€£])?\s?(?P<{n}>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)\s?(?P<{n}k>k\b)?\s?(?P<{n}c2>usd|eur|gbp|dollars?|bucks?|euros?|pounds?|quid)?"
A = _AMOUNT.format(n="a")
B = _AMOUNT.format(n="b")
RANGES = (re.compile(rf"(?:between|from)\s+{A}\s*(?:and|to|-)\s*{B}", re.I), re.compile(rf"{A}\s*(?:-|to)\s*{B}", re.I))
# A negated floor is a ceiling: "nothing over 160 bucks", "not above $90", "won't spend more than 50".
_NOT = r"(?:nothing|not|never|no|n't(?: want to| wanna)? (?:spend|pay|go)|not (?:spend|pay|go)(?:ing)?)"
MAX = re.compile(rf"(?:under|below|less than|cheaper than|up to|at most|no more than|max(?:imum)?(?: of)?|within|"
                 rf"{_NOT}\s+(?:over|above|more than|higher than|beyond|past)|<=?|beneath)\s+{A}", re.I)
# "150 bucks max", "$60 tops", "$40 or less" (the word after the amount makes it a ceiling).
MAX_AFTER = re.compile(rf"{A}\s*(?:max(?:imum)?\b|tops\b|at (?:the )?most\b|or (?:less|under|below|cheaper)\b)", re.I)
MIN = re.compile(rf"(?:over|above|more than|at least|min(?:imum)?|starting at|>=?|upwards of)\s+{A}", re.I)
AROUND = re.compile(rf"(?:around|about|roughly|approximately|approx\.?|close to|~)\s*{A}", re.I)
BARE = re.compile(A, re.I)
UNIT_AFTER = re.compile(r"\s*(?:inch|in\b|\"|gb|tb|mah|w\b|watts?|cm|mm|kg|g\b|m\b|metres?|meters?|hours?|"
                        r"days?|%|hz|dpi|k\b|x\b|people|person|pairs?|years?|months?|weeks?|stars?)", re.I)
CHEAP = re.compile(r"\b(cheap(?:er|est)?|budget|inexpensive|affordable|low[- ]cost|bargain)\b", re.I)
PREMIUM = re.compile(r"\b(premium|high[- ]end|luxury|top[- ]of[- ]the[- ]line|expensive)\b", re.I)
ORDER_ID = re.compile(r"\bORD[- ]?(\d{6})\b", re.I)
LONG_NUMBER = re.compile(r"(?<![\w#$€£.,])\d{6,20}(?![\w.,]\d)")
SHORT_ORDER = re.compile(r"\b(?:order|purchase)\s*(?:number|no\.?|id|#)?\s*(\d{4,5})\b", re.I)
INVOICE_BEFORE = re.compile(r"(invoice|bill|receipt|phone|tel|call)\W*(?:\w+\W+)?$", re.I)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
QTY = re.compile(r"\b(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|a couple of|a pair of|a dozen)\s+"
                 r"(?:(?:pcs|pieces?|units?|packs?|pairs?|sets?|boxes?)\b|of (?:them|these|those|it)\b)", re.I)
QTY_VERB = re.compile(r"\b(?:buy|order|get|need|want|take|add)\s+(\d{1,2}|two|three|four|five|six|ten|a couple of)\s+(?!dollars|bucks|euros|pounds|days|hours)[a-z]", re.I)
QTY_X = re.compile(r"(?:\bx\s?(\d{1,2})\b|\b(\d{1,2})\s?x\b|\bqty:?\s*(\d{1,3})\b)", re.I)
REF_ORDINAL = re.compile(r"\b(?:the|that|this)\s+(first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th|6th|last)\b"
                         r"|\b(first|second|third|fourth|fifth|last)\s+(?:one|option|item|product|pick|result)\b", re.I)
REF_NUMBER = re.compile(r"\b(?:option|number|item|no\.|result|#)\s?(\d{1,2})\b", re.I)
REF_THAT = re.compile(r"\b(?:that|this|the same)\s+(?:one|model|product|item|pair|thing)\b|\bthe one (?:you|i)\b", re.I)
REF_CHEAP = re.compile(r"\bthe\s+(?:cheaper|cheapest|less expensive|least expensive)\b", re.I)
REF_PRICEY = re.compile(r"\bthe\s+(?:pricier|priciest|more expensive|most expensive|expensive)\s+(?:one|model|option)\b", re.I)
REF_OTHER = re.compile(r"\bthe other (?:one|model|option)\b", re.I)


@dataclass
class Entities:
    categories: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    price_min: float | None = None
    price_max: float | None = None
    currency: str | None = None
    quantity: int | None = None
    order_ids: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    # int = position in the last shown list (0-based; -1 = the last one); "last" = the product in focus
    # ("that one"); "brand:<Brand>"; "cheapest"; "priciest"; "other".
    references: list[int | str] = field(default_factory=list)
    negated_brands: list[str] = field(default_factory=list)
    negated_attributes: dict[str, str] = field(default_factory=dict)
    product_mentions: list[str] = field(default_factory=list)
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # (kind, start, end) character offsets

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Entities:
        d = dict(d)
        d["spans"] = [tuple(s) for s in d.get("spans", [])]
        return cls(**d)


def _amount(m: re.Match, n: str) -> tuple[float, str | None] | None:
    raw = m.group(n)
    if raw is None:
        return None
    val = float(raw.replace(",", ""))
    if m.group(n + "k"):
        val *= 1000
    cur = m.group(n + "c1") or m.group(n + "c2")
    return val, (CURRENCY.get(cur.lower()) if cur else None)


def _is_unit(text: str, end: int, m: re.Match, n: str) -> bool:
    """A number followed by a unit ("13 inch", "20 hours") is not a price unless a currency was given."""
    return not (m.group(n + "c1") or m.group(n + "c2")) and bool(UNIT_AFTER.match(text, end))


def extract_price(text: str, ents: Entities, gaz: Gazetteer | None, category: str | None = None) -> None:
    taken: list[tuple[int, int]] = []

    def free(m: re.Match) -> bool:
        return all(m.end() <= s or m.start() >= e for s, e in taken)

    for m in (m for rx in RANGES for m in rx.finditer(text)):
        a, b = _amount(m, "a"), _amount(m, "b")
        worded = m.group(0).lower().startswith(("between", "from"))
        if a and b and free(m) and not _is_unit(text, m.end(), m, "b") and (worded or a[1] or b[1]):
            ents.price_min, ents.price_max = min(a[0], b[0]), max(a[0], b[0])
            ents.currency = a[1] or b[1] or ents.currency
            taken.append(m.span())
            ents.spans.append(("price", m.start(), m.end()))
    for rx, kind in ((MAX, "max"), (MAX_AFTER, "max"), (MIN, "min"), (AROUND, "around")):
        for m in rx.finditer(text):
            a = _amount(m, "a")
            if not a or not free(m) or _is_unit(text, m.end(), m, "a"):
                continue
            if rx is MAX_AFTER and not a[1]:
                continue  # "2 people max", "size 10 max": without a currency it is no price
            if kind == "max":
                ents.price_max = a[0]
            elif kind == "min":
                ents.price_min = a[0]
            else:
                ents.price_min, ents.price_max = round(a[0] * 0.8, 2), round(a[0] * 1.2, 2)
            ents.currency = a[1] or ents.currency
            taken.append(m.span())
            ents.spans.append(("price", m.start(), m.end()))
    if ents.price_min is None and ents.price_max is None:
        for m in BARE.finditer(text):
            a = _amount(m, "a")
            # A bare amount is a price only with a currency ("$80", "80 bucks"): "size 10" is not.
            if a and a[1] and free(m):
                ents.price_min, ents.price_max = round(a[0] * 0.8, 2), round(a[0] * 1.2, 2)
                ents.currency = a[1]
                ents.spans.append(("price", m.start(), m.end()))
                break
    if gaz is not None and ents.price_max is None and ents.price_min is None:
        # "cheap" / "premium" are relative to this catalog: bottom / top third of its prices.
        if CHEAP.search(text) and not REF_CHEAP.search(text):
            ents.price_max = gaz.price_quantile(1 / 3, category)
        elif PREMIUM.search(text) and not REF_PRICEY.search(text):
            ents.price_min = gaz.price_quantile(2 / 3, category)


def extract_order_ids(text: str) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for m in ORDER_ID.finditer(text):
        out.append((f"ORD-{m.group(1)}", m.start(), m.end()))
    for m in LONG_NUMBER.finditer(text):
        if any(s <= m.start() < e for _, s, e in out) or INVOICE_BEFORE.search(text[max(0, m.start() - 25):m.start()]):
            continue
        out.append((m.group(), m.start(), m.end()))
    for m in SHORT_ORDER.finditer(text):
        if not any(s <= m.start(1) < e for _, s, e in out):
            out.append((m.group(1), m.start(1), m.end(1)))
    return sorted(out, key=lambda x: x[1])


def _negated(match: Match, words: list[str]) -> bool:
    i = match.tok_start - 1
    steps = 0
    while i >= 0 and steps < 3:
        w = words[i]
        # The tokenizer splits "don't" / "aren't" into "don"/"aren" + "t".
        if w in NEGATION_CUES or (w == "t" and i > 0 and words[i - 1].endswith("n")):
            return True
        if w not in NEG_SKIP:
            return False
        i -= 1
        steps += 1
    return False


def _references(text: str, matches: list[Match], words: list[str], gaz: Gazetteer | None = None) -> list[int | str]:
    refs: list[int | str] = []
    for m in REF_ORDINAL.finditer(text):
        refs.append(ORDINALS[(m.group(1) or m.group(2)).lower()])
    for m in REF_NUMBER.finditer(text):
        n = int(m.group(1))
        if 1 <= n <= 20:
            refs.append(n - 1)
    if REF_CHEAP.search(text):
        refs.append("cheapest")
    if REF_PRICEY.search(text):
        refs.append("priciest")
    if REF_OTHER.search(text):
        refs.append("other")
    if REF_THAT.search(text):
        refs.append("last")
    for mt in matches:
        # "the Sony", "the Sony one": a brand used to point at a shown product, not a new constraint.
        if mt.term.kind == "brand" and mt.tok_start > 0 and words[mt.tok_start - 1] == "the":
            # ... unless a category or model name follows ("the Sony headphones", "the Sony WH-1000XM5").
            followed = any(o.tok_start == mt.tok_end and o.term.kind == "category" for o in matches) or (
                gaz is not None and any(tuple(words[mt.tok_end:mt.tok_end + n]) in gaz.model_names for n in (1, 2, 3)))
            if not followed and (mt.tok_end >= len(words) or not re.search(r"\d", words[mt.tok_end])):
                refs.append(f"brand:{mt.term.value}")
    return list(dict.fromkeys(refs))


def _quantity(text: str) -> int | None:
    for rx in (QTY, QTY_X, QTY_VERB):
        m = rx.search(text)
        if m:
            raw = next(g for g in m.groups() if g)
            raw = raw.lower()
            return int(raw) if raw.isdigit() else NUMBER_WORDS.get(raw)
    return None


def extract(text: str, gaz: Gazetteer | None) -> Entities:
    """All entities of one message. Never raises on odd input (binary, huge, mixed scripts)."""
    ents = Entities()
    for oid, s, e in extract_order_ids(text):
        ents.order_ids.append(oid)
        ents.spans.append(("order_id", s, e))
    for m in EMAIL.finditer(text):
        ents.emails.append(m.group())
        ents.spans.append(("email", m.start(), m.end()))
    # Blank out ids/emails so "order 123456" is never read as a price or quantity.
    masked = text
    for _, s, e in ents.spans:
        masked = masked[:s] + " " * (e - s) + masked[e:]
    ents.quantity = _quantity(masked)
    if gaz is None:
        extract_price(masked, ents, None)
        ents.references = _references(masked, [], [])
        return ents
    matches, toks = gaz.match(masked)
    words = [t for t, _, _ in toks]
    ents.references = _references(masked, matches, words, gaz)
    ref_brands = {r.split(":", 1)[1] for r in ents.references if isinstance(r, str) and r.startswith("brand:")}
    for mt in matches:
        t = mt.term
        neg = _negated(mt, words)
        if t.kind == "brand":
            if neg:
                ents.negated_brands.append(t.value)
            elif t.value not in ref_brands:
                ents.brands.append(t.value)
        elif t.kind == "category" and not neg:
            ents.categories.append(t.value)
        elif t.kind == "attribute":
            if neg:
                ents.negated_attributes[t.attr] = t.value
            else:
                ents.attributes[t.attr] = t.value
        ents.spans.append((t.kind, mt.start, mt.end))
    # "desk lamp" matches Desk and Lamps: keep the most specific category of a path.
    cats = list(dict.fromkeys(ents.categories))
    ents.categories = [c for c in cats if not any(c in gaz.ancestors.get(o, ()) for o in cats)]
    ents.brands = list(dict.fromkeys(b for b in ents.brands if b not in ents.negated_brands))
    ents.negated_brands = list(dict.fromkeys(ents.negated_brands))
    ents.product_mentions = gaz.mentioned_products(words)
    extract_price(masked, ents, gaz, ents.categories[-1] if ents.categories else None)
    return ents
