"""Reading a catalog file into a table: CSV, JSON, JSONL or Parquet, in any text encoding.

A byte the encoding cannot read is reported with its row and line and the ``--encoding`` fix; a
JSON file of the wrong shape says which shape it has and which key to read.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.errors import DataError
from knowledge.loadreport import Issue
from knowledge.mapping import FORMATS

if TYPE_CHECKING:
    import pandas as pd


def read_text(p: Path, encoding: str = "utf-8", csv_rows: bool = False) -> str:
    """The file's text; an undecodable byte names its row (CSV) or line and suggests ``--encoding``."""
    raw = p.read_bytes()
    enc = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    try:
        return raw.decode(enc)
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}: use e.g. utf-8, cp1252, latin-1, utf-16") from None
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode(enc, errors="replace")
        line = prefix.count("\n") + 1
        col = len(prefix) - (prefix.rfind("\n") + 1) + 1
        where = f"line {line}"
        if csv_rows:
            records = sum(1 for _ in csv.reader(io.StringIO(prefix)))
            starts_row = prefix == "" or prefix.endswith("\n")
            where = f"row {max(records + starts_row - 1, 1)} (line {line})"
        raise DataError(
            f"{p}: {where} is not valid {encoding}: byte 0x{raw[exc.start]:02x} at column {col}; "
            f"pass --encoding with the file's encoding (e.g. --encoding cp1252 or --encoding latin-1) "
            f'or set encoding = "..." in the mapping file'
        ) from None


def read_table(
    path: str | Path, fmt: str, encoding: str = "utf-8", records: str | None = None
) -> tuple[pd.DataFrame, list[Issue]]:
    """Read a file into a DataFrame. JSONL is parsed line by line so a broken line is reported, not fatal."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise DataError(f"catalog file {str(p)!r} not found: check the path")
    if fmt not in FORMATS:
        raise DataError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    try:
        if fmt == "csv":
            text = read_text(p, encoding, csv_rows=True)
            return pd.read_csv(io.StringIO(text), dtype=object, keep_default_na=False), []
        if fmt == "parquet":
            return pd.read_parquet(p), []
        if fmt == "json":
            data = _json(p, read_text(p, encoding))
            return pd.DataFrame.from_records(json_records(data, str(p), records)), []
        return _jsonl(read_text(p, encoding))
    except DataError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types; the user needs the file and the reason
        raise DataError(
            f"cannot read {str(p)!r} as {fmt} ({type(exc).__name__}: {exc}): check --format"
        ) from None


def _json(p: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{p}: broken JSON at line {exc.lineno}, column {exc.colno} ({exc.msg}): fix the file "
            "(one object a line is --format jsonl)"
        ) from None


def json_records(data: Any, source: str, records: str | None = None) -> list[dict[str, Any]]:
    """The product objects of a JSON document: a list, the list under ``records`` (dotted path),
    an object with a "products" list, or an object of objects keyed by id."""
    if records:
        for key in records.split("."):
            if not isinstance(data, dict) or key not in data:
                raise DataError(f'{source}: records = "{records}" but the file has no key {key!r} there')
            data = data[key]
    elif isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    elif isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        return [{"id": k, **v} for k, v in data.items()]  # {id: {...}} as in the Amazon item files
    if isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list)]
        hint = (
            f'set records = "{lists[0]}" in the mapping file to read the list under that key'
            if lists
            else "give a list of product objects: [{...}, {...}]"
        )
        raise DataError(f"{source}: the file holds one JSON object, not a list of products: {hint}")
    if not isinstance(data, list):
        raise DataError(f"{source}: expected a list of product objects, got {type(data).__name__}")
    bad = next((i for i, x in enumerate(data, start=1) if not isinstance(x, dict)), None)
    if bad is not None:
        raise DataError(
            f"{source}: item {bad} of the list is {type(data[bad - 1]).__name__}, not an object: "
            "each product must be a JSON object"
        )
    return data


def _jsonl(text: str) -> tuple[pd.DataFrame, list[Issue]]:
    import pandas as pd

    issues: list[Issue] = []
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    for n, line in enumerate(text.splitlines(), start=1):
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
