"""Peak resident memory per stage and for a whole run (Linux; elsewhere the process-lifetime peak).

Linux keeps one high-water mark of resident memory per process (``VmHWM``) and lets the process
reset it (``echo 5 > /proc/self/clear_refs``). ``MemoryTracker.stage`` resets it before a stage and
reads it after, which gives that stage's own peak; the tracker keeps the maximum of every reading,
so the whole run's peak survives the resets (an outside ``time -v`` would only see the last stage's).
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR = Path("/proc/self/clear_refs")


def _status_mb(field: str) -> float | None:
    """A ``VmHWM`` / ``VmRSS`` line of /proc/self/status in MiB (None off Linux)."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """The process's resident-memory high-water mark (since the last reset) in MiB."""
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return ru / (1024.0 * 1024.0) if sys.platform == "darwin" else ru / 1024.0


def current_rss_mb() -> float:
    rss = _status_mb("VmRSS")
    return peak_rss_mb() if rss is None else rss


def _reset_peak() -> bool:
    try:
        _CLEAR.write_text("5")
        return True
    except OSError:  # not Linux, or not allowed: stage peaks become "peak so far"
        return False


@dataclass
class MemoryTracker:
    """Per-stage peaks (MiB) and the run's peak; ``stage_peaks`` exact only where ``resettable``."""

    run_peak_mb: float = 0.0
    stage_peaks: dict[str, float] = field(default_factory=dict)
    resettable: bool = True

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.run_peak_mb = max(self.run_peak_mb, peak_rss_mb())
        self.resettable = _reset_peak() and self.resettable
        try:
            yield
        finally:
            peak = peak_rss_mb()
            self.run_peak_mb = max(self.run_peak_mb, peak)
            self.stage_peaks[name] = max(self.stage_peaks.get(name, 0.0), round(peak, 1))

    def finish(self) -> float:
        self.run_peak_mb = max(self.run_peak_mb, peak_rss_mb())
        return round(self.run_peak_mb, 1)
