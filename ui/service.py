"""The one seam between the web layer and the engine.

Both the FastAPI routes and the Gradio app talk to a ``Backend``; it owns no business logic. It
reaches the engine only through ``assistant.api.Engine`` (built lazily by the composition root, so
the server starts fast; tests inject a fake), and owns what is per app: the chat admission path,
the render guard, identity and access checks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from assistant.errors import NotFoundError

if TYPE_CHECKING:
    from assistant.api import Engine
    from assistant.events import Event
    from assistant.identity import Identity
    from assistant.settings import Settings
    from assistant.store import Store

log = logging.getLogger("aisle.ui")


class Backend:
    def __init__(
        self, settings: Settings, assistant: Engine | None = None, store: Store | None = None
    ) -> None:
        self.settings = settings
        self._assistant = assistant
        self._store = store
        self._texts: Any | None = None  # assistant.shoptexts.ShopTexts, built on first page load
        self._lock = threading.Lock()
        self._store_lock = threading.Lock()  # separate: building the engine holds _lock for seconds
        self._warming = False
        self.start_error: str | None = None  # why the engine failed to build at start-up, for /api/health
        from assistant.access import Access
        from assistant.experiments import ExperimentBook
        from assistant.identity import Authority
        from assistant.outguard import RenderGuard
        from assistant.ratelimit import ApiLimits, ChatLimits
        from ui.admission import Admission

        # One admission path per app for POST /api/chat (and the widget) and the web chat alike:
        # one quota (switching channel buys no turns), one length limit, one turn gate.
        self.limits = ChatLimits.from_settings(settings, lambda: self.store)
        self.admission = Admission(
            settings.max_message_chars, self.limits, settings.engine_concurrency, self.prepare, self.stream
        )
        self.api_limits = ApiLimits.from_settings(settings, lambda: self.store)
        self.guard = RenderGuard(settings.shop_hosts)
        # Identity and object-level checks, shared by the REST routes and the Gradio handlers.
        self.authority = Authority.from_settings(settings, lambda: self.store)
        # Clicks, cart adds and purchases carry the experiment arm their shopper is served (sticky by
        # customer, or by session when anonymous), as the engine's impressions do.
        self.experiments = ExperimentBook.from_settings(settings)
        self.access = Access(lambda: self.store, self.guard, self.experiments.variant)
        from ui.insight_panels import InsightCache

        self.insight = InsightCache()  # segments and churn risk, refitted at most every few minutes

    # --- lazily built parts -----------------------------------------------------------------
    @property
    def assistant(self) -> Engine:
        if self._assistant is None:
            with self._lock:
                if self._assistant is None:
                    from assistant.wiring import build_assistant

                    self._assistant = build_assistant(self.settings, warm=False)  # warm(): server start
        return self._assistant

    @property
    def store(self) -> Store:
        if self._store is None:
            with self._store_lock:
                if self._store is None:
                    # Share the engine's store once it exists; before that (page render, privacy routes)
                    # open our own on the same database rather than building the whole engine.
                    if self._assistant is not None:
                        self._store = self._assistant.store
                    else:
                        from assistant.store import Store

                        self._store = Store.from_settings(self.settings)
        return self._store

    def shop_texts(self) -> Any:
        """Example requests from the shop's own categories and prices (assistant.shoptexts), once."""
        if self._texts is None:
            from assistant.shoptexts import texts_for

            self._texts = texts_for(self.settings.data_dir)
        return self._texts

    @property
    def ready(self) -> bool:
        return self._assistant is not None and not self._warming

    def warm(self) -> None:
        """Build the engine now (server start) instead of on the first shopper's message."""
        self._warming = True
        try:
            self.assistant.warm()  # the models load now, not during the first shopper's turn
            _ = self.store
        finally:
            self._warming = False

    # --- chat (callers go through self.admission) --------------------------------------------
    def prepare(self, text: str) -> None:
        """Session-independent work for a message about to queue for a turn (its embeddings)."""
        self.assistant.prepare(text)

    def stream(
        self, session_id: str, text: str, customer_id: str | None = None, client_id: str | None = None
    ) -> Iterator[Event]:
        """The engine's turn with every shown text through the render guard. ``client_id`` tells the
        engine which browser or API client this is (order facts are not reused across clients)."""
        from assistant.outguard import guard_events

        # The engine itself keeps a paused (taken-over) conversation silent.
        return guard_events(
            self.assistant.stream(session_id, text, customer_id=customer_id, client_id=client_id), self.guard
        )

    def open_session(self, who: Identity, session_id: str | None, *, create: bool = False) -> str:
        """A conversation ``who`` may chat in: a new server-issued one when ``session_id`` is None."""
        if session_id is None:
            return self.access.start_session(who)
        return str(self.access.session(who, session_id, create=create)["id"])

    def messages(self, who: Identity, session_id: str, after_id: int = 0) -> list[dict[str, Any]]:
        return self.access.transcript(who, session_id, after_id=after_id)

    # --- catalog (through the engine) ---------------------------------------------------------
    def product(self, product_id: str) -> dict[str, Any]:
        p = self.assistant.product(product_id)
        if p is None:
            raise NotFoundError(f"no product {product_id!r}: use an id from /api/search")
        return self._shown(p.to_dict())

    def _shown(self, record: dict[str, Any]) -> dict[str, Any]:
        from assistant.outguard import guard_record

        return dict(guard_record(record, self.guard))

    def product_title(self, product_id: str) -> str | None:
        try:
            return str(self.product(product_id)["title"])
        except NotFoundError:
            return None

    def search(self, query: str, k: int = 10) -> list[dict[str, Any]]:
        return [self._shown(asdict(h)) for h in self.assistant.search(query, k)]

    def recommendations(
        self, customer_id: str | None, k: int = 10, session_id: str | None = None
    ) -> list[dict[str, Any]]:
        return [self._shown(asdict(h)) for h in self.assistant.recommend(customer_id, session_id, k=k)]

    # --- agent ------------------------------------------------------------------------------
    def suggest(self, session_id: str) -> dict[str, Any]:
        """A draft reply, products and policy passages for the agent console."""
        draft = self.assistant.draft_reply(session_id)
        return {
            "text": self.guard.clean(draft.text),
            "products": [self._shown(asdict(c)) for c in draft.products],
            "policies": [self._shown(asdict(s)) for s in draft.policies],
        }

    def profile(self, customer_id: str | None) -> dict[str, Any]:
        if not customer_id:
            return {"summary": "Anonymous shopper (no profile)."}
        cust = self.store.get_customer(customer_id) or {}
        orders = self.store.orders_for_customer(customer_id)
        signals = self.assistant.customer_signals(customer_id)
        parts = [
            f"{cust.get('name') or customer_id} ({customer_id})",
            cust.get("segment") or "",
            f"{len(orders)} orders",
            *(signals if signals is not None else ["opted out of personalization"]),
        ]
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
        """Delete everything about the customer (the engine's erasure, then her exports) and revoke her
        tokens first, so a request racing the deletion cannot act for her."""
        from assistant.exports import remove_exports

        self.access.require_customer(who, customer_id)
        self.authority.revoke(customer_id)
        self.assistant.erase_customer(customer_id)
        remove_exports(self.settings.data_dir, self.authority.tag("export", customer_id), customer_id)
