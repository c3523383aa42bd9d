"""PII redaction for what Aisle keeps: stored transcripts, event payloads and log lines.

Four kinds are recognised: emails, phone numbers, payment card numbers (only digit runs that pass
the Luhn check, so order ids, tracking numbers and prices survive) and street addresses. Redaction
replaces each with a typed placeholder (``[email]``, ``[phone]``, ``[card]``, ``[address]``); the
live turn keeps the original text because an order lookup needs the email. Order ids are never
touched: they are not personal on their own and the agent console needs them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "KINDS",
    "RedactingFilter",
    "find_pii",
    "install_log_redaction",
    "luhn_ok",
    "pii_spans",
    "redact",
    "redact_order_details",
    "redact_value",
]

KINDS = ("email", "card", "phone", "address")

# The lookbehind makes a match start only where a run starts: linear, not quadratic, on long runs.
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
# 13-19 digits, optionally grouped by single spaces or dashes; Luhn decides if it is a card.
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# North-American shapes (with or without +1) and international +CC numbers. A bare run of 11+
# digits without '+' is left alone: it is far more likely a tracking number than a phone.
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+?1[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}"
    r"|\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}"
    r")(?![\w])"
)
_SUFFIXES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter|"
    "parkway|pkwy|circle|cir|highway|hwy|square|sq|trail|trl|crescent|close|row|alley|plaza"
)
_ADDRESS = re.compile(
    r"\b\d{1,6}[A-Za-z]?\s+"  # house number
    r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
    # Street name: one to four words, none a function word ("2 pairs for the road" is no address).
    r"(?:(?!(?:for|the|a|an|to|of|in|on|with|and|or|my|your|at|by|from|is|it|this|that)\b)[A-Za-z][A-Za-z'.-]*\s+){1,4}"
    rf"(?:{_SUFFIXES})\b\.?"
    r"(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b\.?)?"
    r"(?:,?\s*(?:apt|apartment|suite|ste|unit|#)\.?\s*#?\s*[A-Za-z0-9-]+)?"
    r"(?:,\s*[A-Za-z][A-Za-z .'-]{1,40}?,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)?",  # ", City, ST 12345"
    re.I,
)
_PO_BOX = re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d+\b", re.I)


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies (and most other numbers do not)."""
    ds = [int(c) for c in digits if c.isdigit()]
    if len(ds) < 13:
        return False
    total = 0
    for i, d in enumerate(reversed(ds)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _cards(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _CARD.finditer(text) if luhn_ok(m.group())]


def _spans(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) spans, earlier kinds in KINDS winning overlaps."""
    found: list[tuple[int, int, str]] = []
    found += [(*m.span(), "email") for m in _EMAIL.finditer(text)]
    found += [(a, b, "card") for a, b in _cards(text)]
    found += [(*m.span(), "phone") for m in _PHONE.finditer(text)]
    found += [(*m.span(), "address") for rx in (_ADDRESS, _PO_BOX) for m in rx.finditer(text)]
    rank = {k: i for i, k in enumerate(KINDS)}
    found.sort(key=lambda s: (rank[s[2]], s[0]))
    taken: list[tuple[int, int, str]] = []
    for s in found:
        if all(s[1] <= t[0] or s[0] >= t[1] for t in taken):
            taken.append(s)
    return sorted(taken)


def pii_spans(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) for each PII span, in order."""
    return [(k, text[a:b]) for a, b, k in _spans(text or "")]


def emails(text: str) -> list[str]:
    """Every email address in ``text``, in order, lower-cased."""
    return [m.group(0).lower() for m in _EMAIL.finditer(text or "")]


def find_pii(text: str) -> list[str]:
    """The kinds of PII present in ``text`` (each kind once, in KINDS order)."""
    kinds = {k for _, _, k in _spans(text or "")}
    return [k for k in KINDS if k in kinds]


def redact(text: str) -> tuple[str, list[str]]:
    """``text`` with every PII span replaced by ``[kind]``, and the kinds found."""
    if not text:
        return text, []
    out, last, kinds = [], 0, set()
    for a, b, kind in _spans(text):
        out.append(text[last:a])
        out.append(f"[{kind}]")
        last = b
        kinds.add(kind)
    out.append(text[last:])
    return "".join(out), [k for k in KINDS if k in kinds]


# Order details a transcript may quote: carrier tracking numbers (UPS 1Z…, and the 10-22 digit runs
# of USPS, FedEx and DHL) and "City, ST" places from tracking events.
_UPS = re.compile(r"\b1Z[0-9A-Z]{16}\b", re.I)
_TRACKING_DIGITS = re.compile(r"(?<![\w-])\d{10,22}(?![\w-])")
_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|"
    "OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR"
)
_PLACE = re.compile(rf"\b[A-Z][a-z]+(?:[ .'-]+[A-Z][a-z]+){{0,3}},\s*(?:{_STATES})\b")


def redact_order_details(text: str, known: Iterable[str] = ()) -> str:
    """``text`` without personal data, tracking numbers or places, for a transcript served to someone
    who is neither its customer nor staff. ``known``: exact values to remove too (an order's
    tracking number and event locations)."""
    out = redact(text)[0]
    for value in sorted({k for k in known if k and len(k) >= 4}, key=len, reverse=True):
        out = out.replace(value, "[redacted]")
    out = _UPS.sub("[tracking number]", out)
    out = _TRACKING_DIGITS.sub("[tracking number]", out)
    return _PLACE.sub("[place]", out)


def redact_value(value: Any, keep_keys: Iterable[str] = ()) -> Any:
    """Redact strings inside JSON-like data (dicts, lists); keys in ``keep_keys`` are left as is."""
    keep = set(keep_keys)
    if isinstance(value, str):
        return redact(value)[0]
    if isinstance(value, dict):
        return {k: (v if k in keep else redact_value(v, keep)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, keep) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with PII redacted, so no handler ever writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # a malformed record is logging's problem; do not hide it
            return True
        red, kinds = redact(msg)
        if kinds:
            record.msg, record.args = red, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # Exception text can quote the message too (e.g. a validation error).
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))[0]
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach one RedactingFilter to ``logger`` (root by default) and to its handlers; idempotent.

    Filters on a logger do not apply to records propagated from child loggers, so handlers get it
    too; call this after logging is configured (``aisle run`` does).
    """
    logger = logger or logging.getLogger()
    existing = next((f for f in logger.filters if isinstance(f, RedactingFilter)), None)
    filt = existing or RedactingFilter()
    if existing is None:
        logger.addFilter(filt)
    for h in logger.handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(filt)
    return filt
