"""Catalog loading and validation: CSV, JSON, JSONL, Parquet (with a column mapping), the Amazon
item format and the demo shop. Public review / interaction datasets are read by
``knowledge.datasets``; the snapshot on disk is in ``knowledge.snapshot``.

Bad rows are reported with their row number and field. ``strict=True`` rejects the whole file;
the default skips bad rows and reports them. A missing price stays ``None``: never invented.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.errors import DataError
from knowledge.fields import (
    MAX_ATTRIBUTES,
    attribute_value,
    category_path,
    clean_text,
    clip,
    number,
    one_line,
    parse_amount,
    parse_price,
    product_id,
    specs,
    whole,
)
from knowledge.loadreport import Issue, LoadReport
from knowledge.mapping import DOCS, FORMATS, PRODUCT_FIELDS, Mapping, currency_code, load_mapping
from knowledge.records import Policy, Product, Review
from knowledge.tables import read_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMATS",
    "PRODUCT_FIELDS",
    "Catalog",
    "Issue",
    "LoadReport",
    "Mapping",
    "clean_text",
    "load_amazon_items",
    "load_demo_catalog",
    "load_mapping",
    "load_products",
    "parse_price",
    "products_from_frame",
    "read_table",
]
REQUIRED = ("id", "title")


@dataclass
class Catalog:
    products: list[Product] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)


class _FieldError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


class _Row:
    """One source row read through the mapping; every parse error names its field."""

    def __init__(self, row: dict[str, Any], m: Mapping) -> None:
        self.row, self.m = row, m
        self.cut: list[tuple[str, str]] = []  # (field, what was cut) for values over their limits

    def clip(self, name: str, value: str, key: str | None = None) -> str:
        kept, message = clip(value, key or name)
        if message:
            self.cut.append((name, message))
        return kept

    def cells(self, name: str) -> list[Any]:
        src = self.m.source(name)
        if src is None:
            return []
        return [self.row.get(c) for c in (src if isinstance(src, list) else [src])]

    def one(self, name: str) -> Any:
        got = self.cells(name)
        return got[0] if got else None

    def text(self, name: str, keep_lines: bool = False) -> str:
        clean: Callable[[Any], str] = clean_text if keep_lines else one_line
        return self.m.join.join(t for t in (clean(c) for c in self.cells(name)) if t)

    def parse(self, name: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ValueError as exc:
            raise _FieldError(name, str(exc)) from None


def _currency(r: _Row, stated: str | None) -> str | None:
    """The row's currency: the mapping's constant, the currency column, else what the price cell
    showed ("SR 2,375"); a price cell in another currency than the row's is an error."""
    const = r.m.constants.get("currency")
    cell = clean_text(r.one("currency"))
    column = r.parse("currency", lambda: _code(cell)) if cell else None
    currency = const or column
    if stated and currency and stated != currency:
        raise _FieldError("price", f"the price is in {stated} but the row's currency is {currency}: fix one")
    return currency or stated


def _code(value: str) -> str:
    try:
        return currency_code(value, "currency")
    except DataError as exc:
        raise ValueError(str(exc)) from None


def _attributes(r: _Row) -> dict[str, str]:
    attrs: dict[str, str] = {}
    implicit = None if r.m.named_only else r.row.get("attributes")
    if isinstance(implicit, dict):
        attrs.update(r.parse("attributes", lambda: specs(implicit)))
    if r.m.specs:
        attrs.update(r.parse(r.m.specs, lambda: specs(r.row.get(r.m.specs or ""))))
    for k, col in r.m.attributes.items():
        val = r.row.get(col)
        if isinstance(val, list) or clean_text(val):
            attrs[k] = r.clip(
                f"attributes.{k}", r.parse(f"attributes.{k}", partial(attribute_value, val)), "attribute"
            )
    if len(attrs) > MAX_ATTRIBUTES:
        raise _FieldError("attributes", f"{len(attrs)} attributes, over the limit of {MAX_ATTRIBUTES}")
    return {k: v for k, v in attrs.items() if v}


def _row_product(row: dict[str, Any], m: Mapping) -> tuple[Product, bool, list[tuple[str, str]]]:
    """The product of one row, whether its currency was defaulted to USD, and the values cut to
    their limits."""
    r = _Row(row, m)
    pid = r.parse("id", lambda: product_id(r.one("id")))
    title = r.clip("title", r.text("title"))
    amount, stated = r.parse("price", lambda: parse_amount(r.one("price")))
    currency = _currency(r, stated)
    category = r.clip(
        "category",
        m.constants.get("category")
        or r.parse("category", lambda: category_path(r.cells("category"), m.category_sep)),
    )
    brand = r.clip("brand", m.constants.get("brand") or r.text("brand"))
    product = Product(
        id=pid,
        title=title,
        category=category,
        brand=brand or None,
        price=None if amount is None else round(float(amount), 2),
        currency=currency or "USD",
        attributes=_attributes(r),
        description=r.clip("description", r.text("description", True)),
        stock=r.parse("stock", lambda: whole(r.one("stock"), lo=0)),
        rating=r.parse("rating", lambda: number(r.one("rating"), 1.0, 5.0)),
        rating_count=r.parse("rating_count", lambda: whole(r.one("rating_count"), lo=0)) or 0,
    )
    return product, currency is None, r.cut


def _check_columns(df: pd.DataFrame, m: Mapping, source: str) -> None:
    found = ", ".join(map(str, df.columns))
    if m.named_only:
        unnamed = [f for f in REQUIRED if m.source(f) is None]
        if unnamed:
            raise DataError(
                f"{source}: the mapping file names no column for {unnamed[0]!r}: add "
                f'{unnamed[0]} = "YOUR_COLUMN" to its [columns] table (columns in the file: {found})'
            )
    wanted = [(f, m.source(f)) for f in PRODUCT_FIELDS]
    wanted += [(f"attributes.{k}", c) for k, c in m.attributes.items()]
    wanted += [("specs", m.specs)] if m.specs else []
    absent = []
    for name, src in wanted:
        for col in src if isinstance(src, list) else [src]:
            mapped = name in m.columns or name.startswith("attributes.") or name == "specs"
            if col is not None and col not in df.columns and (mapped or name in REQUIRED):
                absent.append((name, col))
    if absent:
        name, col = absent[0]
        how = (
            f"fix the mapping ({DOCS})"
            if m.named_only or name in m.columns
            else f"add it, or map it: --map {name}=YOUR_COLUMN or a mapping file (--mapping FILE, see {DOCS})"
        )
        cols = ", ".join(f"{c!r} ({n})" for n, c in absent)
        raise DataError(f"{source}: required or mapped column(s) {cols} missing (found: {found}): {how}")


def products_from_frame(
    df: pd.DataFrame,
    mapping: Mapping | None = None,
    source: str = "<frame>",
    issues: list[Issue] | None = None,
    strict: bool = False,
    index_is_line: bool = False,
) -> tuple[list[Product], LoadReport]:
    m = mapping or Mapping()
    report = LoadReport(source, issues=list(issues or []))
    if len(df):
        _check_columns(df, m, source)
    seen: dict[str, int] = {}
    out: list[Product] = []
    repeated = defaulted = 0
    for pos, (idx, rec) in enumerate(zip(df.index, df.to_dict(orient="records"), strict=True)):
        rowno = int(idx) if index_is_line else pos + 1
        try:
            p, usd, cut = _row_product(rec, m)
        except _FieldError as exc:
            report.issues.append(Issue(rowno, exc.field, str(exc)))
            continue
        problem = _row_problem(p, seen, rowno, m)
        if isinstance(problem, Issue):
            report.issues.append(problem)
        elif problem == "repeat":
            repeated += 1
        else:
            seen[p.id] = rowno
            defaulted += usd
            report.warnings += [Issue(rowno, name, message) for name, message in cut]
            out.append(p)
    report.loaded = len(out)
    _notes(report, m, out, repeated, defaulted)
    if strict and report.issues:
        raise DataError(f"{report.summary()}\nstrict mode rejects the file: fix these rows or drop --strict")
    if not out:
        raise DataError(f"{report.summary()}\nno valid products in {source}: check the file and the mapping")
    return out, report


def _row_problem(p: Product, seen: dict[str, int], rowno: int, m: Mapping) -> Issue | str | None:
    if not p.id:
        return Issue(rowno, "id", "empty id")
    if not p.title:
        return Issue(rowno, "title", "empty title")
    if p.id in seen:
        if m.duplicates == "first":
            return "repeat"
        return Issue(
            rowno,
            "id",
            f"duplicate id {p.id!r} (first at row {seen[p.id]}); "
            'duplicates = "first" in the mapping keeps the first quietly',
        )
    return None


def _notes(report: LoadReport, m: Mapping, products: list[Product], repeated: int, defaulted: int) -> None:
    if m.named_only or m.columns or m.constants:
        report.notes.append(m.describe())
    if repeated:
        report.notes.append(f"{repeated} rows repeat an earlier id: kept the first of each")
    if defaulted:
        report.notes.append(
            f"{defaulted} products have no currency (no currency column, constant or symbol): taken as USD; "
            'if they are not, set currency = "..." in the mapping\'s [constants] table'
        )
    counts = Counter(p.currency for p in products if p.price is not None)
    if len(counts) > 1:
        shop, _ = counts.most_common(1)[0]
        mix = ", ".join(f"{c} {n}" for c, n in counts.most_common())
        report.notes.append(
            f"prices in several currencies ({mix}): the shop's currency is {shop}, and budgets are read in it"
        )


def load_products(
    path: str | Path,
    fmt: str | None = None,
    mapping: Mapping | None = None,
    strict: bool = False,
    encoding: str | None = None,
) -> tuple[list[Product], LoadReport]:
    """Products from a file through a mapping; ``encoding`` overrides the mapping's."""
    p = Path(path)
    m = mapping or Mapping()
    fmt = fmt or m.format or p.suffix.lstrip(".").lower()
    if fmt == "amazon":
        return load_amazon_items(p, strict=strict)
    df, issues = read_table(p, fmt, encoding or m.encoding, m.records)
    return products_from_frame(
        df, m, source=str(p), issues=issues, strict=strict, index_is_line=fmt == "jsonl"
    )


def load_amazon_items(path: str | Path, strict: bool = False) -> tuple[list[Product], LoadReport]:
    """Amazon item JSON ({idx: {title, description, brand, categories}}); no prices, so price=None."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            f"cannot read Amazon item file {str(p)!r} ({exc}): expect {{idx: {{title, ...}}}}"
        ) from None
    import pandas as pd

    def title(v: dict[str, Any]) -> str:
        # 3 of the 2,420 Office items have no title; the recommender still needs them, so name them from
        # their description or category rather than dropping them (the text is real, nothing invented).
        t = clean_text(v.get("title"))
        if t:
            return t
        words = clean_text(v.get("description")).split()
        return " ".join(words[:12]) or clean_text(v.get("categories")).split(",")[-1].strip()

    rows = [
        {
            "id": str(k),
            "title": title(v),
            "description": v.get("description"),
            "brand": v.get("brand"),
            "category": v.get("categories"),
        }
        for k, v in data.items()
    ]
    return products_from_frame(
        pd.DataFrame.from_records(rows), Mapping(category_sep=","), str(p), strict=strict
    )


def load_demo_catalog() -> Catalog:
    from knowledge.demo import load_demo

    shop = load_demo()
    return Catalog(list(shop.products), list(shop.reviews), list(shop.policies))
