"""A shop's own history: a CSV / JSON / JSONL / Parquet file of (customer, product, event, rating,
time) rows -> event records for the store and the recommender.

Columns may be named ``customer`` or ``customer_id`` (also ``user``, ``user_id``), ``product`` or
``product_id`` (also ``item``, ``item_id``), ``event`` (also ``kind``, ``type``), ``rating`` and
``time`` (also ``ts``, ``timestamp``, ``date``). ``event`` is one of view, cart, purchase, rate; a
row without one is a purchase, or a rating when it has a rating. Times are ISO-8601 or Unix
seconds. Bad rows are reported with their row number and skipped.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from knowledge.errors import DataError
from knowledge.fields import clean_text, missing, product_id
from knowledge.loadreport import Issue, LoadReport
from knowledge.tables import read_table

EVENTS = ("view", "cart", "purchase", "rate")
COLUMNS = {
    "customer_id": ("customer", "customer_id", "user", "user_id"),
    "product_id": ("product", "product_id", "item", "item_id"),
    "event": ("event", "kind", "type"),
    "rating": ("rating", "stars"),
    "ts": ("time", "ts", "timestamp", "date"),
}
SYNONYMS = {
    "click": "view",
    "add_to_cart": "cart",
    "add-to-cart": "cart",
    "buy": "purchase",
    "order": "purchase",
    "rating": "rate",
    "review": "rate",
}


def _columns(found: list[str], source: str) -> dict[str, str]:
    lower = {c.lower().strip(): c for c in found}
    out = {f: next((lower[a] for a in names if a in lower), "") for f, names in COLUMNS.items()}
    absent = [f for f in ("customer_id", "product_id") if not out[f]]
    if absent:
        names = " or ".join(COLUMNS[absent[0]][:2])
        raise DataError(
            f"{source}: no {names} column (found: {', '.join(found)}): interactions need the columns "
            "customer, product and optionally event, rating, time"
        )
    return out


def _time(v: Any) -> str | None:
    if missing(v):
        return None
    s = clean_text(v)
    try:
        seconds = float(s)
    except ValueError:
        try:
            return datetime.fromisoformat(s.replace("Z", "+00:00")).isoformat()
        except ValueError:
            raise ValueError(
                f"not a time: {s!r}: use ISO-8601 (2024-05-01T12:00:00) or Unix seconds"
            ) from None
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _event(row: dict[str, Any], cols: dict[str, str]) -> dict[str, Any]:
    rating_raw = row.get(cols["rating"]) if cols["rating"] else None
    rating = None
    if not missing(rating_raw):
        try:
            rating = float(str(rating_raw))
        except (TypeError, ValueError):
            raise ValueError(f"rating: not a number: {rating_raw!r}") from None
        if not 1 <= rating <= 5:
            raise ValueError(f"rating: {rating_raw!r} is outside 1..5")
    kind = clean_text(row.get(cols["event"])).lower() if cols["event"] else ""
    kind = SYNONYMS.get(kind, kind) or ("rate" if rating is not None else "purchase")
    if kind not in EVENTS:
        raise ValueError(f"event: unknown event {kind!r}: use one of {', '.join(EVENTS)}")
    customer = clean_text(row.get(cols["customer_id"]))
    if not customer or len(customer) > 64 or not customer.isprintable():
        raise ValueError(f"customer: {customer!r} is not an id of 1 to 64 printable characters")
    try:
        pid = product_id(row.get(cols["product_id"]))
    except ValueError as exc:
        raise ValueError(f"product: {exc}") from None
    if not pid:
        raise ValueError("product: empty product id")
    try:
        ts = _time(row.get(cols["ts"])) if cols["ts"] else None
    except ValueError as exc:
        raise ValueError(f"time: {exc}") from None
    return {"customer_id": customer, "product_id": pid, "event": kind, "rating": rating, "ts": ts}


def load_interactions(
    path: str | Path,
    fmt: str | None = None,
    encoding: str = "utf-8",
    product_ids: Collection[str] | None = None,
) -> tuple[list[dict[str, Any]], LoadReport]:
    """Event records {customer_id, product_id, event, rating, ts}; rows naming a product outside
    ``product_ids`` (the catalog) are reported and skipped."""
    p = Path(path)
    fmt = fmt or p.suffix.lstrip(".").lower()
    df, issues = read_table(p, fmt, encoding)
    report = LoadReport(str(p), issues=list(issues))
    cols = _columns([str(c) for c in df.columns], str(p))
    out: list[dict[str, Any]] = []
    for pos, (idx, rec) in enumerate(zip(df.index, df.to_dict(orient="records"), strict=True)):
        rowno = int(idx) if fmt == "jsonl" else pos + 1
        try:
            ev = _event(rec, cols)
        except ValueError as exc:  # every message starts with its field: "rating: ..."
            field, _, msg = str(exc).partition(": ")
            report.issues.append(Issue(rowno, field, msg))
            continue
        if product_ids is not None and ev["product_id"] not in product_ids:
            report.issues.append(Issue(rowno, "product", f"no product {ev['product_id']!r} in the catalog"))
            continue
        out.append(ev)
    report.loaded = len(out)
    if not out:
        raise DataError(f"{report.summary()}\nno valid interactions in {p}: check the file")
    return out, report
