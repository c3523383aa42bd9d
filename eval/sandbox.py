"""An isolated, throw-away data dir built from the demo shop, so an evaluation never touches the
user's database, indexes or fitted models; with the simulated shoppers' held-out interactions
(and the orders they produced) removed before the store and the recommender see them."""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.buildcache import source_hash
from assistant.errors import ConfigError

if TYPE_CHECKING:
    from assistant.api import Engine

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
    keep = [
        e for e in shop.interactions if e["customer_id"] not in cutoffs or e["ts"] < cutoffs[e["customer_id"]]
    ]
    orders = [
        o
        for o in shop.orders
        if o["customer_id"] not in cutoffs or o["created_at"] < cutoffs[o["customer_id"]]
    ]
    return dataclasses.replace(shop, interactions=keep, orders=orders)


def _cached(cache: Path | None, key: str, dest: Path, build: Any) -> None:
    """Fill `dest` from cache/key, or build it there and store a copy (atomically) for next time."""
    if cache is not None and (cache / key / ".complete").is_file():
        shutil.copytree(cache / key, dest, dirs_exist_ok=True)
        return
    build()
    if cache is None:
        return
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache))
    shutil.copytree(dest, tmp, dirs_exist_ok=True)
    (tmp / ".complete").write_text(key)
    try:
        os.replace(tmp, cache / key)
    except OSError:  # another run stored the same key meanwhile
        shutil.rmtree(tmp, ignore_errors=True)


def _digest(*parts: Any) -> str:
    h = hashlib.sha1()
    for part in parts:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def build_data_dir(
    settings: Any, shop: Any, *, recsys_embedder: str | None = None, cache: Path | None = None
) -> None:
    """Catalog snapshot + vector indexes + store (customers, histories, orders) + recommender.

    The indexes and the fitted recommender are copied from `cache` when their inputs (data,
    embedder, source code) are unchanged: building them takes minutes on a busy 2-core machine."""
    from assistant.store import Store
    from knowledge.catalog import Catalog
    from knowledge.snapshot import save_catalog

    data_dir = Path(settings.ensure_data_dir())
    catalog = Catalog(list(shop.products), list(shop.reviews), list(shop.policies))

    def index() -> None:
        from assistant.components import indexer_from_settings

        indexer = indexer_from_settings(settings)
        indexer.update(catalog)
        del indexer
        gc.collect()  # release Chroma's files before they are copied into the cache

    key = "index-" + _digest(
        settings.embedder,
        [r.to_dict() for r in catalog.products + catalog.reviews + catalog.policies],
        source_hash("knowledge", "assistant.components"),
    )
    _cached(cache, key, data_dir, index)
    save_catalog(data_dir, catalog)
    store = Store.from_settings(settings)
    try:
        store.load_demo(shop)
    finally:
        store.close()
    try:
        from assistant.recsys import ShopRecommender
    except ImportError as exc:
        log.warning("assistant.recsys unavailable (%s): the engine will rank by popularity", exc)
        return
    emb = recsys_embedder or settings.embedder
    rec_dir = data_dir / "recommender"
    key = "recsys-" + _digest(
        emb, shop.interactions, [p.id for p in shop.products], source_hash("recommender", "assistant.recsys")
    )
    # Where `aisle train recsys` puts it, fitted on the held-out interactions only.
    _cached(cache, key, rec_dir, lambda: ShopRecommender.fit(shop, embedder=emb).save(rec_dir))


class Sandbox:
    """A temp data dir + the Settings pointing at it; remove() deletes it (also as a context manager)."""

    def __init__(
        self,
        backend: str = "template",
        embedder: str = "minilm",
        cutoffs: dict[str, str] | None = None,
        shop: Any | None = None,
        recsys_embedder: str | None = None,
        use_cache: bool = True,
        **overrides: Any,
    ) -> None:
        from assistant.settings import load_settings
        from knowledge.demo import load_demo

        self.dir = Path(tempfile.mkdtemp(prefix="aisle-eval-"))
        self.shop = shop if shop is not None else load_demo()
        self.settings = load_settings(
            data_dir=self.dir / "data", embedder=embedder, **backend_overrides(backend), **overrides
        )
        try:
            build_data_dir(
                self.settings,
                held_out(self.shop, cutoffs or {}),
                recsys_embedder=recsys_embedder,
                cache=Path(self.settings.cache_dir) / "eval" if use_cache else None,
            )
        except BaseException:
            self.remove()
            raise

    def engine(self) -> Engine:
        from assistant.wiring import build_assistant

        return build_assistant(self.settings)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()
