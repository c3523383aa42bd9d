"""Loaders for the public datasets the benchmarks and ingestion read: Amazon interactions and the
Women's E-Commerce Clothing Reviews Parquet (Amazon item files are a catalog format, in
``knowledge.catalog``)."""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.catalog import clean_text
from knowledge.errors import DataError
from knowledge.records import Review


def load_amazon_interactions(path: str | Path) -> dict[str, list[str]]:
    """Amazon interaction JSON ({user idx: [item idx, ...] in time order}) with ids as strings."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            f"cannot read Amazon interactions {str(path)!r} ({exc}): expect {{user: [items]}}"
        ) from None
    return {str(u): [str(i) for i in items] for u, items in data.items()}


def load_clothing_reviews(path: str | Path, limit: int | None = None) -> list[Review]:
    """Women's E-Commerce Clothing Reviews Parquet -> Reviews (product id = Clothing ID); empty
    texts are skipped."""
    import pandas as pd

    df = pd.read_parquet(path)
    out: list[Review] = []
    for i, r in enumerate(df.itertuples(index=False)):
        text = clean_text(r[3])  # columns: Clothing ID, Age, Title, Review Text, Rating, ...
        if not text:
            continue
        out.append(
            Review(id=f"cr{i}", product_id=str(r[0]), rating=int(r[4]), text=text, title=clean_text(r[2]))
        )
        if limit is not None and len(out) >= limit:
            break
    return out
