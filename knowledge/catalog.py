"""Catalog loading and validation: CSV, JSON, JSONL, Parquet (with a column mapping), the Amazon
item format and the demo shop. Public review / interaction datasets are read by
``knowledge.datasets``; the snapshot on disk is in ``knowledge.snapshot``.

Bad rows are reported with their row number and field. ``strict=True`` rejects the whole file;
the default skips bad rows and reports them. A missing price stays ``None``: never invented.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.errors import DataError
from knowledge.records import Policy, Product, Review

if TYPE_CHECKING:
    import pandas as pd


FORMATS = ("csv", "json", "jsonl", "parquet", "amazon")
PRODUCT_FIELDS = (
    "id",
    "title",
    "category",
    "brand",
    "price",
    "currency",
    "description",
    "stock",
    "rating",
    "rating_count",
)
REVIEW_FIELDS = ("id", "product_id", "rating", "text", "title", "customer_id", "ts")
POLICY_FIELDS = ("id", "title", "text", "topic")
REQUIRED = {
    "product": ("id", "title"),
    "review": ("id", "product_id", "rating", "text"),
    "policy": ("id", "title", "text"),
}


@dataclass(frozen=True)
class Issue:
    row: int  # 1-based data row (or line, for JSONL)
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, field {self.field!r}: {self.message}"


@dataclass
class LoadReport:
    source: str
    loaded: int = 0
    issues: list[Issue] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len({i.row for i in self.issues})

    def summary(self, limit: int = 10) -> str:
        head = f"{self.source}: {self.loaded} loaded, {self.skipped} rows skipped"
        lines = [head] + [f"  {i}" for i in self.issues[:limit]]
        if len(self.issues) > limit:
            lines.append(f"  ... and {len(self.issues) - limit} more issues")
        return "\n".join(lines)


@dataclass
class Catalog:
    products: list[Product] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)


@dataclass
class Mapping:
    """Record field -> source column; ``attributes`` maps attribute name -> source column."""

    columns: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    category_sep: str | None = None  # e.g. "/" or "," in the source; output always uses " > "

    def source(self, name: str) -> str:
        return self.columns.get(name, name)


def load_mapping(path: str | Path | None = None, flags: Iterable[str] = ()) -> Mapping:
    """Read a TOML/YAML mapping file (tables ``columns`` and ``attributes``) and ``field=column`` flags."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise DataError(f"mapping file {str(p)!r} not found: pass an existing .toml or .yaml file")
        text = p.read_text(encoding="utf-8")
        try:
            if p.suffix == ".toml":
                import tomllib

                data = tomllib.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text) or {}
        except Exception as exc:
            raise DataError(f"mapping file {str(p)!r} is malformed ({exc}): fix its syntax") from None
    columns = {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
    attributes = {str(k): str(v) for k, v in (data.get("attributes") or {}).items()}
    for flag in flags:
        key, sep, col = flag.partition("=")
        if not sep or not key or not col:
            raise DataError(
                f"bad mapping flag {flag!r}: write FIELD=COLUMN, e.g. title=name or attributes.colour=color"
            )
        if key.startswith("attributes."):
            attributes[key.split(".", 1)[1]] = col
        else:
            columns[key] = col
    unknown = set(columns) - set(PRODUCT_FIELDS) - set(REVIEW_FIELDS) - set(POLICY_FIELDS)
    if unknown:
        raise DataError(f"mapping names unknown fields {sorted(unknown)}: use {', '.join(PRODUCT_FIELDS)}")
    return Mapping(columns, attributes, data.get("category_sep"))


# ---------------------------------------------------------------- value parsing


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip() == ""


def clean_text(v: Any) -> str:
    """A cell as text: missing values are empty, HTML entities decoded, whitespace trimmed."""
    return "" if _missing(v) else html.unescape(str(v)).strip()


def parse_price(v: Any) -> float | None:
    """'$1,299.00' -> 1299.0; empty -> None; anything else unparseable or negative -> ValueError."""
    if _missing(v):
        return None
    if isinstance(v, bool):
        raise ValueError(f"not a price: {v!r}")
    if isinstance(v, int | float):
        x = float(v)
    else:
        s = re.sub(r"^[^\d\-.]*", "", str(v).strip()).replace(",", "")
        try:
            x = float(s)
        except ValueError:
            raise ValueError(f"not a price: {v!r}") from None
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"price must be a non-negative number, got {v!r}")
    return round(x, 2)


def _int(v: Any, lo: int | None = None, hi: int | None = None) -> int | None:
    if _missing(v):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"not a number: {v!r}") from None
    if not math.isfinite(x) or x != int(x):
        raise ValueError(f"not a whole number: {v!r}")
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        raise ValueError(f"{v!r} is outside {lo}..{hi}")
    return int(x)


def _float(v: Any, lo: float, hi: float) -> float | None:
    if _missing(v):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"not a number: {v!r}") from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise ValueError(f"{v!r} is outside {lo}..{hi}")
    return x


def _category(v: Any, sep: str | None) -> str:
    s = clean_text(v)
    parts = s.split(sep) if sep else re.split(r"\s*>\s*", s)
    return " > ".join(p.strip() for p in parts if p.strip())


# ---------------------------------------------------------------- tables


def read_table(path: str | Path, fmt: str) -> tuple[pd.DataFrame, list[Issue]]:
    """Read a file into a DataFrame. JSONL is parsed line by line so a broken line is reported, not fatal."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise DataError(f"catalog file {str(p)!r} not found: check the path")
    issues: list[Issue] = []
    try:
        if fmt == "csv":
            return pd.read_csv(p, dtype=object, keep_default_na=False), issues
        if fmt == "parquet":
            return pd.read_parquet(p), issues
        if fmt == "json":
            data = json.loads(p.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("products"), list):
                data = data["products"]
            elif isinstance(data, dict):  # {id: {...}} as in the Amazon item files
                data = [{"id": k, **v} for k, v in data.items()]
            return pd.DataFrame.from_records(data), issues
        if fmt == "jsonl":
            rows: list[dict[str, Any]] = []
            lines: list[int] = []
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    issues.append(Issue(n, "<line>", f"broken JSON ({exc.msg} at column {exc.colno})"))
                    continue
                if not isinstance(obj, dict):
                    issues.append(Issue(n, "<line>", "expected a JSON object"))
                    continue
                rows.append(obj)
                lines.append(n)
            df = pd.DataFrame.from_records(rows)
            df.index = pd.Index(lines)  # report JSONL problems by file line
            return df, issues
    except DataError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types; the user needs the file and the reason
        raise DataError(
            f"cannot read {str(p)!r} as {fmt} ({type(exc).__name__}: {exc}): check --format"
        ) from None
    raise DataError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


def _row_product(row: dict[str, Any], m: Mapping) -> Product:
    def get(name: str) -> Any:
        return row.get(m.source(name))

    errors: dict[str, str] = {}

    def attempt(name: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ValueError as exc:
            errors[name] = str(exc)
            return None

    price = attempt("price", lambda: parse_price(get("price")))
    stock = attempt("stock", lambda: _int(get("stock"), lo=0))
    rating = attempt("rating", lambda: _float(get("rating"), 1.0, 5.0))
    count = attempt("rating_count", lambda: _int(get("rating_count"), lo=0))
    if errors:
        name, msg = next(iter(errors.items()))
        raise _FieldError(name, msg)
    attrs_raw = get("attributes")
    attrs = {str(k): str(v) for k, v in attrs_raw.items()} if isinstance(attrs_raw, dict) else {}
    attrs.update(
        {k: clean_text(row.get(col)) for k, col in m.attributes.items() if not _missing(row.get(col))}
    )
    return Product(
        id=clean_text(get("id")),
        title=clean_text(get("title")),
        category=_category(get("category"), m.category_sep),
        brand=clean_text(get("brand")) or None,
        price=price,
        currency=clean_text(get("currency")) or "USD",
        attributes=attrs,
        description=clean_text(get("description")),
        stock=stock,
        rating=rating,
        rating_count=count or 0,
    )


class _FieldError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


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
    missing = [f for f in REQUIRED["product"] if m.source(f) not in df.columns]
    if missing and len(df):
        cols = ", ".join(map(str, df.columns))
        raise DataError(
            f"{source}: required column(s) {', '.join(repr(m.source(f)) for f in missing)} missing "
            f"(found: {cols}): add them or map them, e.g. --map {missing[0]}=YOUR_COLUMN"
        )
    seen: dict[str, int] = {}
    out: list[Product] = []
    for pos, (idx, rec) in enumerate(zip(df.index, df.to_dict(orient="records"), strict=True)):
        rowno = int(idx) if index_is_line else pos + 1
        try:
            p = _row_product(rec, m)
        except _FieldError as exc:
            report.issues.append(Issue(rowno, exc.field, str(exc)))
            continue
        if not p.id:
            report.issues.append(Issue(rowno, "id", "empty id"))
            continue
        if not p.title:
            report.issues.append(Issue(rowno, "title", "empty title"))
            continue
        if p.id in seen:
            report.issues.append(Issue(rowno, "id", f"duplicate id {p.id!r} (first at row {seen[p.id]})"))
            continue
        seen[p.id] = rowno
        out.append(p)
    report.loaded = len(out)
    if strict and report.issues:
        raise DataError(f"{report.summary()}\nstrict mode rejects the file: fix these rows or drop --strict")
    if not out:
        raise DataError(f"{report.summary()}\nno valid products in {source}: check the file and the mapping")
    return out, report


def load_products(
    path: str | Path, fmt: str | None = None, mapping: Mapping | None = None, strict: bool = False
) -> tuple[list[Product], LoadReport]:
    p = Path(path)
    fmt = fmt or p.suffix.lstrip(".").lower()
    if fmt == "amazon":
        return load_amazon_items(p, strict=strict)
    df, issues = read_table(p, fmt)
    return products_from_frame(
        df, mapping, source=str(p), issues=issues, strict=strict, index_is_line=fmt == "jsonl"
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
