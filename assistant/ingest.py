"""`aisle ingest` and `aisle index`.

ingest: validate a catalog, build the vector indexes aside and swap them in, then write the
catalog snapshot (<data_dir>/catalog/*.jsonl); ``--demo`` also seeds the database with the demo
shop's customers, histories and orders. A rejected file changes nothing on disk.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from assistant.errors import DataError
from knowledge.catalog import FORMATS, Catalog, load_demo_catalog, load_mapping, load_products
from knowledge.docs import KINDS

if TYPE_CHECKING:
    from assistant.settings import Settings


def _index_and_report(
    settings: Settings,
    catalog: Catalog,
    progress: bool,
    rebuild: bool = False,
    kinds: tuple[str, ...] = KINDS,
) -> None:
    from assistant.components import indexer_from_settings

    t0 = time.perf_counter()
    for s in indexer_from_settings(settings, progress=progress).update(catalog, kinds=kinds, rebuild=rebuild):
        print(s.line())
    print(f"indexed in {time.perf_counter() - t0:.1f} s")


def _parser() -> argparse.ArgumentParser:
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
    return ap


def _read_catalog(args: argparse.Namespace, settings: Settings) -> Catalog:
    """The products in ``args.path``; reviews and policies from their files, else kept from the
    current snapshot (reviews of products no longer listed are dropped)."""
    from knowledge.snapshot import load_catalog, read_policies, read_reviews

    products, report = load_products(
        args.path, args.format, load_mapping(args.mapping, args.map), strict=args.strict
    )
    print(report.summary(), file=sys.stderr if report.issues else sys.stdout)
    try:
        previous = load_catalog(settings.data_dir)
    except DataError:
        previous = Catalog()
    ids = {p.id for p in products}
    reviews = read_reviews(args.reviews) if args.reviews else previous.reviews
    policies = read_policies(args.policies) if args.policies else previous.policies
    return Catalog(products, [r for r in reviews if r.product_id in ids], policies)


def ingest_cli(argv: list[str]) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.demo == bool(args.path):
        ap.error("give either --demo or a PATH")

    from assistant.settings import load_settings
    from knowledge.snapshot import save_catalog

    settings = load_settings()
    settings.ensure_data_dir()
    t0 = time.perf_counter()
    if args.demo:
        catalog = load_demo_catalog()
        print(
            f"demo shop: {len(catalog.products)} products, {len(catalog.reviews)} reviews, "
            f"{len(catalog.policies)} policies"
        )
    else:
        catalog = _read_catalog(args, settings)
    if not args.no_index:
        _index_and_report(settings, catalog, progress=not args.no_progress and sys.stderr.isatty())
    save_catalog(settings.data_dir, catalog)
    if args.demo:
        _load_demo_database(settings)
    print(
        f"catalog snapshot: {len(catalog.products)} products, {len(catalog.reviews)} reviews, "
        f"{len(catalog.policies)} policies ({time.perf_counter() - t0:.1f} s total)"
    )
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
    ap.add_argument(
        "--rebuild", action="store_true", help="re-embed everything (e.g. after changing the embedder)"
    )
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma list of product,review,policy")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        ap.error(f"unknown kinds {bad}: use {', '.join(KINDS)}")

    from assistant.settings import load_settings
    from knowledge.snapshot import load_catalog

    settings = load_settings()
    catalog = load_catalog(settings.data_dir)
    _index_and_report(
        settings,
        catalog,
        progress=not args.no_progress and sys.stderr.isatty(),
        rebuild=args.rebuild,
        kinds=kinds,
    )
    return 0
