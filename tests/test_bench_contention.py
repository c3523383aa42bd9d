"""`--contention N`: busy neighbours start, burn CPU, and are gone afterwards; figures come side by side."""

from __future__ import annotations

import os
import time

import pytest

from aisle.bench.contention import busy, side_by_side


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to watch the busy processes")
def test_busy_processes_spin_and_are_stopped() -> None:
    with busy(2, settle_s=0.3) as pids:
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        before = [_cpu_ticks(p) for p in pids]
        time.sleep(0.3)
        assert all(_cpu_ticks(p) > b for p, b in zip(pids, before, strict=True))  # they do burn CPU
    assert not any(_alive(p) for p in pids)


def test_side_by_side_reports_quiet_contended_and_ratio() -> None:
    calls = iter([{"p95": 10.0, "n": 3, "name": "x"}, {"p95": 25.0, "n": 3, "name": "x"}])
    out = side_by_side(lambda: next(calls), 1)
    assert out["quiet"]["p95"] == 10.0 and out["contended"]["p95"] == 25.0
    assert out["ratio"] == {"p95": 2.5, "n": 1.0}
    assert out["contention"] == 1 and "loadavg_1m" in out


def test_no_contention_measures_once() -> None:
    calls: list[int] = []
    out = side_by_side(lambda: calls.append(1) or {"p95": 1.0}, 0)
    assert calls == [1] and set(out) == {"quiet", "contention"}
