"""`aisle ingest` and `aisle index`.

ingest: validate a catalog, build the vector indexes aside and swap them in, then write the
catalog snapshot (<data_dir>/catalog/*.jsonl). A rejected file changes nothing on disk.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from assistant.errors import DataError
from knowledge.catalog import FORMATS, Catalog, load_clothing_reviews, load_mapping, load_products
from knowledge.docs import KINDS
from knowledge.records import Policy, Review

if TYPE_CHECKING:
    from assistant.settings import Settings


def _indexer(settings, progress: bool):  # type: ignore[no-untyped-def]
    from knowledge.embed import embedder_from_settings
    from knowledge.index import Indexer
    from knowledge.vectorstore import store_from_settings

    return Indexer(store_from_settings(settings), embedder_from_settings(settings), settings.data_dir,
                   progress=progress)


@overload
def _read_records(path: str, cls: type[Review]) -> list[Review]: ...
@overload
def _read_records(path: str, cls: type[Policy]) -> list[Policy]: ...
def _read_records(path: str, cls: type[Review] | type[Policy]) -> list[Any]:
    p = Path(path)
    if p.suffix == ".parquet" and cls is Review:
        return load_clothing_reviews(p)
    out = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(cls.from_dict(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{p}: line {n}: bad {cls.__name__.lower()} record ({exc}): fix the line") from None
    return out


def _index_and_report(settings, catalog: Catalog, progress: bool, rebuild: bool = False,  # type: ignore[no-untyped-def]
                      kinds: tuple[str, ...] = KINDS) -> None:
    t0 = time.perf_counter()
    summaries = _indexer(settings, progress).update(catalog, kinds=kinds, rebuild=rebuild)
    for s in summaries:
        print(s.line())
    print(f"indexed in {time.perf_counter() - t0:.1f} s")


def ingest_cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="aisle ingest", description=__doc__)
    ap.add_argument("path", nargs="?", help="catalog file (products)")
    ap.add_argument("--demo", action="store_true", help="ingest the built-in demo shop")
    ap.add_argument("--format", choices=FORMATS, help="file format (default: from the extension)")
    ap.add_argument("--mapping", help="TOML/YAML file mapping record fields to your columns")
    ap.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help="one field mapping")
    ap.add_argument("--reviews", help="reviews: clothing-reviews .parquet or Review JSONL")
    ap.add_argument("--policies", help="policies: Policy JSONL")
    ap.add_argument("--strict", action="store_true", help="reject the whole file if any row is bad")
    ap.add_argument("--no-index", action="store_true", help="write the catalog snapshot only")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    if args.demo == bool(args.path):
        ap.error("give either --demo or a PATH")

    from assistant.settings import load_settings
    from knowledge.catalog import load_catalog, load_demo_catalog, save_catalog

    settings = load_settings()
    settings.ensure_data_dir()
    t0 = time.perf_counter()
    if args.demo:
        catalog = load_demo_catalog()
        print(f"demo shop: {len(catalog.products)} products, {len(catalog.reviews)} reviews, "
              f"{len(catalog.policies)} policies")
    else:
        mapping = load_mapping(args.mapping, args.map)
        products, report = load_products(args.path, args.format, mapping, strict=args.strict)
        print(report.summary(), file=sys.stderr if report.issues else sys.stdout)
        try:
            previous = load_catalog(settings)
        except DataError:
            previous = Catalog()
        ids = {p.id for p in products}
        reviews = _read_records(args.reviews, Review) if args.reviews else previous.reviews
        policies = _read_records(args.policies, Policy) if args.policies else previous.policies
        catalog = Catalog(products, [r for r in reviews if r.product_id in ids], policies)
    if not args.no_index:
        _index_and_report(settings, catalog, progress=not args.no_progress and sys.stderr.isatty())
    save_catalog(settings, catalog)
    if args.demo:
        _load_demo_database(settings)
    print(f"catalog snapshot: {len(catalog.products)} products, {len(catalog.reviews)} reviews, "
          f"{len(catalog.policies)} policies ({time.perf_counter() - t0:.1f} s total)")
    return 0


def _load_demo_database(settings: Settings) -> None:
    """The demo shop's customers, histories and orders go into the database (once)."""
    from assistant.store import Store
    from knowledge.demo import load_demo

    store = Store.from_settings(settings)
    try:
        added = store.load_demo(load_demo())
    finally:
        store.close()
    if any(added.values()):
        print(f"database: {added['customers']} customers, {added['events']} events, {added['orders']} orders")
    else:
        print("database: demo customers already loaded")


def index_cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="aisle index", description="build or update the vector indexes")
    ap.add_argument("--rebuild", action="store_true", help="re-embed everything (e.g. after changing the embedder)")
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma list of product,review,policy")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        ap.error(f"unknown kinds {bad}: use {', '.join(KINDS)}")

    from assistant.settings import load_settings
    from knowledge.catalog import load_catalog

    settings = load_settings()
    catalog = load_catalog(settings)
    _index_and_report(settings, catalog, progress=not args.no_progress and sys.stderr.isatty(),
                      rebuild=args.rebuild, kinds=kinds)
    return 0
