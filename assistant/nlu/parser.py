"""The fast parser: one MiniLM pass (with the shop's trained adapters merged in) gives command-type
probabilities, tagged slot spans and the topic / privacy / chit-chat labels of a message.

``FastParser(folder).parse(text) -> Parse``. Loading is lazy and thread-safe; inference runs with a
bounded thread count so that concurrent turns queue instead of oversubscribing the CPU.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.nlu.commands import COMMAND_TYPES

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "parser"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    tag: str
    text: str
    score: float = 1.0


@dataclass(frozen=True)
class Parse:
    """What the network read in one message, before anything is resolved against the catalog."""

    text: str
    commands: dict[str, float]  # command type -> probability
    spans: tuple[Span, ...] = ()
    labels: dict[str, tuple[str, float]] = field(default_factory=dict)  # head -> (label, probability)

    def chosen(self, threshold: float = 0.5) -> list[str]:
        """Command types at or over the threshold, most likely first (the best one if none is)."""
        got = sorted((c for c, p in self.commands.items() if p >= threshold), key=lambda c: -self.commands[c])
        return got or [max(self.commands, key=lambda c: self.commands[c])]

    @property
    def confidence(self) -> float:
        """How sure the parse is: every command decision's margin and every span's score."""
        sure = [max(p, 1.0 - p) for p in self.commands.values()]
        return min([*sure, *(s.score for s in self.spans)], default=0.0)

    def spans_of(self, *tags: str) -> list[Span]:
        return [s for s in self.spans if s.tag in tags]


class FastParser:
    def __init__(self, folder: Path = ARTIFACTS, threads: int = 1) -> None:
        self.folder = folder
        self.threads = threads
        self._loaded: tuple[Any, Any, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    @property
    def meta(self) -> dict[str, Any]:
        return self._load()[2]

    def _load(self) -> tuple[Any, Any, dict[str, Any]]:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    from assistant.nlu import net

                    self._loaded = net.load(self.folder)
        return self._loaded

    def warm(self) -> None:
        self.parse("hello")

    def parse(self, text: str, context: str = "") -> Parse:
        return self.parse_many([text], [context])[0]

    def parse_many(self, texts: list[str], contexts: list[str] | None = None) -> list[Parse]:
        """``contexts``: per message, what the conversation shows ("list" when products are on screen,
        "asked" when we asked for order details); the parser reads it beside the message."""
        import torch

        from assistant.nlu import net as N
        from assistant.nlu.spans import decode

        tok, model, meta = self._load()
        known = set(meta.get("context_words", ("list", "asked")))  # words this model was trained to read
        contexts = [" ".join(w for w in c.split() if w in known) for c in contexts or [""] * len(texts)]
        rows = [N.encode(tok, c, t, 128) for t, c in zip(texts, contexts, strict=True)]
        n = max(len(ids) for ids, _ in rows)
        ids_t = torch.zeros(len(rows), n, dtype=torch.long)
        mask_t = torch.zeros(len(rows), n, dtype=torch.long)
        for i, (ids, _) in enumerate(rows):
            ids_t[i, : len(ids)] = torch.tensor(ids)
            mask_t[i, : len(ids)] = 1
        prev = torch.get_num_threads()
        try:
            torch.set_num_threads(self.threads)
            with torch.inference_mode():
                out = model(ids_t, mask_t)
        finally:
            torch.set_num_threads(prev)
        cmd = torch.sigmoid(out["cmd"])
        tok_p = torch.softmax(out["tok"], -1)
        best_p, best = tok_p.max(-1)
        heads = {k: torch.softmax(out[k], -1) for k in N.HEADS}
        parses = []
        for i, text in enumerate(texts):
            offsets = rows[i][1]
            k = len(offsets)
            labels = [N.BIO[int(j)] for j in best[i][:k]]
            spans = tuple(
                Span(s, e, t, text[s:e], round(sc, 4))
                for s, e, t, sc in decode(text, offsets, labels, best_p[i][:k].tolist())
            )
            head_labels = {
                k: (N.HEADS[k][int(h[i].argmax())], round(float(h[i].max()), 4)) for k, h in heads.items()
            }
            parses.append(
                Parse(
                    text,
                    {c: round(float(cmd[i, j]), 4) for j, c in enumerate(COMMAND_TYPES)},
                    spans,
                    head_labels,
                )
            )
        return parses
