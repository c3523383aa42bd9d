"""Answer generation: ChatModel backends, prompts (package data), grounding, template fallback."""

from assistant.generate.base import BusyError, ChatModel, FakeChatModel, TemplateChatModel, make_chat_model

__all__ = ["BusyError", "ChatModel", "FakeChatModel", "TemplateChatModel", "make_chat_model"]
