"""Numbers in a message: the shopper's budget (price spans -> one price bound and currency) and the
quantities that bound an attribute ("20,000 mAh", "under 2 kg"). Bare numbers no attribute measures
are read as the budget.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

from assistant.nlu.matching import quantity
from assistant.nlu.parser import Parse, Span
from assistant.nlu.resolve import Resolver
from knowledge.constraints import Bound
from knowledge.money import parse_money

PRICE_TAGS = ("PRICE_MAX", "PRICE_MIN", "PRICE_ABOUT")
_AS_PRICE = {"NUM_MIN": "PRICE_MIN", "NUM_MAX": "PRICE_MAX", "NUM_EQ": "PRICE_ABOUT"}
_RANGE = re.compile(r"^(.*?\d[\d.,]*\s*k?)\s*(?:-|–|—|to|through)\s*(\D{0,4}\d.*)$", re.I)


def price_spans(p: Parse) -> list[Span]:
    """Price spans with the words the tagger split off put back: neighbouring price words merge
    ("20 bucks", "two hundred and fifty"), the first one's tag winning unless it held no amount.
    Two whole amounts stay apart: "between fifty and seventy" is a range, not 120."""
    out: list[Span] = []
    for sp in p.spans_of(*PRICE_TAGS):
        last = out[-1] if out else None
        two_bounds = last is not None and _amount(last.text) and _amount(sp.text)
        if last is not None and not two_bounds and p.text[last.end : sp.start].strip(" ") in ("", "and", "-"):
            tag = last.tag if _amount(last.text) or not _amount(sp.text) else sp.tag
            out[-1] = Span(last.start, sp.end, tag, p.text[last.start : sp.end], min(last.score, sp.score))
        else:
            out.append(sp)
    return out


def _amount(text: str) -> bool:
    m = parse_money(text, None)
    return m is not None and m.amount is not None


def _same_kind(p: Parse, spans: list[Span]) -> list[Span]:
    """Two floors (or two ceilings) joined by a range word are one range, low to high ("between 20
    and 35 bucks"); otherwise the later one is a correction and replaces the first ("under 60 —
    make that 65", "it was 90, I want under 70")."""
    a, b = spans
    if p.text[a.end : b.start].strip(" ").lower() in ("and", "to", "-", "–", "through", "or"):
        return [replace(a, tag="PRICE_MIN"), replace(b, tag="PRICE_MAX")]
    return [b]


def price_bound(p: Parse, r: Resolver) -> tuple[Bound, str | None]:
    """The budget the price spans state, and its currency (the first one named)."""
    lo: Decimal | None = None
    hi: Decimal | None = None
    currencies: list[str] = []
    spans = price_spans(p)
    kinds = [sp.tag for sp in spans]
    if len(spans) == 2 and kinds[0] == kinds[1] and kinds[0] != "PRICE_ABOUT":
        spans = _same_kind(p, spans)
    for sp in spans:
        rng = _RANGE.match(sp.text)
        parts = [(rng.group(1), "PRICE_MIN"), (rng.group(2), "PRICE_MAX")] if rng else [(sp.text, sp.tag)]
        for text, tag in parts:
            m = r.money(text)
            if m is None:
                continue
            currencies += [m.currency] if m.currency else []
            if tag == "PRICE_MAX":
                hi = m.amount
            elif tag == "PRICE_MIN":
                lo = m.amount
            else:
                lo, hi = (
                    (m.amount * Decimal("0.8")).quantize(Decimal("0.01")),
                    (m.amount * Decimal("1.2")).quantize(Decimal("0.01")),
                )
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    # One currency for the whole budget: "INR 2500 to 4000", "35 to 50 euros".
    return Bound(None if lo is None else float(lo), None if hi is None else float(hi)), (
        currencies[0] if currencies else None
    )


def quantity_bounds(
    p: Parse, r: Resolver, scope: tuple[str, ...], attrs: dict[str, tuple[str, ...]], unknown: list[str]
) -> tuple[dict[str, Bound], list[Span]]:
    """Quantities -> bounds on the attributes they measure; bare numbers no attribute measures are the
    shopper's budget ("1k-2k range") and come back as price spans."""
    bounds: dict[str, Bound] = {}
    near = " ".join(sp.text for sp in p.spans_of("ASPECT"))
    loose: list[Span] = []
    for sp in p.spans_of("NUM_MIN", "NUM_MAX", "NUM_EQ"):
        hit = r.bound(sp.text, sp.tag, scope, near=near + " " + _around(p.text, sp))
        if hit is None and quantity(sp.text)[1] is None and not p.spans_of(*PRICE_TAGS):
            loose.append(replace(sp, tag=_AS_PRICE[sp.tag]))
        elif hit is None:
            unknown.append(sp.text)
        elif hit.exact_value is not None:
            attrs[hit.key] = (hit.exact_value,)
        else:
            old = bounds.get(hit.key, Bound())
            bounds[hit.key] = Bound(
                hit.bound.min if hit.bound.min is not None else old.min,
                hit.bound.max if hit.bound.max is not None else old.max,
            )
    return bounds, loose


def _around(text: str, sp: Span, width: int = 25) -> str:
    return text[max(0, sp.start - width) : sp.start] + " " + text[sp.end : sp.end + width]
