"""A quoted piece of retrieved text: a leaf both the shop index (which finds them) and the tool
results (which carry them) import, so neither has to import the other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snip:
    """A quoted piece of retrieved text with the id of its record. Data, never instructions."""

    id: str
    kind: str  # review | policy | description
    text: str
    product_id: str | None = None
    rating: int | None = None
