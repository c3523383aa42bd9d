"""The ChatModel protocol, the test fake, and the backend factory.

Backends import their heavy libraries lazily, inside the constructor, so that
``import assistant`` stays cheap and a missing backend fails only when chosen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from assistant.errors import AisleError, ConfigError

if TYPE_CHECKING:
    from assistant.settings import Settings

Message = dict[str, str]


class BusyError(AisleError):
    """Too many generations are waiting; the client should retry in a few seconds."""


@runtime_checkable
class ChatModel(Protocol):
    name: str

    def stream(self, messages: list[Message], **opts: Any) -> Iterator[str]: ...


class FakeChatModel:
    """A deterministic stand-in for tests: replies from a list (cycled) or a function of the messages."""

    uses_facts = False

    def __init__(
        self,
        replies: list[str] | Callable[[list[Message]], str] | None = None,
        *,
        delay_s: float = 0.0,
        first_delay_s: float = 0.0,
    ) -> None:
        self.name = "fake"
        self._replies = replies if replies is not None else ["Here is what I found for you."]
        self._delay = delay_s
        self._first_delay = first_delay_s
        self.calls: list[list[Message]] = []

    def stream(self, messages: list[Message], **opts: Any) -> Iterator[str]:
        self.calls.append(messages)
        if callable(self._replies):
            text = self._replies(messages)
        else:
            text = self._replies[(len(self.calls) - 1) % len(self._replies)]
        if self._first_delay:
            time.sleep(self._first_delay)
        for i, word in enumerate(text.split(" ")):
            if self._delay:
                time.sleep(self._delay)
            yield word if i == 0 else " " + word


class TemplateChatModel:
    """The deterministic backend: writes the answer from the facts alone (no model)."""

    uses_facts = True

    def __init__(self) -> None:
        self.name = "template"

    def stream(self, messages: list[Message], **opts: Any) -> Iterator[str]:
        from assistant.generate.template import render_answer

        facts = opts.get("facts")
        if facts is None:
            raise ConfigError("the template backend needs facts=...: call it through generate.Generator")
        yield render_answer(facts)


def make_chat_model(settings: Settings) -> ChatModel:
    """The ChatModel that ``settings.generator_backend`` names."""
    backend = settings.generator_backend
    if backend == "template":
        return TemplateChatModel()
    if backend == "fake":
        return FakeChatModel()
    if backend == "llama":
        from assistant.generate.llama import LlamaChatModel

        return LlamaChatModel.from_settings(settings)
    if backend == "openai":
        from assistant.generate.openai_http import OpenAIChatModel

        return OpenAIChatModel.from_settings(settings)
    if backend == "transformers":
        from assistant.generate.hf import TransformersChatModel

        return TransformersChatModel.from_settings(settings)
    raise ConfigError(
        f"unknown generator backend {backend!r}: set AISLE_GENERATOR_BACKEND to llama, "
        "transformers, openai, template or fake"
    )
