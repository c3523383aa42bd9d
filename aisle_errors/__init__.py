"""The error kinds every Aisle package shares. A leaf: it imports nothing.

Libraries (``recommender``, ``knowledge``) subclass these in their own ``errors`` modules, and the
app re-exports them from ``assistant.errors``, so one ``except DataError`` in the app catches a
library's data error too. Every message names the problem *and* the fix.
"""


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


__all__ = ["AisleError", "ConfigError", "DataError", "ModelMissingError", "NotFoundError"]
