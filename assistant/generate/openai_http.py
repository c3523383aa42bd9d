"""OpenAI-compatible chat completions over HTTP (vLLM, llama.cpp server, hosted providers), streaming SSE.

The httpx transport is injectable so tests run against ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx

from assistant.errors import ConfigError, ModelMissingError

if TYPE_CHECKING:
    from assistant.settings import Settings

Message = dict[str, str]


class OpenAIChatModel:
    uses_facts = False

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.name = f"openai:{model}"
        self.model = model
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=5.0),
            transport=transport,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, transport: httpx.BaseTransport | None = None
    ) -> OpenAIChatModel:
        if not settings.openai_base_url:
            raise ConfigError(
                "the openai backend needs a server: set AISLE_OPENAI_BASE_URL (e.g. http://127.0.0.1:8080/v1)"
            )
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        return cls(
            settings.openai_base_url,
            settings.openai_model,
            api_key=key,
            timeout_s=settings.generation_timeout_s,
            transport=transport,
        )

    def stream(self, messages: list[Message], **opts: Any) -> Iterator[str]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "max_tokens": int(opts.get("max_tokens", 160)),
            "temperature": float(opts.get("temperature", 0.1)),
        }
        if opts.get("stop"):
            body["stop"] = opts["stop"]
        try:
            with self._client.stream("POST", "/chat/completions", json=body) as resp:
                if resp.status_code == 404:
                    raise ModelMissingError(
                        f"{self._client.base_url}/chat/completions not found: check AISLE_OPENAI_BASE_URL "
                        "(it usually ends in /v1) and AISLE_OPENAI_MODEL"
                    )
                if resp.status_code >= 400:
                    resp.read()
                    raise ConfigError(
                        f"the chat server answered HTTP {resp.status_code}: {resp.text[:200]}; "
                        "check AISLE_OPENAI_BASE_URL / AISLE_OPENAI_API_KEY"
                    )
                for line in resp.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    choices = json.loads(data).get("choices") or [{}]
                    delta = (choices[0].get("delta") or {}).get("content")
                    if delta:
                        yield delta
        except httpx.TransportError as exc:
            raise ConfigError(
                f"cannot reach the chat server at {self._client.base_url} ({exc}): "
                "start it or fix AISLE_OPENAI_BASE_URL"
            ) from None

    def close(self) -> None:
        self._client.close()
