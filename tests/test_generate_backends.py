"""ChatModel backends: fake, template, OpenAI-compatible HTTP (MockTransport), factory, prompts."""

from __future__ import annotations

import json

import httpx
import pytest

from assistant.errors import ConfigError, ModelMissingError
from assistant.generate.base import ChatModel, FakeChatModel, TemplateChatModel, make_chat_model
from assistant.generate.openai_http import OpenAIChatModel
from assistant.generate.prompts import PromptSet
from assistant.settings import Settings

MSGS = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


def _sse(chunks: list[str]) -> bytes:
    lines = [f"data: {json.dumps({'choices': [{'delta': {'content': c}}]})}\n\n" for c in chunks]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


def test_fake_streams_words_and_records_calls() -> None:
    m = FakeChatModel(["one two three", "second reply"])
    assert isinstance(m, ChatModel)
    assert "".join(m.stream(MSGS)) == "one two three"
    assert list(m.stream(MSGS)) == ["second", " reply"]
    assert len(m.calls) == 2


def test_openai_backend_streams_sse_and_sends_request() -> None:
    seen: dict[str, object] = {}

    def handler(req: httpx.Request) -> httpx.Response:
        seen["url"] = str(req.url)
        seen["auth"] = req.headers.get("authorization")
        seen["body"] = json.loads(req.content)
        return httpx.Response(
            200, content=_sse(["Hel", "lo", " there"]), headers={"content-type": "text/event-stream"}
        )

    m = OpenAIChatModel("http://llm.local/v1", "qwen", api_key="k", transport=httpx.MockTransport(handler))
    out = list(m.stream(MSGS, max_tokens=7))
    assert out == ["Hel", "lo", " there"]
    assert seen["url"] == "http://llm.local/v1/chat/completions"
    assert seen["auth"] == "Bearer k"
    body = seen["body"]
    assert (
        isinstance(body, dict)
        and body["stream"] is True
        and body["max_tokens"] == 7
        and body["messages"] == MSGS
    )


def test_openai_backend_errors_name_the_fix() -> None:
    m = OpenAIChatModel("http://llm.local", "x", transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    with pytest.raises(ModelMissingError, match="AISLE_OPENAI_BASE_URL"):
        list(m.stream(MSGS))
    m = OpenAIChatModel(
        "http://llm.local", "x", transport=httpx.MockTransport(lambda r: httpx.Response(401, text="bad key"))
    )
    with pytest.raises(ConfigError, match="401"):
        list(m.stream(MSGS))
    with pytest.raises(ConfigError, match="AISLE_OPENAI_BASE_URL"):
        OpenAIChatModel.from_settings(Settings(generator_backend="openai"))


def test_factory_picks_backend_by_settings() -> None:
    assert isinstance(make_chat_model(Settings(generator_backend="template")), TemplateChatModel)
    assert isinstance(make_chat_model(Settings(generator_backend="fake")), FakeChatModel)
    m = make_chat_model(Settings(generator_backend="openai", openai_base_url="http://127.0.0.1:9/v1"))
    assert m.name == "openai:default"


def test_transformers_backend_missing_dir_is_clear() -> None:
    with pytest.raises(ModelMissingError, match="AISLE_GENERATOR_MODEL"):
        make_chat_model(Settings(generator_backend="transformers", generator_model="./no-such-model-dir"))


def test_prompts_are_strict() -> None:
    p = PromptSet("answer")
    with pytest.raises(Exception, match="undefined"):
        p.render("user")  # missing variables must fail loudly, not render blanks
    with pytest.raises(ConfigError, match="prompts"):
        PromptSet("no_such_prompt_file")
    assert "FACTS" in p.render("system")
