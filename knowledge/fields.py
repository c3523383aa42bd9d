"""Cell values -> product fields: text, prices with their currency, numbers, category paths,
key/value specifications, and the per-field size limits.

Each parser raises ``ValueError`` with a message naming the problem; the loader reports it with
the row number and the field.
"""

from __future__ import annotations

import html
import json
import math
import re
from decimal import Decimal
from typing import Any

# Longest value each field may hold (characters). Ids are stored in 64-character columns and are
# never cut: a longer id is a bad row. Longer texts are cut to the limit, and the row is reported.
LIMITS = {
    "id": 64,
    "title": 1_000,
    "brand": 200,
    "category": 500,
    "description": 20_000,
    "attribute": 1_000,
}
MAX_ATTRIBUTES = 100


def missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip() == ""


def clean_text(v: Any) -> str:
    """A cell as text: missing values are empty, HTML entities decoded, whitespace trimmed."""
    return "" if missing(v) else html.unescape(str(v)).strip()


def one_line(v: Any) -> str:
    """Text with runs of whitespace collapsed ("  Bar table,      51x51 cm" -> "Bar table, 51x51 cm")."""
    return " ".join(clean_text(v).split())


def clip(value: str, key: str) -> tuple[str, str | None]:
    """The value cut to its field's limit, and what was cut (None when it fits)."""
    limit = LIMITS[key]
    if len(value) <= limit:
        return value, None
    return value[:limit], f"{len(value):,} characters, over the limit of {limit:,}: kept the first {limit:,}"


def product_id(v: Any) -> str:
    """Any printable characters (spaces, slashes, accents), up to 64 of them."""
    s = clean_text(v)
    if isinstance(v, float) and v.is_integer():
        s = str(int(v))  # 123.0 from a numeric column is the id "123"
    if not s.isprintable():
        raise ValueError(f"id {s!r} holds a control character: ids may hold any printable characters")
    if len(s) > LIMITS["id"]:
        raise ValueError(f"id is {len(s):,} characters, over the limit of {LIMITS['id']}: shorten it")
    return s


def parse_amount(v: Any) -> tuple[Decimal | None, str | None]:
    """A price cell -> (amount, currency stated in the cell or None): "SR 2,375" -> (2375, "SAR"),
    "24,99 €" -> (24.99, "EUR"), "₹1,499" -> (1499, "INR"), 1299.5 -> (1299.5, None)."""
    if missing(v):
        return None, None
    if isinstance(v, bool):
        raise ValueError(f"not a price: {v!r}")
    if isinstance(v, int | float):
        amount, currency = _decimal(v), None
    else:
        amount, currency = _amount_text(str(v).strip())
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"price must be a non-negative number, got {v!r}")
    return amount, currency


def _decimal(v: float) -> Decimal:
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"price must be a non-negative number, got {v!r}")
    return Decimal(str(v))


def _amount_text(s: str) -> tuple[Decimal, str | None]:
    from knowledge.money import parse_money

    if re.search(r"(?:^|[^\w])-\s*\d", s):
        raise ValueError(f"price must be a non-negative number, got {s!r}")
    plain = re.fullmatch(r"\d+(?:\.\d+)?", s)
    if plain:  # a catalog's "12.345" is a decimal number, never a thousands group
        return Decimal(s), None
    m = parse_money(s)
    if m is None or not re.search(r"\d", s):
        raise ValueError(f"not a price: {s!r}")
    return m.amount, m.currency


def parse_price(v: Any) -> float | None:
    """'$1,299.00' -> 1299.0; empty -> None; anything else unparseable or negative -> ValueError."""
    amount, _ = parse_amount(v)
    return None if amount is None else round(float(amount), 2)


def whole(v: Any, lo: int | None = None) -> int | None:
    x = number(v, lo, None, integral=True)
    return None if x is None else int(x)


def number(v: Any, lo: float | None, hi: float | None, integral: bool = False) -> float | None:
    """A numeric cell in lo..hi (either may be open); ``integral``: a whole number."""
    if missing(v):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"not a number: {v!r}") from None
    if not math.isfinite(x) or (integral and x != int(x)):
        raise ValueError(f"not a {'whole ' if integral else ''}number: {v!r}")
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise ValueError(f"{v!r} is outside {lo}..{hi}")
    return x


def category_path(values: list[Any], sep: str | None) -> str:
    """A category path "Top > Sub > Leaf" from a path string, a list (JSON), a JSON list in a cell,
    or several columns (one level each)."""
    parts: list[str] = []
    for v in values:
        if isinstance(v, list | tuple):
            parts += [one_line(x) for x in v]
            continue
        s = clean_text(v)
        if s.startswith("[") and s.endswith("]"):
            try:
                parsed = json.loads(s)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, list):
                parts += [one_line(x) for x in parsed]
                continue
        parts += s.split(sep) if sep else re.split(r"\s*>\s*", s)
    return " > ".join(" ".join(p.split()) for p in parts if p.strip())


def specs(v: Any) -> dict[str, str]:
    """A key/value specification cell -> attributes: a JSON object (or a dict from a JSON file), or
    "key: value; key: value" (also one pair a line). Keys become snake_case."""
    if missing(v):
        return {}
    pairs: list[tuple[Any, Any]]
    if isinstance(v, dict):
        pairs = list(v.items())
    else:
        s = clean_text(v)
        if s.startswith("{"):
            try:
                obj = json.loads(s)
            except json.JSONDecodeError as exc:
                raise ValueError(f"broken JSON object ({exc.msg} at column {exc.colno})") from None
            pairs = list(obj.items()) if isinstance(obj, dict) else []
        else:
            chunks = [c for c in re.split(r"[;\n|]", s) if c.strip()]
            pairs = [tuple(re.split(r"\s*[:=]\s*", c.strip(), maxsplit=1)) for c in chunks]  # type: ignore[misc]
            if any(len(p) != 2 or not str(p[0]).strip() for p in pairs):
                raise ValueError(f'expected a JSON object or "key: value; key: value", got {s[:60]!r}')
    return {snake(k): attribute_value(val) for k, val in pairs if not missing(val)}


def snake(key: Any) -> str:
    """ "Screen Size (in)" -> "screen_size_in"."""
    return re.sub(r"[^\w]+", "_", str(key).strip().lower()).strip("_") or "value"


def attribute_value(v: Any) -> str:
    if isinstance(v, list | tuple):
        text = ", ".join(one_line(x) for x in v)
    elif isinstance(v, float) and v.is_integer():
        text = str(int(v))  # 51.0 from a numeric column reads "51"
    else:
        text = one_line(v)
    return text
