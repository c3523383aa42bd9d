"""Busy neighbours for the latency benchmarks: ``--contention N``.

A latency figure measured on an idle machine says little about a shared one. ``side_by_side`` runs
one measurement quiet and again while N processes spin on the CPU (started here, stopped by their
own PIDs), in the same run, and reports both and their ratio, so a regression under contention is
seen beside the quiet figure it would otherwise hide behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

SPIN = "while True:\n    pass\n"  # one busy core each: the shape of another job sharing the machine


@contextmanager
def busy(n: int, settle_s: float = 0.5) -> Iterator[list[int]]:
    """N processes spinning on the CPU for the duration of the block; yields their PIDs."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(n):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", SPIN],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(settle_s)  # let the scheduler see them before the first timed request
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(timeout=10)


def _ratios(quiet: dict[str, Any], loaded: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, q in quiet.items():
        c = loaded.get(key)
        if isinstance(q, int | float) and isinstance(c, int | float) and q > 0:
            out[key] = round(float(c) / float(q), 2)
    return out


def side_by_side(measure: Callable[[], dict[str, Any]], n: int) -> dict[str, Any]:
    """``measure()`` quiet, then (when ``n`` > 0) under ``n`` busy processes; both, and loaded/quiet."""
    quiet = measure()
    result: dict[str, Any] = {"quiet": quiet, "contention": n}
    if n > 0:
        with busy(n):
            loaded = measure()
            result["loadavg_1m"] = round(os.getloadavg()[0], 2)
        result["contended"] = loaded
        result["ratio"] = _ratios(quiet, loaded)
    return result
