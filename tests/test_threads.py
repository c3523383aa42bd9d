"""The process thread budget: torch and BLAS pools are limited whether they load before or after."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant.threads import apply_thread_budget

PROBE = """
import json, sys
from assistant.threads import apply_thread_budget
if sys.argv[1] == "before":
    import torch
applied = apply_thread_budget(1)
import numpy, torch
from threadpoolctl import threadpool_info
print(json.dumps({"torch": torch.get_num_threads(), "pools": [p["num_threads"] for p in threadpool_info()],
                  "applied_torch": applied["torch"]}))
"""


@pytest.mark.parametrize("torch_loaded", ["before", "after"])
def test_budget_limits_torch_and_blas_loaded_before_or_after(torch_loaded: str) -> None:
    # A fresh interpreter: the pools' sizes are process state, and this process's are already set.
    env = {k: v for k, v in __import__("os").environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, torch_loaded], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["torch"] == 1
    assert seen["pools"] and set(seen["pools"]) == {1}
    assert seen["applied_torch"] == (1 if torch_loaded == "before" else None)


def test_a_budget_below_one_names_the_setting() -> None:
    with pytest.raises(ValueError, match="AISLE_INFERENCE_THREADS"):
        apply_thread_budget(0)
