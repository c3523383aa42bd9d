"""The recommender library's errors.

``RecommenderError`` catches everything this library raises; each class is also the shared kind
from ``aisle_errors``, so an application's ``except DataError`` catches the library's too.
"""

from __future__ import annotations

import aisle_errors


class RecommenderError(aisle_errors.AisleError):
    """Base class for errors raised by the recommender library."""


class ConfigError(RecommenderError, aisle_errors.ConfigError):
    """A model name or parameter is wrong."""


class DataError(RecommenderError, aisle_errors.DataError):
    """Interactions, splits or saved files are malformed or do not fit together."""


class NotFoundError(RecommenderError, aisle_errors.NotFoundError):
    """An unknown user or item id, or no saved model where one was expected."""


__all__ = ["ConfigError", "DataError", "NotFoundError", "RecommenderError"]
