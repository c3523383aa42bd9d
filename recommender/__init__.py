"""Aisle's recommender library: one ``Recommender`` interface, CF / neural / content / sequential
models, a validation-tuned hybrid, pure metrics and a benchmark on fixed splits.

Importing this package loads only numpy/scipy; torch is imported inside NeuMF when used.
"""

from recommender.base import Recommender
from recommender.data import Interactions

__all__ = ["Interactions", "Recommender"]
