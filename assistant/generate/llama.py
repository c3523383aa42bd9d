"""llama.cpp backend (llama-cpp-python), streaming.

One ``Llama`` instance per Assistant. llama-cpp-python reuses the KV cache for the
longest common token prefix of consecutive prompts, so keeping the system prompt
byte-identical and first makes every turn pay only for its own short facts table.
``warm()`` evaluates that prefix once at start-up so the first shopper does not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ModelMissingError

if TYPE_CHECKING:
    from assistant.settings import Settings

Message = dict[str, str]


def resolve_model_path(settings: Settings) -> Path:
    """The GGUF file for ``settings.generator_model`` (alias or path); one registry resolves it."""
    from assistant.models import generator_model_path

    return generator_model_path(settings)


class LlamaChatModel:
    uses_facts = False

    def __init__(self, model_path: Path, *, n_threads: int = 1, n_ctx: int = 4096, seed: int = 7) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ModelMissingError(
                "llama-cpp-python is not installed: run `make install` (builds it with GGML_NATIVE=OFF)"
            ) from None
        if not Path(model_path).is_file():
            raise ModelMissingError(f"GGUF file {model_path} not found: run `make models`")
        self.name = f"llama:{Path(model_path).stem}"
        self.model_path = Path(model_path)
        self._seed = seed
        self._llm = Llama(
            model_path=str(model_path),
            n_threads=n_threads,
            n_threads_batch=n_threads,
            n_ctx=n_ctx,
            n_batch=256,
            seed=seed,
            verbose=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> LlamaChatModel:
        return cls(resolve_model_path(settings), n_threads=settings.llama_threads, n_ctx=settings.llama_ctx)

    def warm(self, system_prompt: str) -> None:
        """Evaluate the fixed system prompt once so later turns reuse its KV cache."""
        for _ in self.stream(
            [{"role": "system", "content": system_prompt}, {"role": "user", "content": "hi"}], max_tokens=1
        ):
            pass

    def stream(self, messages: list[Message], **opts: Any) -> Iterator[str]:
        chunks: Any = self._llm.create_chat_completion(
            messages=messages,  # type: ignore[arg-type]  # plain role/content dicts are what llama.cpp takes
            stream=True,
            max_tokens=int(opts.get("max_tokens", 160)),
            temperature=float(opts.get("temperature", 0.1)),
            top_p=float(opts.get("top_p", 0.9)),
            repeat_penalty=float(opts.get("repeat_penalty", 1.1)),
            seed=int(opts.get("seed", self._seed)),
            stop=opts.get("stop"),
        )
        for chunk in chunks:
            delta = chunk["choices"][0].get("delta", {}).get("content")
            if delta:
                yield delta
