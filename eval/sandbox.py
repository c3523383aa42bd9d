"""An isolated, throw-away data dir built from the demo shop, so an evaluation never touches the
user's database, indexes or fitted models; with the simulated shoppers' held-out interactions
(and the orders they produced) removed before the store and the recommender see them."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

log = logging.getLogger(__name__)

# --backend NAME -> Settings overrides. "default"/"fast"/"test" are the packaged GGUF models.
BACKENDS: dict[str, dict[str, str]] = {
    "template": {"generator_backend": "template"},
    "fake": {"generator_backend": "fake"},
    "default": {"generator_backend": "llama", "generator_model": "default"},
    "fast": {"generator_backend": "llama", "generator_model": "fast"},
    "test": {"generator_backend": "llama", "generator_model": "test"},
    "openai": {"generator_backend": "openai"},
}


def backend_overrides(name: str) -> dict[str, str]:
    if name in BACKENDS:
        return dict(BACKENDS[name])
    if name.endswith(".gguf"):
        return {"generator_backend": "llama", "generator_model": name}
    raise ConfigError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)} or give a .gguf path")


def held_out(shop: Any, cutoffs: dict[str, str]) -> Any:
    """A copy of the shop without each listed customer's interactions (and orders) at or after
    their cutoff timestamp: the engine cannot have seen the purchase it is asked to find."""
    if not cutoffs:
        return shop
    keep = [e for e in shop.interactions if e["customer_id"] not in cutoffs or e["ts"] < cutoffs[e["customer_id"]]]
    orders = [o for o in shop.orders if o["customer_id"] not in cutoffs or o["created_at"] < cutoffs[o["customer_id"]]]
    return dataclasses.replace(shop, interactions=keep, orders=orders)


def _fit_recommender(settings: Any, shop: Any) -> None:
    """Fit the shop recommender on the (held-out) interactions into <data_dir>/recommender, where
    `aisle train recsys` puts it; without the package the engine falls back to popularity."""
    try:
        from recommender.shop import ShopRecommender
    except ImportError as exc:
        log.warning("recommender.shop unavailable (%s): the engine will rank by popularity", exc)
        return
    ShopRecommender.fit(shop, embedder=settings.embedder).save(Path(settings.data_dir) / "recommender")


def build_data_dir(settings: Any, shop: Any, *, index: bool = True) -> None:
    """Catalog snapshot + vector indexes + store (customers, histories, orders) + recommender."""
    from assistant.store import Store
    from knowledge.catalog import Catalog, save_catalog

    settings.ensure_data_dir()
    catalog = Catalog(list(shop.products), list(shop.reviews), list(shop.policies))
    if index:
        from knowledge.embed import embedder_from_settings
        from knowledge.index import Indexer
        from knowledge.vectorstore import store_from_settings

        Indexer(store_from_settings(settings), embedder_from_settings(settings), settings.data_dir,
                progress=False).update(catalog)
    save_catalog(settings, catalog)
    store = Store.from_settings(settings)
    try:
        store.load_demo(shop)
    finally:
        store.close()
    _fit_recommender(settings, shop)


class Sandbox:
    """A temp data dir + the Settings pointing at it; remove() deletes it (also as a context manager)."""

    def __init__(self, backend: str = "template", embedder: str = "minilm", cutoffs: dict[str, str] | None = None,
                 shop: Any | None = None, **overrides: Any) -> None:
        from assistant.settings import load_settings
        from knowledge.demo import load_demo

        self.dir = Path(tempfile.mkdtemp(prefix="aisle-eval-"))
        self.shop = shop if shop is not None else load_demo()
        self.settings = load_settings(data_dir=self.dir / "data", embedder=embedder,
                                      **backend_overrides(backend), **overrides)
        build_data_dir(self.settings, held_out(self.shop, cutoffs or {}))

    def engine(self) -> Any:
        from assistant.engine import Assistant

        return Assistant.from_settings(self.settings)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()
