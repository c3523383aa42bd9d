"""The process's thread budget for request-time inference (query embeddings, the parser, scoring).

Why: torch's OpenMP pool and OpenBLAS size themselves to every core and busy-wait at their barriers.
On a machine whose cores are also running other work, one of a pass's threads is descheduled and the
others spin waiting for it: measured here, a MiniLM query embedding took ~12 ms with one intra-op
thread and 220-490 ms with two while two other jobs ran (docs/bench/contention.md). A server's
concurrency comes from its requests, so each pass gets a small fixed budget and extra load queues
instead of spinning.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# The variables OpenMP, OpenBLAS and MKL read when they load; libraries loaded later take them.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def apply_thread_budget(threads: int) -> dict[str, Any]:
    """Limit intra-op threads of torch and the BLAS libraries to ``threads`` for this process.

    Libraries already loaded are limited now (torch through ``set_num_threads``, BLAS pools through
    threadpoolctl); libraries loaded later read the environment. Torch is not imported for this:
    a process that never loads it pays nothing. Returns what was applied, for logs and benchmarks.
    """
    if threads < 1:
        raise ValueError(f"thread budget must be at least 1, got {threads}; set AISLE_INFERENCE_THREADS >= 1")
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    applied: dict[str, Any] = {"threads": threads, "torch": None, "blas": []}
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
        applied["torch"] = torch.get_num_threads()
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(limits=threads)  # a global limit (not the context-manager form): for the process
    applied["blas"] = [(p["internal_api"], p["num_threads"]) for p in threadpool_info()]
    return applied
