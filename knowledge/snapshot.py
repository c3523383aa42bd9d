"""The catalog snapshot on disk (``<data_dir>/catalog/*.jsonl``) and record files (JSONL).

Written aside and swapped in, so a reader never sees a half-written catalog and a rejected
ingest changes nothing on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from knowledge.catalog import Catalog
from knowledge.datasets import load_clothing_reviews
from knowledge.errors import DataError
from knowledge.records import Policy, Product, Review

R = TypeVar("R", Review, Policy)


def catalog_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "catalog"


def save_catalog(data_dir: Path | str, catalog: Catalog) -> Path:
    """Write the snapshot under ``data_dir`` aside, then swap it in: readers never see a
    half-written catalog."""
    target = catalog_dir(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".catalog-", dir=target.parent))
    for name, recs in (
        ("products", catalog.products),
        ("reviews", catalog.reviews),
        ("policies", catalog.policies),
    ):
        with (tmp / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for r in recs:
                fh.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    old = target.with_name(".catalog-old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def load_catalog(data_dir: Path | str) -> Catalog:
    """The snapshot ``save_catalog`` wrote under ``data_dir``."""
    d = catalog_dir(data_dir)
    if not (d / "products.jsonl").is_file():
        raise DataError(
            f"no catalog under {str(d)!r}: run `aisle ingest --demo` or `aisle ingest PATH` first"
        )

    def read(name: str, cls: Any) -> list[Any]:
        f = d / f"{name}.jsonl"
        if not f.is_file():
            return []
        return [cls.from_dict(json.loads(x)) for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]

    return Catalog(read("products", Product), read("reviews", Review), read("policies", Policy))


def read_reviews(path: str | Path) -> list[Review]:
    """Reviews from a Review JSONL file or the clothing-reviews Parquet."""
    p = Path(path)
    return load_clothing_reviews(p) if p.suffix == ".parquet" else _read_jsonl(p, Review)


def read_policies(path: str | Path) -> list[Policy]:
    """Policies from a Policy JSONL file."""
    return _read_jsonl(Path(path), Policy)


def _read_jsonl(p: Path, cls: type[R]) -> list[R]:
    out: list[R] = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(cls.from_dict(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"{p}: line {n}: bad {cls.__name__.lower()} record ({exc}): fix the line"
            ) from None
    return out
