"""`aisle ingest` and `aisle index`.

ingest: validate a catalog through its mapping, build the vector indexes aside and swap them in,
then write the catalog snapshot (<data_dir>/catalog/*.jsonl); a shop with no history also gets its
content-based recommender. ``--interactions`` loads the shop's history into the database;
``--demo`` loads the demo shop with its customers, histories and orders. A rejected file changes
nothing on disk.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

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


HELP = """\
The mapping file (--mapping FILE.toml) says which of your columns fill which product field, sets
constants such as currency = "EUR", composes a title from several columns, reads category paths
and key/value specification columns. Its full format, with a CSV and a JSON example, is in the
README section "Bring your own catalog"; a worked example is docs/examples/ikea-sa.toml.

Re-ingesting products keeps the current reviews and policies (and the database's customers,
orders and events) unless you give new ones (--reviews, --policies) or pass --replace.
--interactions FILE loads the shop's history (customer, product, event, rating, time); then run
`aisle train recsys`.
"""


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="aisle ingest",
        description=__doc__,
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("path", nargs="?", help="catalog file (products)")
    ap.add_argument("--demo", action="store_true", help="ingest the built-in demo shop")
    ap.add_argument(
        "--format", choices=FORMATS, help="file format (default: the mapping's, else the extension)"
    )
    ap.add_argument("--mapping", help="TOML/YAML mapping file: README 'Bring your own catalog'")
    ap.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN", help="one field mapping")
    ap.add_argument("--encoding", help="text encoding of the files (default: the mapping's, else utf-8)")
    ap.add_argument(
        "--reviews", help="reviews: clothing-reviews .parquet or Review JSONL (replaces the current ones)"
    )
    ap.add_argument("--policies", help="policies: Policy JSONL (replaces the current ones)")
    ap.add_argument(
        "--replace", action="store_true", help="drop the current reviews and policies not given again"
    )
    ap.add_argument(
        "--interactions",
        metavar="FILE",
        help="the shop's history: CSV/JSON(L) with customer, product, event, rating, time",
    )
    ap.add_argument("--strict", action="store_true", help="reject the whole file if any row is bad")
    ap.add_argument("--no-index", action="store_true", help="write the catalog snapshot only")
    ap.add_argument("--no-progress", action="store_true")
    return ap


def _read_catalog(args: argparse.Namespace, settings: Settings) -> Catalog:
    """The products in ``args.path``; reviews and policies from their files, else kept from the
    current snapshot (unless --replace); reviews of products no longer listed are dropped."""
    from knowledge.snapshot import load_catalog, read_policies, read_reviews

    mapping = load_mapping(args.mapping, args.map)
    products, report = load_products(
        args.path, args.format, mapping, strict=args.strict, encoding=args.encoding
    )
    print(report.summary(), file=sys.stderr if report.issues else sys.stdout)
    try:
        previous = Catalog() if args.replace else load_catalog(settings.data_dir)
    except DataError:
        previous = Catalog()
    ids = {p.id for p in products}
    reviews = read_reviews(args.reviews) if args.reviews else previous.reviews
    policies = read_policies(args.policies) if args.policies else previous.policies
    kept = [r for r in reviews if r.product_id in ids]
    _say_kept(args, len(kept), len(reviews) - len(kept), len(policies))
    return Catalog(products, kept, policies)


def _say_kept(args: argparse.Namespace, reviews: int, orphans: int, policies: int) -> None:
    kept = [
        f"{n} {what}"
        for n, what, given in ((reviews, "reviews", args.reviews), (policies, "policies", args.policies))
        if n and not given
    ]
    if kept:
        print(
            f"kept {' and '.join(kept)} from the current catalog (--reviews/--policies replace them, "
            "--replace drops them)"
        )
    elif args.replace and not (args.reviews or args.policies):
        print("--replace: the catalog has no reviews or policies now (give them with --reviews/--policies)")
    if orphans:
        print(f"dropped {orphans} reviews of products no longer in the catalog")


def ingest_cli(argv: list[str]) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.demo and (args.path or args.interactions):
        ap.error("--demo loads the demo shop: give no PATH or --interactions with it")
    if not (args.demo or args.path or args.interactions):
        ap.error("give a catalog PATH, --interactions FILE, or --demo")

    from assistant.settings import load_settings
    from knowledge.snapshot import load_catalog, save_catalog

    settings = load_settings()
    settings.ensure_data_dir()
    t0 = time.perf_counter()
    if args.demo:
        catalog = load_demo_catalog()
        print(
            f"demo shop: {len(catalog.products)} products, {len(catalog.reviews)} reviews, "
            f"{len(catalog.policies)} policies"
        )
    elif args.path:
        catalog = _read_catalog(args, settings)
    else:
        catalog = load_catalog(settings.data_dir)
    if args.path or args.demo:
        if not args.no_index:
            _index_and_report(settings, catalog, progress=not args.no_progress and sys.stderr.isatty())
        save_catalog(settings.data_dir, catalog)
        print(
            f"catalog snapshot: {len(catalog.products)} products, {len(catalog.reviews)} reviews, "
            f"{len(catalog.policies)} policies ({time.perf_counter() - t0:.1f} s total)"
        )
    if args.demo:
        _load_demo_database(settings)
        return 0
    if args.interactions:
        _load_interactions(args, settings, {p.id for p in catalog.products})
    _recommender_after_ingest(settings, fit=bool(args.path) and not args.no_index)
    return 0


def _load_interactions(args: argparse.Namespace, settings: Settings, ids: set[str]) -> None:
    from assistant.store import Store
    from knowledge.interactions import load_interactions

    events, report = load_interactions(args.interactions, encoding=args.encoding or "utf-8", product_ids=ids)
    print(report.summary(), file=sys.stderr if report.issues else sys.stdout)
    store = Store.from_settings(settings)
    try:
        added = store.import_events(events)
    finally:
        store.close()
    again = f", replacing {added['replaced']} from the previous import" if added["replaced"] else ""
    print(f"history: {added['events']} events, {added['customers']} new customers{again}")


def _recommender_after_ingest(settings: Settings, fit: bool) -> None:
    """A shop with no history gets its content-based recommender now (nothing to train); with
    history, `aisle train recsys` fits it."""
    from assistant.recsys_cli import describe, shop_history

    shop = shop_history(settings)
    if shop.interactions:
        print(
            f"history: {len(shop.interactions)} events in the database: run `aisle train recsys` to fit "
            "the recommender on them"
        )
        return
    if fit:
        from assistant.recsys import ShopRecommender

        t0 = time.perf_counter()
        rec = ShopRecommender.fit(shop, embedder=settings.embedder, vectors=_product_vectors(settings))
        rec.save(settings.data_dir / "recommender")
        print(describe(rec, time.perf_counter() - t0))


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


def _product_vectors(settings: Settings) -> dict[str, Any] | None:
    """The live product index's embeddings by product id (just computed by the indexer), or None."""
    from assistant.components import store_from_settings
    from knowledge.index import pointer_for

    name = pointer_for(settings.data_dir).read().get("collections", {}).get("product")
    if not name:
        return None
    got = store_from_settings(settings).get(name, with_embeddings=True)
    return None if got.embeddings is None else dict(zip(got.ids, got.embeddings, strict=True))
