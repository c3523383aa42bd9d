"""The Assistant: one chat turn, orchestrated.

guard -> nlu -> state -> policy -> tools -> (product cards) -> generate -> store.
Every component is injected; ``Assistant.from_settings`` wires the real ones. Per-session
state lives in the store, so one Assistant can serve many sessions (and threads).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from assistant import guard, policy
from assistant.events import Citation, Done, Event, ProductCard, Products, TextDelta, Understood
from assistant.generate.base import BusyError
from assistant.generate.facts import Facts, build_facts
from assistant.generate.runner import Answer, Generator
from assistant.profile import build_profile, save_preferences, stated_preferences
from assistant.shopindex import ShopIndex
from assistant.tools import Comparison, ProductHit, ProductList, ToolContext, call_tool

if TYPE_CHECKING:
    from assistant.settings import Settings

__all__ = ["Assistant", "BusyError"]
log = logging.getLogger(__name__)

# Actions whose answer the generative model writes; the others (clarifying questions, side
# effects such as tickets, greetings) always use the deterministic templates. An order's status
# is a record to state exactly (status, carrier, tracking): the model added ~8 s per turn here and
# its answers fell back to the template whenever they left a field out. A store policy is quoted,
# not paraphrased: the 1.5B model turned "gift cards never expire" into "expire within minutes"
# (held-out eval, 2026-12-02), a wrong claim no figure check can catch.
MODEL_ACTIONS = frozenset({"recommend", "search_products", "compare", "product_qa"})
REBUY = re.compile(r"\b((?:buy|order|get) (?:it |that |this |the same |one )?again|same one|re-?order|replacement)\b", re.I)
SESSION_EVENTS = ("click", "cart", "view", "purchase")  # in-session signals folded into the recommender


class Assistant:
    def __init__(self, settings: Settings, *, shop: ShopIndex, nlu: Any, store: Any, generator: Generator,
                 state_factory: Callable[[], Any], retriever: Any | None = None, recommender: Any | None = None,
                 catalog: Any | None = None) -> None:
        self.settings = settings
        self.catalog = catalog
        self.shop = shop
        self.nlu = nlu
        self.store = store
        self.generator = generator
        self.retriever = retriever
        self.recommender = recommender
        self._new_state = state_factory
        # Fallback for DialogueState objects that cannot be serialized into the store.
        self._states: dict[str, Any] = {}
        self._states_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, catalog: Any | None = None, warm: bool = True) -> Assistant:
        """Wire the real components: catalog, store, NLU, retriever, recommender, chat model."""
        from assistant.generate.base import make_chat_model
        from assistant.generate.grounding import Grounder
        from assistant.nlu import NLU
        from assistant.state import DialogueState
        from assistant.store import Store

        if catalog is None:
            from knowledge.catalog import load_demo_catalog
            from knowledge.snapshot import load_catalog

            try:
                catalog = load_catalog(settings.data_dir)
            except Exception as exc:  # nothing ingested yet: the demo shop ships as package data
                log.warning("no ingested catalog (%s); using the demo shop", exc)
                catalog = load_demo_catalog()
        store = Store.from_settings(settings)
        shop = ShopIndex.from_catalog(catalog, now=settings.shop_now)
        shop.add_popularity(store)
        # One embedding model serves the NLU and the retriever: loaded once, not twice.
        from assistant.components import embedder_from_settings

        embedder = embedder_from_settings(settings)
        retriever = _optional("retriever", lambda: _retriever(settings, catalog, embedder))
        recommender = _optional("recommender", lambda: _recommender(settings, store))
        generator = Generator(make_chat_model(settings), Grounder(list(shop.products.values())),
                              timeout_s=settings.generation_timeout_s, queue_size=settings.generation_queue)
        if warm:
            generator.warm()
        return cls(settings, shop=shop, nlu=NLU.from_settings(settings, list(shop.products.values()), embedder=embedder),
                   store=store,
                   generator=generator, state_factory=DialogueState, retriever=retriever, recommender=recommender,
                   catalog=catalog)

    # --- public API ------------------------------------------------------------------------
    def respond(self, session_id: str, text: str, customer_id: str | None = None) -> Done:
        done: Done | None = None
        for ev in self.stream(session_id, text, customer_id):
            if isinstance(ev, Done):
                done = ev
        assert done is not None
        return done

    def stream(self, session_id: str, text: str, customer_id: str | None = None) -> Iterator[Event]:
        """Understood -> Products (if any) -> TextDelta* -> Done. Raises BusyError when the queue is full."""
        g = guard.check(text, self.settings.max_message_chars)
        self.store.ensure_session(session_id, customer_id)
        sess = self.store.get_session(session_id) or {}
        if sess.get("paused"):
            self.store.add_message(session_id, "user", g.redacted, {"paused": True})
            yield Done("", actions=["paused"], backend="", session_id=session_id)
            return
        customer_id = customer_id or sess.get("customer_id")
        with self.generator.slot():
            yield from self._turn(session_id, g, customer_id)

    def forget_customer(self, customer_id: str) -> bool:
        """Right to be forgotten: database rows, ids/emails inside other rows, recommender state."""
        from assistant.privacy import forget_customer

        return forget_customer(self.store, customer_id, recommender=self.recommender)

    def warm(self) -> None:
        self.generator.warm()

    def prepare(self, text: str) -> None:
        """Do ahead of a turn what does not depend on the session: the message's embeddings. A server
        calls it for every arriving message before admitting the turn, so the messages of concurrent
        shoppers share forward passes (knowledge.embed.MicroBatcher). Never raises: the turn reports."""
        prep = getattr(self.nlu, "prepare", None)
        if prep is None:
            return
        try:
            prep(guard.check(text, self.settings.max_message_chars).text)
        except Exception as exc:  # a bad message or a dead embedder: the turn itself says what is wrong
            log.debug("prepare skipped: %s", exc)

    # --- one turn --------------------------------------------------------------------------
    def _turn(self, session_id: str, g: guard.Guarded, customer_id: str | None) -> Iterator[Event]:
        saved = self.store.load_state(session_id)
        state = self._load_state(session_id, saved.get("dialogue"))
        memory: dict[str, Any] = dict(saved.get("engine") or {})
        u = self.nlu.understand(g.text, state)
        state.update(u)
        decision = policy.decide(u, state, memory)
        ents = u.entities.to_dict() if hasattr(u.entities, "to_dict") else asdict(u.entities)
        ents.pop("spans", None)
        self.store.add_message(session_id, "user", g.redacted, {
            "intents": u.intents, "sentiment": u.sentiment, "action": decision.action, "flags": g.flags, "pii": g.pii})
        yield Understood(policy.resolved_intents(u, decision), float(u.confidence), ents, u.sentiment, decision.action)

        opted_out = customer_id is not None and not self.store.personalization_allowed(customer_id)
        profile = build_profile(self.store, customer_id, self.shop)
        ctx = ToolContext(self.shop, self.store, self.retriever, self.recommender, session_id, customer_id,
                          session_items=[] if opted_out else self._session_items(session_id),
                          personalized=not opted_out)
        if decision.action == "recommend":
            self._hard_constraints(decision.args, g.text, memory, profile)
        result = call_tool(decision.action, ctx, **decision.args) if decision.uses_tool else None
        # Only history that bears on what is discussed goes into the prompt ("bought the X in March").
        cats = {self.shop.products[i].top_category for i in getattr(result, "ids", []) if i in self.shop.products}
        if decision.action not in ("recommend", "search_products"):
            # A comparison or product answer is about the products on screen; history in the prompt
            # made the 1.5B model describe the shopper's old purchases as the compared products.
            cats = set()
        signals = profile.signals(self.shop, cats) if cats else []
        owned = {pid for pid, _ in profile.relevant_purchases(self.shop, cats)} if cats else set()
        facts = build_facts(decision.action, g.text, result, self.shop, signals=signals, clarify=decision.clarify,
                            context_ids=owned)
        # Two requests in one message ("where is my order ... and show me pans"): serve the second too.
        second = policy.secondary(u, state, memory, decision) if decision.uses_tool else None
        result2 = None
        if second is not None:
            if second.action == "recommend":
                self._hard_constraints(second.args, g.text, memory, profile)
            result2 = call_tool(second.action, ctx, **second.args)
        cards = _cards(result) + _cards(result2)
        if cards:
            self._remember_shown(state, [{"id": c.product_id, "brand": c.brand, "price": c.price} for c in cards])
            for rank, c in enumerate(cards):
                self.store.add_event("impression", session_id=session_id, customer_id=customer_id,
                                     product_id=c.product_id, payload={"rank": rank, "action": decision.action})
            yield Products(cards)

        answer: Answer | None = None
        use_model = decision.action in MODEL_ACTIONS and _worth_generating(result)
        for item in self.generator.stream(facts, use_model=use_model):
            if isinstance(item, Answer):
                answer = item
            else:
                yield TextDelta(item)
        assert answer is not None
        if not answer.streamed:
            yield TextDelta(answer.text)
        follow_up = self._follow_up(decision, cards, memory)
        if follow_up and not answer.text.rstrip().endswith("?"):
            # One question after the products: what would narrow a vague or rejected list down.
            yield TextDelta("\n\n" + follow_up)
            answer = replace(answer, text=answer.text + "\n\n" + follow_up)
        actions = [decision.action] + (["fallback:" + answer.fallback] if answer.fallback else [])
        citations = _citations(facts, answer)
        if second is not None:
            facts2 = build_facts(second.action, g.text, result2, self.shop)
            extra = next((a for a in self.generator.stream(facts2, use_model=False) if isinstance(a, Answer)), None)
            if extra is not None and extra.text:
                yield TextDelta("\n\n" + extra.text)
                answer = replace(answer, text=answer.text + "\n\n" + extra.text)
                citations += [c for c in _citations(facts2, extra) if c.id not in {x.id for x in citations}]
                actions.append(second.action)
        mid = self.store.add_message(session_id, "assistant", answer.text, {
            "actions": actions, "backend": answer.backend, "grounded": answer.grounded,
            "citations": [c.id for c in citations], "cards": [c.product_id for c in cards]})
        policy.update_memory(memory, u, decision)
        self._save_state(session_id, state, memory)
        save_preferences(self.store, profile, stated_preferences(u.entities, u.sentiment))
        yield Done(answer.text, citations, actions, answer.backend, answer.grounded, session_id, mid)

    def _follow_up(self, decision: Any, cards: list[ProductCard], memory: dict[str, Any]) -> str | None:
        """The policy's question after a rejected list; or, when the list spans several kinds of
        product ("something for my desk" -> lamps and chairs), which kind the shopper is after."""
        if decision.action == "recommend" and cards:
            kinds = {self.shop.products[c.product_id].category for c in cards if c.product_id in self.shop.products}
            if len(kinds) > 1 and (decision.follow_up is not None or not memory.get("asked_kind")):
                memory["asked_kind"] = True  # unprompted only once: asking again reads as not listening
                return policy.KIND_QUESTION
        return decision.follow_up

    def _hard_constraints(self, args: dict[str, Any], text: str, memory: dict[str, Any], profile: Any) -> None:
        """Attributes stated in the catalog's words become filters that hold for the topic's later
        turns ("espresso", then "under $150"); products the shopper already bought are not offered again."""
        if not args.get("category") and (named := self.shop.infer_category(text)):
            args["category"] = named  # "she loves yoga" names Yoga Mats
        cat = args.get("category")
        kept = memory.get("attrs") if memory.get("attrs_cat") == cat else None
        inferred = {**(kept or {}), **self.shop.infer_attributes(text, cat)} if cat else {}
        memory["attrs"], memory["attrs_cat"] = inferred, cat
        if inferred:
            args["attributes"] = {**{k: v for k, v in (args.get("attributes") or {}).items() if k not in inferred},
                                  **inferred}
        owned = [pid for pid, _ in getattr(profile, "purchases", [])]
        if getattr(profile, "personalized", False) and profile.customer_id:  # orders count as purchases too
            owned += [str(i.get("product_id")) for o in self.store.orders_for_customer(profile.customer_id)
                      if o.get("status") != "cancelled" for i in (o.get("items") or []) if i.get("product_id")]
        if owned and not REBUY.search(text):
            args["exclude_ids"] = sorted(set(args.get("exclude_ids") or []) | set(owned))

    # --- state -----------------------------------------------------------------------------
    def _load_state(self, session_id: str, data: dict[str, Any] | None) -> Any:
        if data is not None and hasattr(self._new_state, "from_dict"):
            try:
                return self._new_state.from_dict(data)  # type: ignore[attr-defined]
            except (TypeError, KeyError, ValueError):  # saved by an older version: start the topic afresh
                log.warning("session %s: unreadable dialogue state, starting fresh", session_id)
        with self._states_lock:
            return self._states.get(session_id) or self._new_state()

    def _save_state(self, session_id: str, state: Any, memory: dict[str, Any]) -> None:
        blob: dict[str, Any] = {"engine": memory}
        if hasattr(state, "to_dict"):
            blob["dialogue"] = state.to_dict()
        else:
            with self._states_lock:
                self._states[session_id] = state
        self.store.save_state(session_id, blob)

    @staticmethod
    def _remember_shown(state: Any, items: list[dict[str, Any]]) -> None:
        if hasattr(state, "set_shown"):
            state.set_shown(items)
        else:
            state.shown = [it["id"] for it in items]

    def _session_items(self, session_id: str) -> list[str]:
        evs = self.store.events(session_id=session_id, kinds=list(SESSION_EVENTS))
        return [e["product_id"] for e in evs if e.get("product_id")]


def _cards(result: Any) -> list[ProductCard]:
    hits: list[ProductHit] = []
    if isinstance(result, ProductList | Comparison):
        hits = list(result.products)
    return [ProductCard(h.product_id, h.title, h.price, h.currency, h.rating, h.reason, h.brand, h.category, h.in_stock)
            for h in hits]


def _worth_generating(result: Any) -> bool:
    """A model adds nothing to 'no results' or 'tell me your email': the template says it exactly."""
    if isinstance(result, ProductList):
        return bool(result.products)
    if isinstance(result, Comparison):
        return len(result.products) >= 2
    found = getattr(result, "found", None)
    if found is not None:
        return bool(found)
    prod = getattr(result, "product", 1)
    if prod is None:
        return False
    snips = getattr(result, "snippets", None)
    return snips is None or bool(snips)


def _citations(facts: Facts, answer: Answer) -> list[Citation]:
    snip = {s.id: s for s in facts.snippets}
    out: list[Citation] = []
    for cid in answer.citations:
        if cid in snip:
            out.append(Citation(snip[cid].kind, cid, snip[cid].text[:160]))
    for p in facts.products:
        out.append(Citation("product", p.product_id, p.title))
    if facts.order is not None and facts.order.found and facts.order.order_id:
        out.append(Citation("order", facts.order.order_id, facts.order.status))
    return out


def _optional(what: str, build: Callable[[], Any]) -> Any | None:
    try:
        return build()
    except Exception as exc:  # a missing index or model degrades one feature, not the assistant
        log.warning("%s unavailable (%s); continuing without it", what, exc)
        return None


def _retriever(settings: Settings, catalog: Any, embedder: Any) -> Any:
    from assistant.components import retriever_from_settings

    return retriever_from_settings(settings, catalog, embedder=embedder)


def _recommender(settings: Settings, store: Any) -> Any:
    from assistant.recsys import ShopRecommender

    return ShopRecommender.load(settings.data_dir / "recommender")

