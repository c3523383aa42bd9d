"""The tuner's time budget and its early-discard test.

Budgeted tuning (``Tuner.select(..., budget_s=...)``) runs in two phases: every model's first grid
configuration (so every model reaches the blend), then the remaining configurations model by
model, strongest model on valid first, each only if the time it is expected to take (the model's
last fit plus evaluation) still fits in the budget. A configuration that is clearly worse than the
model's best on a small probe sample of the tuning users is discarded before the full evaluation
(a successive-halving rung: probe users first, all tuning users only for survivors). Everything
skipped or discarded is reported with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# The early-discard rung runs only when a full evaluation is costly: on small catalogs it saves
# nothing and could (rarely) change which configuration wins.
PROBE_MIN_CELLS = 20_000_000
# "Clearly worse": the mean paired per-user difference plus this many standard errors is below 0.
DISCARD_SE = 2.0


@dataclass
class Budget:
    """Seconds to spend (None: no limit) and the log of what was left out."""

    seconds: float | None = None
    started: float = field(default_factory=time.perf_counter)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    discarded: list[dict[str, Any]] = field(default_factory=list)
    tried: int = 0
    finished: float | None = None  # set by ``stop()`` when the search ends

    def left(self) -> float:
        if self.seconds is None:
            return float("inf")
        return self.seconds - (time.perf_counter() - self.started)

    def affords(self, expected_s: float) -> bool:
        return expected_s <= self.left()

    def skip(self, model: str, params: dict[str, Any], expected_s: float) -> None:
        self.skipped.append(
            {"model": model, "params": params, "expected_s": round(expected_s, 1), "why": "time budget"}
        )

    def discard(self, model: str, params: dict[str, Any], probe: float, best_probe: float) -> None:
        self.discarded.append(
            {
                "model": model,
                "params": params,
                "probe_ndcg@10": round(probe, 4),
                "best_probe_ndcg@10": round(best_probe, 4),
                "why": f"below the model's best by over {DISCARD_SE:g} standard errors on the probe users",
            }
        )

    def stop(self) -> None:
        self.finished = time.perf_counter()

    def report(self) -> dict[str, Any]:
        end = self.finished if self.finished is not None else time.perf_counter()
        return {
            "budget_s": self.seconds,
            "spent_s": round(end - self.started, 1),
            "configs_fitted": self.tried,
            "skipped": self.skipped,
            "discarded_early": self.discarded,
        }


def clearly_worse(candidate: np.ndarray, best: np.ndarray) -> bool:
    """Paired test on per-user NDCG of the same probe users: is ``candidate`` below ``best`` by
    more than ``DISCARD_SE`` standard errors of the mean difference?"""
    d = np.asarray(candidate, np.float64) - np.asarray(best, np.float64)
    if len(d) < 2:
        return False
    se = float(d.std(ddof=1) / np.sqrt(len(d)))
    return bool(d.mean() + DISCARD_SE * se < 0.0)
