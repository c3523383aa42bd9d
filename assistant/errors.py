"""A small exception hierarchy. Every message names the problem *and* the fix.

The shared kinds come from the leaf ``aisle_errors``; the libraries' own errors subclass them, so
``except DataError`` here catches a ``recommender`` or ``knowledge`` data error too."""

from __future__ import annotations

from aisle_errors import AisleError, ConfigError, DataError, ModelMissingError, NotFoundError


class AccessDeniedError(AisleError):
    """The caller may not see this record (another customer's order, a missing token)."""


__all__ = [
    "AccessDeniedError",
    "AisleError",
    "ConfigError",
    "DataError",
    "ModelMissingError",
    "NotFoundError",
]
