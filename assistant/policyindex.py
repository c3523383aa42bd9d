"""A shop's store policies: which one answers a question, and the sentences of it to quote."""

from __future__ import annotations

import re
from typing import Any

from assistant.snippet import Snip
from assistant.textmatch import focus, stem, words
from knowledge.records import Policy


class PolicyIndex:
    """The policies of a shop, split into passages for the lexical fallback (no vector index)."""

    def __init__(self, policies: list[Policy]) -> None:
        self.policies = list(policies)
        self._policy_text = {p.id: p.text for p in policies}
        self.passages: list[Snip] = [
            Snip(f"{pol.id}#{i}", "policy", para.strip())
            for pol in policies
            for i, para in enumerate(p for p in re.split(r"\n\s*\n", pol.text) if p.strip())
        ]

    def policy_snippets(
        self, question: str, k: int, retriever: Any | None, topic: str | None = None
    ) -> list[Snip]:
        """The best passage of each of the k most relevant policies, cited by the policy's id."""
        if retriever is not None:
            hits = retriever.policies(question, k + (2 if topic else 0))
            if topic:  # the retriever ranks by text; a tool that knows its topic puts that policy first
                hits = sorted(hits, key=lambda h: h.id not in self._topic_ids(topic))
            if topic and self._topic_ids(topic) and (not hits or hits[0].id not in self._topic_ids(topic)):
                hits = []  # the topic's policy was not retrieved: quote it from the catalog below
            if hits:  # quote the most relevant sentences of the whole policy, not just the hit chunk
                return [
                    Snip(h.id, "policy", focus(self._policy_text.get(h.id, h.text), question, 400))
                    for h in hits[:k]
                ]
        q = {stem(w) for w in words(question)}
        scored = sorted(
            self.passages,
            key=lambda s: (
                not (topic and s.id.split("#")[0] in self._topic_ids(topic)),
                -len(q & {stem(w) for w in words(s.text)}),
            ),
        )
        out: list[Snip] = []
        for s in scored:
            pid = s.id.split("#")[0]
            if all(o.id != pid for o in out):
                out.append(Snip(pid, "policy", focus(self._policy_text.get(pid, s.text), question, 400)))
            if len(out) >= k:
                break
        return out

    def policy_topic(self, question: str, retriever: Any | None, prior: str, weight: float) -> str:
        """The topic (or id) of the policy that best answers the question: every policy's retrieval
        score, scaled so the best is 1, plus ``weight`` for the policies of the ``prior`` topic."""
        if retriever is None or not self.policies:
            return prior
        hits = retriever.policies(question, len(self.policies))
        top = max((h.score for h in hits), default=0.0)
        if top <= 0:
            return prior
        mine = self._topic_ids(prior)
        best = max(hits, key=lambda h: h.score / top + (weight if h.id in mine else 0.0))
        pol = next((p for p in self.policies if p.id == best.id), None)
        if pol is None or (best.id in mine and prior != "other"):
            return prior  # keep the reader's name for its topic (intents and answers key on it)
        return pol.topic or pol.id

    def _topic_ids(self, topic: str) -> set[str]:
        return {p.id for p in self.policies if p.topic == topic or p.id == topic}

    def return_window_days(self, default: int = 30) -> int:
        for pol in self.policies:
            if pol.topic == "returns" or pol.id == "returns":
                m = re.search(r"(\d{1,3})[- ]days?", pol.text)
                if m:
                    return int(m.group(1))
        return default
