"""The real llama.cpp path with the tiny SmolLM2 test model (its text is nonsense; the plumbing is real)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DemoShop

from assistant.errors import ModelMissingError
from assistant.events import Done, Products, TextDelta
from assistant.settings import Settings

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed: run `make install`")


@pytest.fixture(scope="module")
def smol():
    from assistant.generate.llama import LlamaChatModel

    try:
        return LlamaChatModel.from_settings(
            Settings(generator_backend="llama", generator_model="test", llama_threads=1, llama_ctx=2048)
        )
    except ModelMissingError as exc:
        pytest.skip(str(exc))


def test_llama_streams_and_engine_stays_grounded(smol, tmp_path: Path, demo_shop: DemoShop) -> None:
    chunks = list(smol.stream([{"role": "user", "content": "Say hello."}], max_tokens=8))
    assert chunks and all(isinstance(c, str) for c in chunks)
    bot = demo_shop.assistant(tmp_path / "l.db", smol, timeout_s=60)
    bot.warm()  # evaluates the fixed system prompt once; later turns reuse that KV prefix
    evs = list(bot.stream("x", "wireless headphones under $150"))
    kinds = [e.type for e in evs]
    assert kinds.index("products") < kinds.index("text")
    done = evs[-1]
    assert isinstance(done, Done) and isinstance(evs[1], Products) and done.text
    assert any(isinstance(e, TextDelta) for e in evs)
    # Whatever the tiny model writes, the final reply names only returned products at their real prices.
    assert done.grounded and (done.backend.startswith("llama:") or done.backend == "template")
    rep = bot.generator.grounder.check(done.text, _facts_for(bot, evs[1]))
    assert not rep.unknown_products and not rep.wrong_prices


def _facts_for(bot, prods: Products):
    from assistant.generate.facts import build_facts
    from assistant.tools import ProductList

    hits = [bot.shop.hit(bot.shop.products[c.product_id]) for c in prods.cards]
    return build_facts(
        "recommend", "wireless headphones under $150", ProductList(hits, ["under $150"]), bot.shop
    )
