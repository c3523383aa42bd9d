"""The Assistant: one chat turn, orchestrated.

guard -> read (commands + sentiment) -> state -> policy (decisions) -> tools -> product cards ->
generate -> store. Every component is injected; ``assistant.wiring.build_assistant`` wires the real
ones. Per-session state lives in the store, so one Assistant serves many sessions, threads and
processes. The engine executes the policy's decisions as they are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant import execute, guard, policy
from assistant.arms import ArmViews
from assistant.decision import Decision
from assistant.events import Citation, Done, Event, ProductCard, Products, TextDelta, Understood
from assistant.experiments import Assignment
from assistant.facade import EngineServices
from assistant.generate.base import BusyError
from assistant.generate.facts import Facts, build_facts
from assistant.generate.runner import Answer
from assistant.generate.runner import Generator as AnswerGenerator
from assistant.nlu.commands import Complaint
from assistant.nlu.read import Context
from assistant.nlu.reader import Reader, Reading
from assistant.nlu.report import entities, intents
from assistant.profile import build_profile, save_preferences, stated_preferences
from assistant.shopindex import ShopIndex
from assistant.state import DialogueState
from assistant.tools import ToolContext

if TYPE_CHECKING:
    from assistant.settings import Settings

__all__ = ["Assistant", "BusyError"]
log = logging.getLogger(__name__)

# Actions whose answer the generative model writes; the others (clarifying questions, side effects
# such as tickets, greetings) use the deterministic templates. An order's status is a record to state
# exactly, and a store policy is quoted, not paraphrased: the 1.5B model turned "gift cards never
# expire" into "expire within minutes" (held-out eval, 2026-12-02), which no figure check catches.
MODEL_ACTIONS = frozenset({"recommend", "search_products", "compare", "product_qa", "rank"})
SESSION_EVENTS = ("click", "cart", "view", "purchase")
ORDER_ACTIONS = frozenset(
    {"order_status", "cancel_order", "return_or_refund"}
)  # in-session signals folded into the recommender


class Assistant(EngineServices):
    def __init__(
        self,
        settings: Settings,
        *,
        shop: ShopIndex,
        reader: Reader,
        store: Any,
        generator: AnswerGenerator,
        retriever: Any | None = None,
        recommender: Any | None = None,
        catalog: Any | None = None,
        suggest: Callable[[str, int], list[str]] | None = None,
        experiments: Any | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.shop = shop
        self.reader = reader
        self.store = store
        self.generator = generator
        self.retriever = retriever
        self.recommender = recommender
        self.suggest = suggest
        # assistant.experiments.ExperimentBook: which arm (recommender blend, re-ranking, reply style)
        # each shopper is served; None serves the fitted recommender as it is.
        self.experiments = experiments
        self._arm_views = ArmViews()

    # --- public API ------------------------------------------------------------------------
    def respond(
        self, session_id: str, text: str, customer_id: str | None = None, client_id: str | None = None
    ) -> Done:
        done: Done | None = None
        for ev in self.stream(session_id, text, customer_id, client_id=client_id):
            if isinstance(ev, Done):
                done = ev
        assert done is not None
        return done

    def stream(
        self, session_id: str, text: str, customer_id: str | None = None, client_id: str | None = None
    ) -> Iterator[Event]:
        """Understood -> Products (if any) -> TextDelta* -> Done. Raises BusyError when the queue is full.

        ``client_id`` names the client (browser, API caller) the turn came from: order facts a session
        remembers are only reused for the same client within a timeout."""
        g = guard.check(text, self.settings.max_message_chars)
        self.store.ensure_session(session_id, customer_id)
        sess = self.store.get_session(session_id) or {}
        if sess.get("paused"):
            self.store.add_message(session_id, "user", g.redacted, {"paused": True})
            yield Done("", actions=["paused"], backend="", session_id=session_id)
            return
        customer_id = customer_id or sess.get("customer_id")
        with self.generator.slot():
            yield from self._turn(session_id, g, customer_id, client_id)

    def forget_customer(self, customer_id: str) -> bool:
        """Right to be forgotten: database rows, ids/emails inside other rows, recommender state."""
        from assistant.privacy import forget_customer

        return forget_customer(self.store, customer_id, recommender=self.recommender)

    def warm(self) -> None:
        self.generator.warm()
        self.reader.read("hello")

    def prepare(self, text: str) -> None:
        """Work ahead of a turn that does not depend on the session (a server calls it before admitting
        the turn). Never raises: the turn itself reports what is wrong."""
        try:
            self.reader.read(guard.check(text, self.settings.max_message_chars).text)
        except Exception as exc:  # a bad message or a dead model: the turn says what is wrong
            log.debug("prepare skipped: %s", exc)

    # --- one turn --------------------------------------------------------------------------
    def _turn(
        self, session_id: str, g: guard.Guarded, customer_id: str | None, client_id: str | None
    ) -> Iterator[Event]:
        state = self._load_state(session_id)
        reading = self.reader.read(g.text, self._parser_context(state))
        state.note_turn(reading.sentiment_score, any(isinstance(c, Complaint) for c in reading.commands))
        world = execute.ShopWorld(self.shop, time.time(), client_id, self.suggest, self.retriever)
        decisions = policy.decide(reading.commands, state, world)
        understood = Understood(
            intents(reading.commands, [d.served_intent for d in decisions]),
            float(reading.confidence),
            entities(reading.commands),
            reading.sentiment,
            decisions[0].action,
        )
        self._log_user(session_id, g, reading, understood)
        yield understood
        ctx = self._tool_context(session_id, customer_id)
        results = [execute.run(d, ctx) for d in decisions]
        cards = [c for r in results for c in execute.cards(r)]
        if cards:
            self._impressions(session_id, customer_id, cards, decisions[0].action, ctx.variant)
            yield Products(cards)
        answer, citations = yield from self._answers(decisions, results, reading, ctx)
        for d, r in zip(decisions, results, strict=True):
            execute.apply(state, d, r, self.shop)
        actions = self._actions(decisions, answer)
        mid = self._log_answer(session_id, answer, actions, citations, cards)
        self.store.save_state(session_id, {"dialogue": state.to_dict()})
        self._remember_preferences(customer_id, reading, ctx)
        yield Done(answer.text, citations, actions, answer.backend, answer.grounded, session_id, mid)

    def _parser_context(self, state: DialogueState) -> Context:
        """What the parser is told about the conversation: the topic, a list on screen, a pending
        question, an order or a policy being discussed."""
        return Context(
            state.topic.categories,
            self.shop_currency,
            listed=bool(state.shown),
            asked=state.pending is not None,
            order=state.order.order_id is not None and state.last_action in ORDER_ACTIONS,
            # a policy answer or a privacy one (its policy quoted): "how long does that take?" follows it
            policy=state.last_topic is not None and state.last_action not in ORDER_ACTIONS,
        )

    def _log_user(self, session_id: str, g: guard.Guarded, reading: Reading, understood: Understood) -> None:
        meta = {
            "intents": understood.intents,
            "sentiment": reading.sentiment,
            "sentiment_score": float(reading.sentiment_score),  # the trajectory the console watches
            "path": reading.path,
            "action": understood.action,
            "flags": g.flags,
            "pii": g.pii,
        }
        self.store.add_message(session_id, "user", g.redacted, meta)

    def _log_answer(
        self,
        session_id: str,
        answer: Answer,
        actions: list[str],
        citations: list[Citation],
        cards: list[ProductCard],
    ) -> int:
        meta = {
            "actions": actions,
            "backend": answer.backend,
            "grounded": answer.grounded,
            "citations": [c.id for c in citations],
            "cards": [c.product_id for c in cards],
        }
        return int(self.store.add_message(session_id, "assistant", answer.text, meta))

    def _answers(
        self, decisions: list[Decision], results: list[Any], reading: Reading, ctx: ToolContext
    ) -> Generator[Event, None, tuple[Answer, list[Citation]]]:
        """The primary answer (the model's where it writes that action), then the second request's
        (template), then the notes and the follow-up question; returns (answer, citations)."""
        first = self._facts(decisions[0], results[0], reading.text, ctx)
        answer: Answer | None = None
        use_model = decisions[0].action in MODEL_ACTIONS and _worth_generating(results[0])
        for item in self.generator.stream(first, use_model=use_model):
            if isinstance(item, Answer):
                answer = item
            else:
                yield TextDelta(item)
        assert answer is not None
        if not answer.streamed:
            yield TextDelta(answer.text)
        citations = _citations(first, answer)
        for d, r in zip(decisions[1:], results[1:], strict=True):
            extra = self.generator.template.render(self._facts(d, r, reading.text, ctx))
            yield TextDelta("\n\n" + extra)
            answer = replace(answer, text=answer.text + "\n\n" + extra)
            citations += [
                c
                for c in _citations(build_facts(d.action, reading.text, r, self.shop), None)
                if c.id not in {x.id for x in citations}
            ]
        tail = self.generator.template.postscript(first)
        if tail and not answer.text.rstrip().endswith("?") and ctx.reply_style != "brief":
            yield TextDelta("\n\n" + tail)
            answer = replace(answer, text=answer.text + "\n\n" + tail)
        return answer, citations

    def _facts(self, d: Decision, result: Any, text: str, ctx: ToolContext) -> Facts:
        profile = (
            build_profile(self.store, ctx.customer_id, self.shop) if d.action in ("recommend",) else None
        )
        ids = getattr(result, "ids", []) or []
        cats = {self.shop.products[i].top_category for i in ids if i in self.shop.products}
        signals = profile.signals(self.shop, cats) if profile is not None and cats else []
        owned = (
            {pid for pid, _ in profile.relevant_purchases(self.shop, cats)}
            if profile is not None and cats
            else set()
        )
        return build_facts(
            d.action,
            text,
            result,
            self.shop,
            signals=signals,
            context_ids=owned,
            decision=d,
            currency=self.shop_currency,
        )

    @staticmethod
    def _actions(decisions: list[Decision], answer: Answer) -> list[str]:
        out = [decisions[0].action] + (["fallback:" + answer.fallback] if answer.fallback else [])
        return out + [d.action for d in decisions[1:]]

    # --- context, state, events ------------------------------------------------------------
    @property
    def shop_currency(self) -> str:
        return self.shop.currency

    def _tool_context(self, session_id: str, customer_id: str | None) -> ToolContext:
        opted_out = customer_id is not None and not self.store.personalization_allowed(customer_id)
        served = self.experiments.assignment(customer_id or session_id) if self.experiments else Assignment()
        return ToolContext(
            self.shop,
            self.store,
            self.retriever,
            self._arm_views.recommender(self.recommender, served.arm),
            session_id,
            customer_id,
            session_items=[] if opted_out else self._session_items(session_id),
            personalized=not opted_out,
            owned=tuple(self._owned(customer_id, opted_out)),
            currency=self.shop_currency,
            diversity=served.arm.diversity,
            rank_weights=served.arm.rank_weights,
            reply_style=served.arm.reply_style,
            variant=served.variant,
        )

    def _owned(self, customer_id: str | None, opted_out: bool) -> list[str]:
        """Products the customer already bought (orders included): not offered again."""
        if customer_id is None or opted_out:
            return []
        profile = build_profile(self.store, customer_id, self.shop)
        owned = [pid for pid, _ in profile.purchases]
        owned += [
            str(i.get("product_id"))
            for o in self.store.orders_for_customer(customer_id)
            if o.get("status") != "cancelled"
            for i in (o.get("items") or [])
            if i.get("product_id")
        ]
        return list(dict.fromkeys(owned))

    def _load_state(self, session_id: str) -> DialogueState:
        data = self.store.load_state(session_id).get("dialogue")
        if data:
            try:
                return DialogueState.from_dict(data)
            except (TypeError, KeyError, ValueError):  # saved by an older version: start the topic afresh
                log.warning("session %s: unreadable dialogue state, starting fresh", session_id)
        return DialogueState()

    def _impressions(
        self,
        session_id: str,
        customer_id: str | None,
        cards: list[ProductCard],
        action: str,
        variant: str | None = None,
    ) -> None:
        for rank, c in enumerate(cards):
            self.store.add_event(
                "impression",
                session_id=session_id,
                customer_id=customer_id,
                product_id=c.product_id,
                variant=variant,
                payload={"rank": rank, "action": action},
            )

    def _session_items(self, session_id: str) -> list[str]:
        evs = self.store.events(session_id=session_id, kinds=list(SESSION_EVENTS))
        return [e["product_id"] for e in evs if e.get("product_id")]

    def _remember_preferences(self, customer_id: str | None, reading: Reading, ctx: ToolContext) -> None:
        if customer_id is None or not ctx.personalized:
            return
        profile = build_profile(self.store, customer_id, self.shop)
        save_preferences(self.store, profile, stated_preferences(reading.commands, reading.sentiment))


def _worth_generating(result: Any) -> bool:
    """A model adds nothing to 'no results' or 'tell me your email': the template says it exactly."""
    products = getattr(result, "products", None)
    if isinstance(products, list):
        return len(products) >= (2 if type(result).__name__ == "Comparison" else 1)
    found = getattr(result, "found", None)
    if found is not None:
        return bool(found)
    if getattr(result, "product", 1) is None:
        return False
    snips = getattr(result, "snippets", None)
    return snips is None or bool(snips)


def _citations(facts: Facts, answer: Answer | None) -> list[Citation]:
    snip = {s.id: s for s in facts.snippets}
    out: list[Citation] = []
    for cid in answer.citations if answer is not None else list(snip):
        if cid in snip:
            out.append(Citation(snip[cid].kind, cid, snip[cid].text[:160]))
    for p in facts.products:
        out.append(Citation("product", p.product_id, p.title))
    if facts.order is not None and facts.order.found and facts.order.order_id:
        out.append(Citation("order", facts.order.order_id, facts.order.status))
    return out
