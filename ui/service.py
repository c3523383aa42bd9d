"""The one seam between the web layer and the engine.

Both the FastAPI routes and the Gradio app talk to a ``Backend``; it owns no business logic, it
only finds the engine's parts (store, catalog, tools) and builds the engine lazily, so the server
starts fast and tests can inject a fake engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import NotFoundError

if TYPE_CHECKING:
    from assistant.events import Event
    from assistant.identity import Identity
    from assistant.settings import Settings
    from assistant.store import Store

log = logging.getLogger("aisle.ui")


def is_busy(exc: BaseException) -> bool:
    """The engine signals a full generation queue with an exception named like 'Busy'."""
    return any("busy" in cls.__name__.lower() or cls.__name__ == "QueueFull" for cls in type(exc).__mro__)


class Backend:
    def __init__(self, settings: Settings, assistant: Any | None = None, store: Store | None = None) -> None:
        self.settings = settings
        self._assistant = assistant
        self._store = store
        self._catalog: Any | None = None
        self._lock = threading.Lock()
        self._store_lock = threading.Lock()  # separate: building the engine holds _lock for seconds
        self._warming = False
        self.start_error: str | None = None  # why the engine failed to build at start-up, for /api/health
        from assistant.access import Access
        from assistant.identity import Authority
        from assistant.outguard import RenderGuard
        from assistant.ratelimit import ApiLimits, ChatLimits
        from ui.insights import variant_for

        # One quota per app for POST /api/chat and the web chat alike: switching channel buys no turns.
        self.limits = ChatLimits.from_settings(settings)
        self.api_limits = ApiLimits.from_settings(settings)
        self.guard = RenderGuard(settings.shop_hosts)
        # Identity and object-level checks, shared by the REST routes and the Gradio handlers.
        self.authority = Authority.from_settings(settings, lambda: self.store)
        self.access = Access(lambda: self.store, self.guard, variant_for)

    # --- lazily built parts -----------------------------------------------------------------
    @property
    def assistant(self) -> Any:
        if self._assistant is None:
            with self._lock:
                if self._assistant is None:
                    from assistant.engine import Assistant

                    self._assistant = Assistant.from_settings(self.settings)
        return self._assistant

    @property
    def store(self) -> Store:
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    # Share the engine's store once it exists; before that (page render, privacy routes)
                    # open our own on the same database rather than building the whole engine.
                    found = getattr(self._assistant, "store", None) if self._assistant is not None else None
                    if found is None:
                        from assistant.store import Store

                        found = Store.from_settings(self.settings)
                    self._store = found
        return self._store

    @property
    def catalog(self) -> Any:
        if self._catalog is None:
            found = getattr(self.assistant, "catalog", None)
            if found is None:
                from knowledge.catalog import load_demo_catalog
                from knowledge.snapshot import load_catalog

                try:
                    found = load_catalog(self.settings.data_dir)
                except Exception:  # no ingested catalog yet: the demo shop is package data
                    found = load_demo_catalog()
            self._catalog = found
        return self._catalog

    @property
    def ready(self) -> bool:
        return self._assistant is not None and not self._warming

    def warm(self) -> None:
        """Build the engine now (server start) instead of on the first shopper's message."""
        self._warming = True
        try:
            a, _ = self.assistant, self.store
            nlu = getattr(a, "nlu", None)
            if nlu is not None and hasattr(nlu, "understand"):
                nlu.understand("hello")  # loads the embedding model now, not during the first shopper's turn
        finally:
            self._warming = False

    # --- chat -------------------------------------------------------------------------------
    def prepare(self, text: str) -> None:
        """Session-independent work for a message about to queue for a turn (its embeddings)."""
        fn = getattr(self.assistant, "prepare", None)
        if callable(fn):
            fn(text)

    def stream(self, session_id: str, text: str, customer_id: str | None = None,
               client_id: str | None = None) -> Iterator[Event]:
        """The engine's turn with every shown text through the render guard. ``client_id`` tells the
        engine which browser or API client this is (order facts are not reused across clients)."""
        from assistant.outguard import guard_events

        # The engine itself keeps a paused (taken-over) conversation silent.
        return guard_events(self.assistant.stream(session_id, text, customer_id=customer_id, client_id=client_id),
                            self.guard)

    def open_session(self, who: Identity, session_id: str | None, *, create: bool = False) -> str:
        """A conversation ``who`` may chat in: a new server-issued one when ``session_id`` is None."""
        if session_id is None:
            return self.access.start_session(who)
        return str(self.access.session(who, session_id, create=create)["id"])

    def messages(self, who: Identity, session_id: str, after_id: int = 0) -> list[dict[str, Any]]:
        return self.access.transcript(who, session_id, after_id=after_id)

    # --- catalog (through the engine's shop index and tools) ------------------------------------
    @property
    def _shop(self) -> Any | None:
        return getattr(self.assistant, "shop", None)

    def product(self, product_id: str) -> dict[str, Any]:
        shop = self._shop
        p = shop.products.get(product_id) if shop is not None else self.catalog.product(product_id)
        if p is None:
            raise NotFoundError(f"no product {product_id!r}: use an id from /api/search")
        return dict(self._shown(p.to_dict()))

    def _shown(self, record: Any) -> Any:
        from assistant.outguard import guard_record

        return guard_record(record, self.guard) if isinstance(record, dict) else record

    def product_title(self, product_id: str) -> str | None:
        try:
            return str(self.product(product_id)["title"])
        except NotFoundError:
            return None

    def _context(self, session_id: str | None, customer_id: str | None) -> Any:
        a = self.assistant
        fn = getattr(a, "tool_context", None)
        if callable(fn):
            return fn(session_id, customer_id)
        from assistant.tools import ToolContext

        # Only the stable fields: the engine's tools read the customer's history themselves.
        personal = customer_id is not None and self.store.personalization_allowed(customer_id)
        return ToolContext(a.shop, self.store, getattr(a, "retriever", None), getattr(a, "recommender", None),
                           session_id, customer_id, personalized=personal)

    def search(self, query: str, k: int = 10) -> list[dict[str, Any]]:
        if self._shop is None:  # an injected engine without a shop index (tests): title match
            q = query.lower().split()
            return [self._shown(p.to_dict()) for p in self.catalog.products
                    if all(w in f"{p.title} {p.brand} {p.category}".lower() for w in q)][:k]
        from assistant.tools import call_tool

        return [self._shown(_as_dict(h))
                for h in call_tool("search_products", self._context(None, None), query=query, k=k).products]

    def recommendations(self, customer_id: str | None, k: int = 10, session_id: str | None = None,
                        query: str = "") -> list[dict[str, Any]]:
        if self._shop is None:
            top = sorted(self.catalog.products, key=lambda p: -(p.rating_count or 0))
            return [self._shown(p.to_dict()) for p in top[:k]]
        from assistant.tools import call_tool

        res = call_tool("recommend", self._context(session_id, customer_id), query=query, k=k)
        return [self._shown(_as_dict(h)) for h in res.products]

    # --- agent ------------------------------------------------------------------------------
    def suggest(self, session_id: str) -> dict[str, Any]:
        """A draft reply, products and policy passages for the agent console."""
        fn = getattr(self.assistant, "suggest_reply", None)
        if callable(fn):
            out = dict(_as_dict(fn(session_id)))
        else:
            from ui.drafts import draft_reply

            out = draft_reply(self, session_id)
        out["text"] = self.guard.clean(str(out.get("text") or ""))
        for key in ("products", "policies"):
            out[key] = [self._shown(_as_dict(x)) for x in out.get(key) or []]
        return out

    def profile(self, customer_id: str | None) -> dict[str, Any]:
        if not customer_id:
            return {"summary": "Anonymous shopper (no profile)."}
        cust = self.store.get_customer(customer_id) or {}
        orders = self.store.orders_for_customer(customer_id)
        parts = [f"{cust.get('name') or customer_id} ({customer_id})", cust.get("segment") or "",
                 f"{len(orders)} orders"]
        if self._shop is not None:
            from assistant.profile import build_profile

            prof = build_profile(self.store, customer_id, self._shop)
            parts += prof.signals(self._shop, limit=4) if prof.personalized else ["opted out of personalization"]
        return {"summary": self.guard.clean("; ".join(p for p in parts if p)), "customer": cust}

    # --- customers: identity and privacy rights (one path for REST and Gradio) -------------------
    def identify(self, **request: Any) -> Identity:
        return self.authority.identify(**request)

    def demo_sign_in(self, customer_id: str, address: str | None, host: str | None) -> str:
        """A customer token for a demo customer: demo mode, a client on this machine, a known id."""
        self.authority.require_demo_sign_in(address, host)
        if self.store.get_customer(customer_id) is None:
            raise NotFoundError(f"no customer {customer_id!r}: pick one from GET /api/customers")
        return self.authority.issue(customer_id)

    def customers(self, who: Identity, address: str | None, host: str | None) -> list[dict[str, Any]]:
        if not who.staff:
            self.authority.require_demo_sign_in(address, host)
        return self.access.customer_list()

    def export(self, who: Identity, customer_id: str) -> dict[str, Any]:
        self.access.require_customer(who, customer_id)
        return self.store.export_customer(customer_id)

    def export_file(self, who: Identity, customer_id: str) -> str:
        """Write the export for a one-time download; returns the name to fetch under /api/exports/."""
        from assistant.exports import write_export

        data = self.export(who, customer_id)
        return write_export(self.settings.ensure_data_dir(), self.authority.tag("export", customer_id), data)

    def take_export(self, name: str) -> bytes | None:
        from assistant.exports import take_export

        return take_export(self.settings.data_dir, name)

    def set_personalization(self, who: Identity, customer_id: str, allowed: bool) -> None:
        self.access.require_customer(who, customer_id)
        self.store.set_personalization(customer_id, allowed)

    def erase(self, who: Identity, customer_id: str) -> None:
        """Delete everything about the customer (assistant.privacy) and revoke her tokens first, so a
        request racing the deletion cannot act for her."""
        from assistant.privacy import forget_customer

        self.access.require_customer(who, customer_id)
        self.authority.revoke(customer_id)
        engine = self._assistant
        holders = tuple(x for x in (getattr(engine, "catalog", None), getattr(engine, "shop", None), self._catalog)
                        if x is not None)
        rec = getattr(engine, "recommender", None) if engine is not None else _saved_recommender(self.settings)
        forget_customer(self.store, customer_id, recommender=rec, data_dir=Path(self.settings.data_dir),
                        catalogs=holders, export_tag=self.authority.tag("export", customer_id))


def _items(result: Any) -> list[Any]:
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], list):
        return result[0]
    for attr in ("items", "products", "cards", "hits"):
        val = getattr(result, attr, None)
        if isinstance(val, list):
            return val
    return list(result or [])


def _as_dict(x: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(x) and not isinstance(x, type):
        return asdict(x)
    if hasattr(x, "to_dict"):
        return x.to_dict()
    return x


def _saved_recommender(settings: Settings) -> Any | None:
    """The fitted recommender on disk, when the engine is not loaded: erasure must rewrite it too."""
    path = Path(settings.data_dir) / "recommender"
    if not path.is_dir():
        return None
    try:
        from assistant.recsys import ShopRecommender

        return ShopRecommender.load(path)
    except Exception as exc:  # unreadable: the deletion still goes on; the refit drops her
        log.warning("could not load the fitted recommender to forget a customer (%s): run `aisle train recsys`", exc)
        return None
