"""The local LLM as command generator (llama.cpp, JSON-schema grammar, prefix-cached few-shot prompt).

The model copies the shopper's words into typed fields; those become the same spans the fast parser
produces, so resolution against the catalog and validation are shared. An answer that is not valid
JSON for the schema, or names no command, is discarded (the fast parse stands).
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from assistant.nlu.commands import CHAT_KINDS, COMMAND_TYPES, PRIVACY_KINDS, TOPICS, Command
from assistant.nlu.parser import Parse, Span
from assistant.nlu.read import Context, to_commands
from assistant.nlu.resolve import Resolver

# Field -> the span tag the fast parser would give those words.
FIELD_TAGS = {
    "product": "CAT",
    "brand": "BRAND",
    "not_brand": "NOT_BRAND",
    "feature": "ATTR",
    "not_feature": "NOT_ATTR",
    "relative": "REL",
    "rank": "SUPER",
    "ref": "REF",
    "aspect": "ASPECT",
    "order": "ORDER_ID",
    "email": "EMAIL",
    "drop": "UNSET",
}
_AMOUNT = {
    "min": ("PRICE_MIN", "NUM_MIN"),
    "max": ("PRICE_MAX", "NUM_MAX"),
    "about": ("PRICE_ABOUT", "NUM_EQ"),
}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    props: dict[str, Any] = {"type": {"type": "string", "enum": list(COMMAND_TYPES)}}
    props.update({k: {"type": "string"} for k in (*FIELD_TAGS, *_AMOUNT)})
    props.update(
        topic={"type": "string", "enum": list(TOPICS)},
        kind={"type": "string", "enum": list(PRIVACY_KINDS + CHAT_KINDS)},
        reject={"type": "boolean"},
        **{"continue": {"type": "boolean"}},
    )
    item = {"type": "object", "properties": props, "required": ["type"]}
    return {
        "type": "object",
        "properties": {"commands": {"type": "array", "items": item, "minItems": 1, "maxItems": 3}},
        "required": ["commands"],
    }


@lru_cache(maxsize=1)
def prompt() -> dict[str, Any]:
    text = resources.files("assistant.nlu").joinpath("prompts/commands.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def messages(text: str, context: Context | None = None) -> list[dict[str, str]]:
    """The fixed prefix (system + examples, reused from the KV cache) and this message with its context."""
    p = prompt()
    out = [{"role": "system", "content": p["system"].strip()}]
    for ex in p["examples"]:
        out += [{"role": "user", "content": ex["user"]}, {"role": "assistant", "content": ex["json"]}]
    # a context word the prompt has no note for adds nothing (never an error)
    notes = [
        p["context"][w] for w in (context.words.split() if context is not None else []) if w in p["context"]
    ]
    out.append({"role": "user", "content": p["user"].format(text=text, context=" ".join(notes)).strip()})
    return out


def to_parse(text: str, data: dict[str, Any], is_money: Any) -> Parse:
    """The model's JSON as a parse: each field's words become a span with the fast parser's tag."""
    spans: list[Span] = []
    types: dict[str, float] = {t: 0.0 for t in COMMAND_TYPES}
    labels: dict[str, tuple[str, float]] = {}
    low = text.lower()
    for cmd in data.get("commands") or []:
        if cmd.get("type") not in types:
            continue
        types[cmd["type"]] = 1.0
        for key, value in cmd.items():
            if not isinstance(value, str) or not value.strip():
                continue
            tag = FIELD_TAGS.get(key)
            if key in _AMOUNT:
                tag = _AMOUNT[key][0 if is_money(value) else 1]
            if tag is None:
                continue
            start = low.find(value.lower())
            s, e = (start, start + len(value)) if start >= 0 else (0, 0)
            spans.append(Span(s, e, tag, value))
        if cmd.get("continue"):
            spans.append(Span(0, 0, "CONT", "also"))
        if cmd.get("reject"):
            spans.append(Span(0, 0, "REJECT", "none of these"))
        if cmd.get("topic") in TOPICS:
            labels["topic"] = (cmd["topic"], 1.0)
        if cmd.get("kind") in PRIVACY_KINDS:
            labels["privacy"] = (cmd["kind"], 1.0)
        if cmd.get("kind") in CHAT_KINDS:
            labels["chat"] = (cmd["kind"], 1.0)
    return Parse(text, types, tuple(sorted(spans, key=lambda s: s.start)), labels)


class LlamaCommands:
    """One llama.cpp instance kept for command reading, so its few-shot prefix stays in the KV cache."""

    def __init__(
        self, model_path: Path, resolver: Resolver, *, n_threads: int = 1, max_tokens: int = 96
    ) -> None:
        from llama_cpp import Llama

        self.resolver = resolver
        self.max_tokens = max_tokens
        self._llm = Llama(
            model_path=str(model_path),
            n_threads=n_threads,
            n_threads_batch=n_threads,
            n_ctx=2048,
            n_batch=256,
            seed=7,
            verbose=False,
        )
        self._lock = threading.Lock()  # one llama context: calls queue

    def warm(self) -> None:
        self.commands("hello", Context())

    def commands(self, text: str, context: Context) -> list[Command] | None:
        with self._lock:
            # Plain role/content dicts are what llama.cpp takes; its TypedDict messages are not
            # needed (and its stubs are absent where lint runs without the llama.cpp build).
            chat: Any = messages(text, context)
            out: Any = self._llm.create_chat_completion(
                messages=chat,
                response_format={"type": "json_object", "schema": schema()},
                max_tokens=self.max_tokens,
                temperature=0.0,
            )
        raw = out["choices"][0]["message"]["content"] or ""
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict) or not data.get("commands"):
            return None
        p = to_parse(text, data, lambda v: self.resolver.money(v) is not None and _has_currency_or_price(v))
        return to_commands(p, self.resolver, context)


def _has_currency_or_price(value: str) -> bool:
    """ "$150", "200 quid", "150" are prices; "4 people", "20,000 mAh" are quantities."""
    from assistant.nlu.matching import quantity
    from knowledge.money import parse_money

    m = parse_money(value, None)
    if m is not None and m.currency is not None:
        return True
    _, unit = quantity(value)
    return unit is None
