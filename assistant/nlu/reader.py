"""The understanding cascade: message -> typed commands (+ sentiment).

1. The fast parser reads the message (one MiniLM pass) and its spans are resolved against the shop.
2. When the parse is unsure, holds several requests, or names things the shop cannot resolve, the local
   LLM (grammar-constrained JSON, ``assistant.nlu.llm``) reads it again, if one is configured; its
   commands go through the same resolution and validation.
3. Sentiment is read from the message's sentence embedding.

``Reader.read(text, context) -> Reading``; never raises on odd input (empty, binary, huge, mixed script).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from assistant.nlu.commands import Command, OutOfScope
from assistant.nlu.parser import Parse
from assistant.nlu.read import Context, to_commands
from assistant.nlu.resolve import Resolver

log = logging.getLogger(__name__)
MAX_CHARS = 4000  # longer input is read from its first 4,000 characters (the engine's limit too)
Sentiment = Callable[[str], tuple[str, float]]  # text -> (label, p(positive) - p(negative))


class Parser(Protocol):
    def parse(self, text: str, context: str = "") -> Parse: ...


class CommandLLM(Protocol):
    def commands(self, text: str, context: Context) -> list[Command] | None: ...


@dataclass(frozen=True)
class Reading:
    text: str
    commands: list[Command]
    confidence: float
    path: str = "fast"  # "fast" | "llm" | "empty"
    sentiment: str = "neutral"
    sentiment_score: float = 0.0
    parse: Parse | None = field(default=None, compare=False)


@dataclass
class Reader:
    parser: Parser
    resolver: Resolver
    sentiment: Sentiment | None = None
    llm: CommandLLM | None = None
    threshold: float = 0.5  # a command type is read when its probability reaches this
    sure_above: float = 0.8  # parses less confident than this go to the LLM (chosen on the dev set)

    def read(self, text: object, context: Context | None = None) -> Reading:
        ctx = context or Context()
        clean = clean_text(text)
        if not clean or not any(ch.isalnum() for ch in clean):
            return Reading(clean, [OutOfScope(clean)], 0.0, "empty")
        p = self.parser.parse(clean, ctx.words)
        commands = to_commands(p, self.resolver, ctx, self.threshold)
        path, conf = "fast", p.confidence
        if self.llm is not None and self.needs_llm(p, commands):
            try:
                got = self.llm.commands(clean, ctx)
            except Exception as exc:  # a slow or broken model must not lose the turn: the parse stands
                log.warning("LLM command path failed (%s); using the fast parse", exc)
                got = None
            if got:
                commands, path = got, "llm"
        label, score = self.sentiment(clean) if self.sentiment is not None else ("neutral", 0.0)
        return Reading(clean, commands, conf, path, label, score, p)

    def needs_llm(self, p: Parse, commands: list[Command]) -> bool:
        """Unsure, several requests, or words the catalog could not resolve."""
        unknown = any(getattr(c, "unknown", ()) for c in commands)
        return p.confidence < self.sure_above or len(commands) > 1 or unknown


def clean_text(text: object) -> str:
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "replace")
    s = str(text) if text is not None else ""
    # Control characters and lone surrogates break tokenizers; they carry no meaning here.
    s = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in s[:MAX_CHARS])
    return " ".join(s.encode("utf-8", "replace").decode("utf-8").split())
