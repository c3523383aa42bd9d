"""The deterministic answer: rendered from the facts alone (prompts/template.yaml)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.generate.prompts import PromptSet

if TYPE_CHECKING:
    from assistant.generate.facts import Facts

_KEY = {"cancel_order": "order_request", "return_or_refund": "order_request", "smalltalk": "greeting"}


class TemplateWriter:
    def __init__(self) -> None:
        self._prompts = PromptSet("template")

    def render(self, facts: Facts) -> str:
        key = "clarify" if facts.clarify else _KEY.get(facts.action, facts.action)
        if not self._prompts.has(key):
            key = "out_of_scope"
        return self._render(key, facts)

    def postscript(self, facts: Facts) -> str:
        """What follows the answer: notes ("I couldn't find ..."), carried constraints, one question."""
        return self._render("postscript", facts) if not facts.clarify else ""

    def _render(self, key: str, facts: Facts) -> str:
        text = self._prompts.render(
            key,
            products=facts.products,
            snippets=facts.snippets,
            order=facts.order,
            result=facts.result,
            signals=facts.signals,
            constraints=facts.constraints,
            clarify=facts.clarify or "",
            question=facts.question,
            options=facts.options,
            notes=facts.notes,
            carried=facts.carried,
            follow_up=facts.follow_up,
        )
        # Collapse the blank lines Jinja control blocks leave behind.
        return "\n".join(line.rstrip() for line in text.splitlines() if line.strip()).strip()


def render_answer(facts: Facts) -> str:
    return TemplateWriter().render(facts)
