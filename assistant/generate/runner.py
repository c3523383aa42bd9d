"""One grounded answer: prompt -> ChatModel.stream (with a deadline) -> grounding check ->
deterministic template on failure. Generations share one model behind a lock and a bounded
number of waiting slots; beyond them callers get ``BusyError``.

There is no second generation after a failed check: on this CPU a retry doubled the turn's
latency (p95 24 s in the full eval) and failed often enough that the template answered anyway.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from assistant.generate.base import BusyError, ChatModel, Message
from assistant.generate.facts import Facts
from assistant.generate.grounding import Grounder, GroundingReport, coverage_gaps
from assistant.generate.prompts import PromptSet
from assistant.generate.template import TemplateWriter
from assistant.outguard import OutputGuard, UnsafeOutput
from assistant.profile import short_name

_END = object()
log = logging.getLogger(__name__)


@dataclass
class Answer:
    text: str
    backend: str
    grounded: bool
    citations: list[str] = field(default_factory=list)
    fallback: str | None = None  # None | "timeout" | "grounding" | "coverage" | "unsafe" | "error"
    streamed: bool = False  # whether any of this text reached the caller as deltas
    report: GroundingReport | None = None


class Generator:
    def __init__(
        self,
        model: ChatModel,
        grounder: Grounder,
        *,
        timeout_s: float = 30.0,
        queue_size: int = 4,
        max_tokens: int = 96,
    ) -> None:
        self.model = model
        self.grounder = grounder
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.prompts = PromptSet("answer")
        # The worked examples' made-up products must never reach a shopper as if they were real.
        grounder.forbid([n.strip() for n in self.prompts.raw.get("example_names", "").split(",")])
        self.template = TemplateWriter()
        self._model_lock = threading.Lock()
        # One running generation plus `queue_size` waiting ones.
        self._slots = threading.BoundedSemaphore(queue_size + 1)

    @property
    def system_prompt(self) -> str:
        return self.prompts.render("system")

    @contextmanager
    def slot(self) -> Iterator[None]:
        if getattr(self.model, "uses_facts", False):  # the template backend has no model to queue for
            yield
            return
        if not self._slots.acquire(blocking=False):
            raise BusyError("the assistant is busy with other shoppers: retry in a few seconds")
        try:
            yield
        finally:
            self._slots.release()

    def warm(self) -> None:
        if hasattr(self.model, "warm"):
            with self._model_lock:
                self.model.warm(self.system_prompt)

    def messages(self, facts: Facts) -> list[Message]:
        extra = []
        res = facts.result
        if facts.action == "compare" and res is not None:
            for p in facts.products:
                attrs = ", ".join(
                    f"{k.replace('_', ' ')} {row[p.product_id]}"
                    for k, row in list(res.attributes.items())[:4]
                )
                share = res.positive_share.get(p.product_id)
                pos = f", {share:.0%} positive reviews" if share is not None else ""
                extra.append(f"{short_name(p.title)}: {attrs}{pos}")
        # Constraints every product meets are said once ("All under $150, wireless."), not per line.
        sets = [tuple(p.matches) for p in facts.products]
        common = list(sets[0]) if sets and all(m == sets[0] for m in sets) else []
        user = self.prompts.render(
            "user",
            products=facts.products,
            snippets=facts.snippets,
            order=facts.order,
            signals=facts.signals,
            question=facts.question[:300],
            extra=extra,
            common=common,
        )
        return [{"role": "system", "content": self.system_prompt}, {"role": "user", "content": user}]

    def fallback(self, facts: Facts, reason: str | None, streamed: bool = False) -> Answer:
        text = self.template.render(facts)
        rep = self.grounder.check(text, facts)
        return Answer(text, "template", rep.ok, rep.citations, reason, streamed=streamed, report=rep)

    def stream(self, facts: Facts, *, use_model: bool = True) -> Iterator[str | Answer]:
        """Yield text chunks as the model writes them, then one final ``Answer``."""
        if not use_model or getattr(self.model, "uses_facts", False):
            ans = self.fallback(facts, None)
            ans.backend = "template"
            yield ans.text
            ans.streamed = True
            yield ans
            return
        deadline = time.monotonic() + self.timeout_s
        parts: list[str] = []
        try:
            for chunk in self._run(self.messages(facts), deadline):
                parts.append(chunk)
                if self._unsafe("".join(parts), facts):  # stop a leak before this chunk goes out
                    raise UnsafeOutput
                yield chunk
        except UnsafeOutput:
            log.warning(
                "model output blocked by the output guard (%s): %r; using the template",
                self._unsafe("".join(parts), facts),
                "".join(parts)[-200:],
            )
            yield self.fallback(facts, "unsafe", streamed=len(parts) > 1)
            return
        except TimeoutError:
            yield self.fallback(facts, "timeout", streamed=bool(parts))
            return
        except Exception:  # a broken backend must not break the turn: the template answers
            yield self.fallback(facts, "error", streamed=bool(parts))
            return
        text = clean(parts, truncated=len(parts) >= self.max_tokens)
        rep = self.grounder.check(text, facts)
        if rep.ok and text and not self._unsafe(text, facts):
            gaps = coverage_gaps(text, facts)
            if gaps:  # grounded but not the answer: the template states the order status / figure exactly
                log.info("answer leaves out %s, using the template: %r", gaps, text)
                yield self.fallback(facts, "coverage", streamed=True)
                return
            yield Answer(text, self.model.name, True, rep.citations, streamed=True, report=rep)
            return
        reason = "grounding" if not rep.ok or not text else "unsafe"
        log.info("model answer failed the %s check (%s), using the template: %r", reason, rep, text)
        yield self.fallback(facts, reason, streamed=True)

    def _unsafe(self, text: str, facts: Facts) -> list[str]:
        """Reliability (issue 9): prompt leaks, PII the shopper did not type, markup."""
        og = self.__dict__.get("_outguard")
        if og is None:
            og = self.__dict__["_outguard"] = OutputGuard(self.system_prompt)
        # The shop's own contact details in a quoted policy are fair to repeat, and so are the
        # order's own tracking number and id: the shopper proved the order is theirs.
        order = facts.order
        own = [order.order_id or "", order.tracking_number] if order is not None and order.found else []
        return og.problems(
            text, allowed=" ".join([facts.question, *(sn.text for sn in facts.snippets), *own])
        )

    def _run(self, messages: list[Message], deadline: float) -> Iterator[str]:
        out: queue.Queue[object] = queue.Queue()
        cancel = threading.Event()

        def work() -> None:
            if not self._model_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                out.put(TimeoutError("model busy"))
                return
            try:
                for chunk in self.model.stream(messages, max_tokens=self.max_tokens):
                    if cancel.is_set():
                        break
                    out.put(chunk)
            except Exception as exc:
                out.put(exc)
            finally:
                self._model_lock.release()
                out.put(_END)

        threading.Thread(target=work, daemon=True, name="aisle-generate").start()
        try:
            while True:
                try:
                    item = out.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise TimeoutError("generation timed out") from None
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield str(item)
        finally:
            cancel.set()


def clean(parts: list[str], truncated: bool = False) -> str:
    """The model's text without a speaker prefix or a last sentence cut off by the token limit."""
    text = "".join(parts).strip()
    for prefix in ("Aisle:", "Assistant:", "assistant:", "REPLY:"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
    # One chunk per token: hitting max_tokens means the last sentence may stop mid-number ("rated 4.").
    if truncated or not text.endswith((".", "!", "?", ")", "]", '"', "'", "*")) or re.search(r"\d\.$", text):
        ends = [m.end() for m in re.finditer(r"[.!?](?=\s)", text)]
        if ends:
            text = text[: ends[-1]]
    return text
