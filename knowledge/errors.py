"""The knowledge library's errors.

``KnowledgeError`` catches everything this library raises; each class is also the shared kind
from ``aisle_errors``, so an application's ``except DataError`` catches the library's too.
"""

from __future__ import annotations

import aisle_errors


class KnowledgeError(aisle_errors.AisleError):
    """Base class for errors raised by the knowledge library."""


class ConfigError(KnowledgeError, aisle_errors.ConfigError):
    """An embedder spec or vector store address is wrong."""


class DataError(KnowledgeError, aisle_errors.DataError):
    """A catalog file, mapping or record is malformed."""


class ModelMissingError(KnowledgeError, aisle_errors.ModelMissingError):
    """The embedding model is not installed."""


__all__ = ["ConfigError", "DataError", "KnowledgeError", "ModelMissingError"]
