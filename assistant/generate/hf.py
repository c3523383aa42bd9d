"""transformers backend: a hub id or a local directory, for users with a GPU or hub access."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ModelMissingError

if TYPE_CHECKING:
    from assistant.settings import Settings

Message = dict[str, str]


class TransformersChatModel:
    uses_facts = False

    def __init__(self, model_id: str) -> None:
        local = Path(model_id).expanduser()
        if ("/" not in model_id or model_id.startswith((".", "/", "~"))) and not local.is_dir():
            raise ModelMissingError(
                f"transformers model {model_id!r} not found: give a local directory or a hub id "
                "in AISLE_GENERATOR_MODEL"
            )
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise ModelMissingError("transformers/torch are not installed: pip install -e .") from None
        self.name = f"transformers:{model_id}"
        device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self._tok = AutoTokenizer.from_pretrained(model_id)
            self._model = AutoModelForCausalLM.from_pretrained(model_id).to(device)  # type: ignore[arg-type]
        except OSError as exc:
            raise ModelMissingError(
                f"cannot load {model_id!r} ({exc}); offline runs need a local directory"
            ) from None
        self._device = device

    @classmethod
    def from_settings(cls, settings: Settings) -> TransformersChatModel:
        return cls(settings.generator_model)

    def stream(self, messages: list[Message], **opts: Any) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        encoded: Any = self._tok.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt"
        )
        ids = encoded.to(self._device)
        streamer = TextIteratorStreamer(self._tok, skip_prompt=True, skip_special_tokens=True)
        temperature = float(opts.get("temperature", 0.1))
        kwargs = {
            "input_ids": ids,
            "max_new_tokens": int(opts.get("max_tokens", 160)),
            "streamer": streamer,
            "do_sample": temperature > 0,
            "temperature": max(temperature, 1e-3),
        }
        thread = threading.Thread(target=self._model.generate, kwargs=kwargs, daemon=True)
        thread.start()
        for text in streamer:
            if text:
                yield text
        thread.join()
