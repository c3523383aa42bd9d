"""The catalog mapping file: which of your columns fill which product field.

A TOML (or YAML) file with a few top-level settings and three tables; the README section "Bring
your own catalog" shows it in full. Everything in it is checked: an unknown key or table is an
error that lists the valid ones, so nothing in the file is ever silently ignored. With a mapping
file only the columns it names are read; without one, columns named like the fields are used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.errors import DataError

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
COMPOSED = ("title", "description", "category")  # fields that take a list of columns
CONSTANT_FIELDS = ("currency", "brand", "category")
DUPLICATES = ("report", "first")
DOCS = 'the README section "Bring your own catalog" and docs/examples/*.toml'
SETTINGS = {
    "format": "file format: csv, json, jsonl or parquet (default: from the file's extension)",
    "encoding": 'text encoding of the file, e.g. "utf-8" (default), "cp1252", "latin-1"',
    "records": 'JSON only: the key holding the list of products, e.g. "items" or "data.items"',
    "category_sep": 'separator in a category path string, e.g. "/" for "Home/Fans" (default ">")',
    "join": 'text between the columns of a composed field, e.g. title = ["name", "size"] (default " ")',
    "duplicates": '"report" (default: a repeated id is a bad row) or "first" (keep the first quietly)',
    "specs": 'a column of key/value pairs spread into attributes: a JSON object or "key: value; key: value"',
}
TABLES = {
    "columns": "product field = your column, or a list of columns for title, description, category",
    "constants": "product field = one value for every product (currency, brand, category)",
    "attributes": "attribute name = your column",
}


@dataclass
class Mapping:
    """Product field -> source column(s); ``attributes`` maps attribute name -> source column.

    ``named_only``: read only the columns named here (a mapping file); otherwise a field with no
    entry reads the column of the same name."""

    columns: dict[str, str | list[str]] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    category_sep: str | None = None  # e.g. "/" or "," in the source; output always uses " > "
    constants: dict[str, str] = field(default_factory=dict)
    specs: str | None = None
    join: str = " "
    duplicates: str = "report"
    encoding: str = "utf-8"
    format: str | None = None
    records: str | None = None
    named_only: bool = False

    def source(self, name: str) -> str | list[str] | None:
        """The column(s) a field reads, or None when it reads none."""
        if name in self.columns:
            return self.columns[name]
        return None if self.named_only or name in self.constants else name

    def describe(self) -> str:
        """One line saying which columns were read, for the load report."""
        used = []
        for f in PRODUCT_FIELDS:
            src = self.columns.get(f)
            if src is not None:
                used.append(f"{f}<-{'+'.join(src) if isinstance(src, list) else src}")
            elif f in self.constants:
                used.append(f"{f}={self.constants[f]!r}")
        used += [f"attributes.{k}<-{v}" for k, v in self.attributes.items()]
        if self.specs:
            used.append(f"attributes<-{self.specs} (specs)")
        return "mapping: " + ", ".join(used)


def load_mapping(path: str | Path | None = None, flags: Iterable[str] = ()) -> Mapping:
    """A mapping file (TOML or YAML) plus ``FIELD=COLUMN`` / ``attributes.NAME=COLUMN`` flags."""
    data = _read(Path(path)) if path is not None else {}
    where = f"mapping file {str(path)!r}" if path is not None else "mapping"
    m = _from_dict(data, where)
    m.named_only = path is not None
    for flag in flags:
        key, sep, col = flag.partition("=")
        if not sep or not key or not col:
            raise DataError(
                f"bad mapping flag {flag!r}: write FIELD=COLUMN, e.g. title=name or attributes.colour=color"
            )
        if key.startswith("attributes."):
            m.attributes[key.split(".", 1)[1]] = col
        elif key in PRODUCT_FIELDS:
            m.columns[key] = col
        else:
            raise DataError(f"--map names unknown fields ['{key}']: use {', '.join(PRODUCT_FIELDS)}")
    return m


def _read(p: Path) -> dict[str, Any]:
    if not p.is_file():
        raise DataError(f"mapping file {str(p)!r} not found: pass an existing .toml or .yaml file")
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix == ".toml":
            import tomllib

            data: Any = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text) or {}
    except Exception as exc:
        raise DataError(f"mapping file {str(p)!r} is malformed ({exc}): fix its syntax") from None
    if not isinstance(data, dict):
        raise DataError(f"mapping file {str(p)!r} must hold keys and tables, not {type(data).__name__}")
    return data


def _from_dict(data: dict[str, Any], where: str) -> Mapping:
    unknown = [k for k in data if k not in SETTINGS and k not in TABLES]
    if unknown:
        hint = (
            " (a constant such as currency goes in [constants])" if set(unknown) & set(PRODUCT_FIELDS) else ""
        )
        raise DataError(
            f"{where}: unknown key {unknown[0]!r}{hint}: valid keys are {', '.join(SETTINGS)}, "
            f"and tables [{'], ['.join(TABLES)}]; see {DOCS}"
        )
    for t in TABLES:
        if t in data and not isinstance(data[t], dict):
            raise DataError(f"{where}: {t!r} must be a table ([{t}]) of {TABLES[t]}")
    m = Mapping(
        columns=_columns(data.get("columns") or {}, where),
        attributes=_strings(data.get("attributes") or {}, where, "attributes"),
        constants=_constants(data.get("constants") or {}, where),
    )
    for key in SETTINGS:
        if key in data and not isinstance(data[key], str):
            raise DataError(f"{where}: {key} must be a string: {SETTINGS[key]}")
    m.category_sep = data.get("category_sep")
    m.specs = data.get("specs")
    m.join = data.get("join", " ")
    m.encoding = data.get("encoding", "utf-8")
    m.format, m.records = data.get("format"), data.get("records")
    m.duplicates = data.get("duplicates", "report")
    if m.duplicates not in DUPLICATES:
        raise DataError(f"{where}: duplicates = {m.duplicates!r}: choose one of {', '.join(DUPLICATES)}")
    if m.format is not None and m.format not in FORMATS[:4]:
        raise DataError(f"{where}: format = {m.format!r}: choose one of {', '.join(FORMATS[:4])}")
    both = set(m.columns) & set(m.constants)
    if both:
        raise DataError(f"{where}: {sorted(both)[0]!r} is in both [columns] and [constants]: keep one")
    return m


def _columns(table: dict[str, Any], where: str) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key, val in table.items():
        if key not in PRODUCT_FIELDS:
            raise DataError(
                f"{where}: [columns] names unknown field {key!r}: valid fields are "
                f"{', '.join(PRODUCT_FIELDS)} (other columns go in [attributes])"
            )
        if isinstance(val, list) and key in COMPOSED and val and all(isinstance(v, str) for v in val):
            out[key] = [str(v) for v in val]
        elif isinstance(val, str) and val:
            out[key] = val
        else:
            many = f", or a list of columns (only {', '.join(COMPOSED)})" if isinstance(val, list) else ""
            raise DataError(f"{where}: [columns] {key} = {val!r}: give a column name{many}")
    return out


def _strings(table: dict[str, Any], where: str, name: str) -> dict[str, str]:
    bad = next((k for k, v in table.items() if not isinstance(v, str) or not v), None)
    if bad is not None:
        raise DataError(f"{where}: [{name}] {bad} = {table[bad]!r}: give a column name as a string")
    return {str(k): str(v) for k, v in table.items()}


def _constants(table: dict[str, Any], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, val in table.items():
        if key not in CONSTANT_FIELDS:
            raise DataError(
                f"{where}: [constants] names {key!r}: constants can set {', '.join(CONSTANT_FIELDS)}"
            )
        if not isinstance(val, str) or not val.strip():
            raise DataError(f'{where}: [constants] {key} = {val!r}: give a text value, e.g. currency = "EUR"')
        out[key] = val.strip()
    if "currency" in out:
        out["currency"] = currency_code(out["currency"], f"{where}: [constants] currency")
    return out


def currency_code(value: str, what: str) -> str:
    """An ISO 4217 code from a code, symbol or name ("SAR", "₹", "rupees"); DataError otherwise."""
    from babel.numbers import list_currencies

    from knowledge.money import currency_of

    code = value.upper() if value.upper() in list_currencies() else currency_of(value)
    if code is None:
        raise DataError(
            f"{what} = {value!r} is not a currency: use an ISO 4217 code, e.g. USD, EUR, INR, SAR"
        )
    return code
