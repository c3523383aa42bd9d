"""A small fake engine implementing ``assistant.api.Engine``, for fast UI tests.

It persists through the real Store like the engine does, so the API's transcript, agent and
privacy routes are exercised for real; understanding and generation are canned, and search and
recommendations are a title match and a popularity list over a catalog (the demo shop's unless a
test sets ``catalog``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from assistant.api import BusyError, Draft
from assistant.events import Done, ProductCard, Products, TextDelta, Understood
from assistant.store import Store
from assistant.tool_results import ProductHit

CARDS = [
    ProductCard(
        "P-HP1", "Quiet Wireless Headphones <b>X1</b>", 79.0, "USD", 4.4, "wireless and under $100", "Sonix"
    ),
    ProductCard("P-HP2", "Budget Bluetooth Headset", 39.5, "USD", None, "cheapest wireless option", "Acme"),
]


class FakeAssistant:
    def __init__(self, store: Store, delay_s: float = 0.0, busy: bool = False) -> None:
        self.store = store
        self.delay_s = delay_s
        self.busy = busy  # every turn raises the engine's BusyError (a full generation queue)
        self.turns: list[tuple[str, str | None, str | None]] = []  # (session, customer, client) per turn
        self.reply_extra = ""  # appended to every answer (untrusted text, for the render guard)
        self.catalog: Any = None  # knowledge.catalog.Catalog; the demo shop's when left None

    def stream(
        self, session_id: str, text: str, customer_id: str | None = None, client_id: str | None = None
    ) -> Iterator[Any]:
        self.turns.append((session_id, customer_id, client_id))
        if self.busy:
            raise BusyError("generation queue full")
        self.store.ensure_session(session_id, customer_id)
        if (self.store.get_session(session_id) or {}).get("paused"):  # as the engine: an agent took over
            self.store.add_message(session_id, "user", text, {"paused": True})
            yield Done("", actions=["paused"], session_id=session_id)
            return
        self.store.add_message(
            session_id, "user", text, meta={"intents": ["recommend"], "sentiment": "neutral"}
        )
        handoff = "human" in text.lower()
        yield Understood(
            intents=["human_agent" if handoff else "recommend"],
            confidence=0.9,
            entities={},
            sentiment="neutral",
            action="handoff" if handoff else "recommend",
        )
        if handoff:
            self.store.open_ticket(
                "handoff",
                f"shopper asked for a human: {text}",
                session_id=session_id,
                customer_id=customer_id,
            )
            reply = "I have asked a colleague to join; they will answer here."
        else:
            yield Products(cards=list(CARDS))
            reply = f"Here are two picks for '{text}'. The first is quiet and under $100.{self.reply_extra}"
        for word in reply.split(" "):
            if self.delay_s:
                time.sleep(self.delay_s)
            yield TextDelta(word + " ")
        mid = self.store.add_message(session_id, "assistant", reply, meta={"actions": ["recommend"]})
        yield Done(
            text=reply,
            actions=["handoff" if handoff else "recommend"],
            backend="fake",
            session_id=session_id,
            message_id=mid,
        )

    def prepare(self, text: str) -> None:
        pass

    def warm(self) -> None:
        pass

    def _products(self) -> list[Any]:
        if self.catalog is None:
            from knowledge.catalog import load_demo_catalog

            self.catalog = load_demo_catalog()
        return list(self.catalog.products)

    def search(self, query: str, k: int = 10) -> list[ProductHit]:
        words = query.lower().split()
        return [
            _hit(p)
            for p in self._products()
            if all(w in f"{p.title} {p.brand} {p.category}".lower() for w in words)
        ][:k]

    def recommend(
        self, customer_id: str | None = None, session_id: str | None = None, query: str = "", k: int = 10
    ) -> list[ProductHit]:
        return [_hit(p) for p in sorted(self._products(), key=lambda p: -(p.rating_count or 0))[:k]]

    def product(self, product_id: str) -> Any:
        return next((p for p in self._products() if p.id == product_id), None)

    def customer_signals(self, customer_id: str) -> list[str] | None:
        return [] if self.store.personalization_allowed(customer_id) else None

    def draft_reply(self, session_id: str) -> Draft:
        return Draft("Hi, this is the support team. I have read our conversation.", list(CARDS))

    def erase_customer(self, customer_id: str) -> bool:
        from assistant.privacy import forget_customer

        return forget_customer(self.store, customer_id)


def _hit(p: Any) -> ProductHit:
    return ProductHit(p.id, p.title, p.brand, p.price, p.currency, p.rating, p.rating_count, None, p.category)


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    """Split a text/event-stream body into (event name, JSON data) pairs."""
    out = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_fake_is_an_engine(tmp_path: Any) -> None:
    from assistant.api import Engine

    assert isinstance(FakeAssistant(Store(f"sqlite:///{tmp_path / 'a.db'}")), Engine)


def test_fake_follows_the_event_order(tmp_path: Any) -> None:
    fake = FakeAssistant(Store(f"sqlite:///{tmp_path / 'a.db'}"))
    kinds = [e.type for e in fake.stream("s1", "headphones")]
    assert kinds[0] == "understood" and kinds[1] == "products" and kinds[-1] == "done"
    assert set(kinds[2:-1]) == {"text"}


def make_app() -> Any:
    """uvicorn factory for a server on the fake engine (``--factory test_ui_fakes:make_app``)."""
    from assistant.settings import load_settings
    from ui.api import create_app

    settings = load_settings()
    store = Store.from_settings(settings)
    store.upsert_customer("C0001", name="Ada Shopper", email="ada@example.com")
    return create_app(settings, FakeAssistant(store, delay_s=0.01), store=store)


# --- API helpers shared by the UI, reliability and security tests -------------------------------
LOOPBACK = ("127.0.0.1", 50000)


def local_client(app: Any) -> Any:
    """A TestClient that looks like a browser on this machine (demo sign-in answers only those)."""
    from fastapi.testclient import TestClient

    return TestClient(app, client=LOOPBACK, base_url="http://127.0.0.1:7860")


def start(client: Any, headers: dict[str, str] | None = None) -> str:
    """A server-issued conversation id (POST /api/sessions)."""
    r = client.post("/api/sessions", headers=headers or {})
    assert r.status_code == 200, r.text
    return str(r.json()["session_id"])


def sign_in(client: Any, customer_id: str) -> dict[str, str]:
    """Demo sign-in (demo mode, loopback client): the Authorization header for the customer."""
    r = client.post(f"/api/customers/{customer_id}/login")
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}
