"""Faults degrade, never crash: a slow or broken generator, a dead embedder or vector store, and a
missing recommender model each have a tested fallback."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DemoShop

from assistant.events import Done, TextDelta
from assistant.generate.base import FakeChatModel


class CrashingModel:
    name = "crashing"
    uses_facts = False

    def __init__(self, after_words: int = 0) -> None:
        self.after = after_words

    def stream(self, messages: list[dict[str, str]], **opts: Any) -> Iterator[str]:
        for i in range(self.after):
            yield f"word{i} "
        raise RuntimeError("llama.cpp segfaulted (simulated)")


def test_generator_timeout_gives_template_answer_within_a_second(tmp_path: Path, demo_shop: DemoShop) -> None:
    timeout = 0.5
    bot = demo_shop.assistant(
        tmp_path / "t.db", FakeChatModel(["never"], first_delay_s=5.0), timeout_s=timeout
    )
    bot.reader.read("hello")  # the parser loads on first use: the timeout is about generation only
    t0 = time.perf_counter()
    events = list(bot.stream("t1", "wireless headphones under $150"))
    elapsed = time.perf_counter() - t0
    done = events[-1]
    assert isinstance(done, Done) and done.backend == "template" and "fallback:timeout" in done.actions
    assert done.text and done.grounded
    assert elapsed <= timeout + 1.0, f"took {elapsed:.2f} s for a {timeout} s timeout"
    assert bot.store.messages("t1")[-1]["text"] == done.text  # the fallback answer is what is stored


@pytest.mark.parametrize("after_words", [0, 3])
def test_generator_crash_gives_template_answer(tmp_path: Path, demo_shop: DemoShop, after_words: int) -> None:
    timeout = 30.0
    bot = demo_shop.assistant(tmp_path / "c.db", CrashingModel(after_words), timeout_s=timeout)
    list(bot.stream("c0", "wireless headphones under $150"))  # loads the models (seconds when cold)
    t0 = time.perf_counter()
    events = list(bot.stream("c1", "wireless headphones under $150"))
    assert time.perf_counter() - t0 < timeout / 3  # a crash is answered at once, not at the timeout
    done = events[-1]
    assert isinstance(done, Done) and done.backend == "template" and "fallback:error" in done.actions
    assert done.text and done.grounded
    if after_words == 0:  # nothing streamed yet: the template text is streamed instead
        assert any(isinstance(e, TextDelta) and e.text == done.text for e in events)
    else:  # words already streamed: the done event carries the replacement, which the UI shows
        assert "word0" not in done.text
    # The next turn still works: the crash did not poison the model lock or the queue.
    assert bot.respond("c1", "what is your return policy?").text


class DeadEmbedder:
    name = "dead"
    dim = 384

    def embed(self, texts: list[str]) -> Any:
        raise OSError("model file missing (simulated)")


class DeadStore:
    def query(self, *a: Any, **k: Any) -> Any:
        raise ConnectionError("chroma server unreachable (simulated)")

    def __getattr__(self, name: str) -> Any:
        raise ConnectionError("chroma server unreachable (simulated)")


@pytest.mark.parametrize("broken", ["embedder", "store"])
def test_dead_embedder_or_vector_store_falls_back_to_lexical(
    broken: str, caplog: pytest.LogCaptureFixture
) -> None:
    from knowledge.catalog import load_demo_catalog
    from knowledge.embed import make_embedder
    from knowledge.retrieve import Retriever

    cat = load_demo_catalog()
    lexical = Retriever(cat, None, None)
    emb = DeadEmbedder() if broken == "embedder" else make_embedder("hashing")
    cols = {"product": "products", "review": "reviews", "policy": "policies"}
    r = Retriever(cat, emb, DeadStore(), cols)
    with caplog.at_level(logging.WARNING):
        hits = r.search("wireless headphones", k=5)
        pols = r.policies("how long do refunds take", k=1)
    assert [h.id for h in hits] == [h.id for h in lexical.search("wireless headphones", k=5)]
    assert hits and all(
        "Headphones" in h.metadata.get("category", "") or "eadphone" in h.text for h in hits[:3]
    )
    assert pols and pols[0].id == lexical.policies("how long do refunds take", k=1)[0].id
    assert r.last_degraded_reason and "lexical" in caplog.text


def test_missing_recommender_model_falls_back_to_popularity(
    tmp_path: Path, demo_shop: DemoShop, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant import wiring
    from assistant.errors import ModelMissingError

    def missing(*a: Any, **k: Any) -> Any:
        raise ModelMissingError("no fitted recommender under .aisle/recsys: run `aisle train recsys`")

    monkeypatch.setattr(wiring, "_recommender", missing)
    with caplog.at_level(logging.WARNING, logger="assistant.wiring"):
        rec = wiring.optional("recommender", lambda: wiring._recommender(None))
    assert rec is None
    assert "recommender unavailable" in caplog.text and "aisle train recsys" in caplog.text

    bot = demo_shop.assistant(tmp_path / "r.db", history=True, recommender=rec)
    evs = list(bot.stream("r1", "show me headphones", customer_id=None))
    cards = next(e for e in evs if e.type == "products").cards
    assert cards and evs[-1].text
    from assistant.tools import ToolContext, _rec_scores

    ctx = ToolContext(bot.shop, bot.store, None, None, "r1", "C0001", personalized=True)
    ids = [c.product_id for c in cards]
    assert _rec_scores(ctx, ids)[0] == bot.shop.popularity(ids)  # the recommender's score is popularity
