"""The engine's services beyond a chat turn (search, recommendations, agent drafts, ...), as a mixin
of ``assistant.engine.Assistant``; the UI reaches them through the ``Engine`` protocol only."""

from __future__ import annotations


class EngineServices:
    """Filled in by the architecture work (issue 16): search, recommend, draft_reply, ..."""
