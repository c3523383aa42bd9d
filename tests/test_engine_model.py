"""The real default model (Qwen2.5-Coder-1.5B GGUF) through the whole engine. `make test-model`."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ModelMissingError
from assistant.settings import Settings

pytestmark = pytest.mark.model


def test_default_model_answers_grounded(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed: run `make install`")
    from assistant.fakes import demo_assistant
    from assistant.generate.llama import LlamaChatModel

    try:
        model = LlamaChatModel.from_settings(Settings(generator_backend="llama", generator_model="default"))
    except ModelMissingError as exc:
        pytest.skip(str(exc))
    bot = demo_assistant(f"sqlite:///{tmp_path / 'm.db'}", model, timeout_s=120)
    bot.warm()
    done = bot.respond("m", "wireless headphones under $150")
    assert done.grounded and done.text
    shown = bot.store.load_state("m")["dialogue"]["shown"]
    titles = [bot.shop.products[item["id"]].title for item in shown]
    if done.backend.startswith("llama:"):  # the model's own answer passed the grounding check
        assert any(t.split()[0] in done.text for t in titles)
