"""A small exception hierarchy. Every message names the problem *and* the fix."""

from __future__ import annotations


class AisleError(Exception):
    """Base class for errors Aisle reports to users as one line."""


class ConfigError(AisleError):
    """A setting is wrong (unknown backend, malformed URL, unwritable directory)."""


class ModelMissingError(AisleError):
    """A model file or package is not installed; the message names the make target or package."""


class DataError(AisleError):
    """Input data is malformed (bad catalog rows, empty interactions, unknown ids)."""


class NotFoundError(AisleError):
    """A requested record does not exist."""


class AccessDeniedError(AisleError):
    """The caller may not see this record (another customer's order, a missing token)."""
