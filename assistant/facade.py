"""The engine's services beyond a chat turn (search, recommendations, agent drafts, erasure, ...), as a
mixin of ``assistant.engine.Assistant``; the UI reaches them through ``assistant.api.Engine`` only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.api import DRAFT_PREFIX, Draft
from assistant.events import Done, ProductCard, Products
from assistant.tools import ToolContext, recommend, search_products

if TYPE_CHECKING:
    from assistant.events import Event
    from assistant.settings import Settings
    from assistant.shopindex import ShopIndex
    from assistant.tool_results import ProductHit
    from knowledge.records import Product

# Read-only actions: replaying them for a draft opens no ticket and changes no order.
REPLAYABLE = frozenset({"recommend", "search_products", "compare", "product_qa", "policy_qa", "order_status"})
DRAFT_POLICIES = 3  # policy passages offered beside a draft
DRAFT_FALLBACK_CARDS = 3  # products shown earlier, offered when the draft itself shows none


class EngineServices:
    """Search, recommendations, product lookup, customer signals, agent drafts and erasure over the
    engine's own parts (shop index, store, retriever, recommender)."""

    if TYPE_CHECKING:  # provided by Assistant
        settings: Settings
        shop: ShopIndex
        store: Any  # assistant.store.Store
        retriever: Any | None  # knowledge.retrieve.Retriever
        recommender: Any | None  # assistant.recsys.ShopRecommender
        catalog: Any | None  # knowledge.catalog.Catalog

        @property
        def shop_currency(self) -> str: ...

        def stream(
            self, session_id: str, text: str, customer_id: str | None = None, client_id: str | None = None
        ) -> Iterator[Event]: ...

        def _tool_context(self, session_id: str, customer_id: str | None) -> ToolContext: ...

    # --- catalog ----------------------------------------------------------------------------
    def search(self, query: str, k: int = 10) -> list[ProductHit]:
        return list(search_products(self._context(None, None), query, k=k).products)

    def recommend(
        self, customer_id: str | None = None, session_id: str | None = None, query: str = "", k: int = 10
    ) -> list[ProductHit]:
        return list(recommend(self._context(session_id, customer_id), query=query, k=k).products)

    def product(self, product_id: str) -> Product | None:
        return self.shop.products.get(product_id)

    def _context(self, session_id: str | None, customer_id: str | None) -> ToolContext:
        if session_id is not None:  # the turn's own context: her history, owned items, session clicks
            return self._tool_context(session_id, customer_id)
        # No conversation: no session clicks to read (the store would return every session's).
        personal = customer_id is not None and bool(self.store.personalization_allowed(customer_id))
        return ToolContext(
            self.shop,
            self.store,
            self.retriever,
            self.recommender,
            None,
            customer_id,
            personalized=personal,
            currency=self.shop_currency,
        )

    # --- customers --------------------------------------------------------------------------
    def customer_signals(self, customer_id: str) -> list[str] | None:
        from assistant.profile import build_profile

        profile = build_profile(self.store, customer_id, self.shop)
        return profile.signals(self.shop, limit=4) if profile.personalized else None

    def erase_customer(self, customer_id: str) -> bool:
        from assistant.privacy import forget_customer

        # Her reviews live in the catalog snapshot on disk and in both in-memory catalogs.
        holders = tuple(x for x in (self.catalog, self.shop) if x is not None)
        return forget_customer(
            self.store,
            customer_id,
            recommender=self.recommender,
            data_dir=Path(self.settings.data_dir),
            catalogs=holders,
        )

    # --- agent drafts -----------------------------------------------------------------------
    def draft_reply(self, session_id: str) -> Draft:
        """The engine's own answer to the shopper's last read-only question, replayed in a scratch
        conversation that starts from this one's state (so "the first one" means what she saw)."""
        msgs: list[dict[str, Any]] = self.store.messages(session_id)
        customer_id = (self.store.get_session(session_id) or {}).get("customer_id")
        users = [m for m in msgs if m["role"] == "user"]
        ask = next((m for m in reversed(users) if (m.get("meta") or {}).get("action") in REPLAYABLE), None)
        text, cards = self._replay(session_id, str(ask["text"]), customer_id) if ask else ("", [])
        if not cards:
            cards = self._shown_earlier(msgs)
        name = (
            ((self.store.get_customer(customer_id) or {}).get("name") or "").split(" ")[0]
            if customer_id
            else ""
        )
        opener = f"Hi{' ' + name if name else ''}, this is the support team. I have read our conversation"
        text = f"{opener}. {text}" if text else f"{opener} and I'm looking into it now."
        question = str(users[-1]["text"]) if users else ""
        policies = self.shop.policy_snippets(question, DRAFT_POLICIES, self.retriever) if question else []
        return Draft(text, cards, list(policies))

    def _replay(
        self, session_id: str, question: str, customer_id: str | None
    ) -> tuple[str, list[ProductCard]]:
        scratch = DRAFT_PREFIX + hashlib.sha1(session_id.encode()).hexdigest()[:16]
        self.store.ensure_session(scratch, customer_id)
        self.store.save_state(scratch, self.store.load_state(session_id))
        text, cards = "", []
        for ev in self.stream(scratch, question, customer_id):
            if isinstance(ev, Products):
                cards = list(ev.cards)
            elif isinstance(ev, Done):
                text = ev.text
        return text, cards

    def _shown_earlier(self, msgs: list[dict[str, Any]]) -> list[ProductCard]:
        shown = (
            next(
                (
                    (m.get("meta") or {}).get("cards")
                    for m in reversed(msgs)
                    if m["role"] == "assistant" and (m.get("meta") or {}).get("cards")
                ),
                None,
            )
            or []
        )
        found = [self.shop.products.get(str(pid)) for pid in shown[:DRAFT_FALLBACK_CARDS]]
        return [
            ProductCard(
                p.id,
                p.title,
                p.price,
                p.currency,
                p.rating,
                "shown to the customer earlier",
                p.brand,
                p.category,
                None,
            )
            for p in found
            if p is not None
        ]
