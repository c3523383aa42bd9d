"""`aisle doctor`: versions, model files, settings, and a short smoke of every component."""

from __future__ import annotations

import argparse
import importlib.metadata as md
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from assistant.errors import AisleError
from assistant.settings import Settings, load_settings

PACKAGES = (
    "torch",
    "transformers",
    "sentence-transformers",
    "chromadb",
    "gradio",
    "llama-cpp-python",
    "langchain-core",
    "fastapi",
    "sqlalchemy",
    "bm25s",
    "scikit-learn",
    "pydantic-settings",
)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float


def _run(name: str, fn: Callable[[], str]) -> Check:
    t0 = time.perf_counter()
    try:
        detail, ok = fn(), True
    except Exception as exc:  # a doctor reports every failure instead of stopping at the first
        detail, ok = f"{type(exc).__name__}: {exc}".splitlines()[0], False
    return Check(name, ok, detail, time.perf_counter() - t0)


def _versions() -> str:
    found = []
    for pkg in PACKAGES:
        try:
            found.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            found.append(f"{pkg} MISSING")
    missing = [f for f in found if f.endswith("MISSING")]
    if missing:
        raise AisleError(f"{', '.join(missing)}: run `make install`")
    return f"python {platform.python_version()}; " + ", ".join(found)


def _data_dir(settings: Settings) -> str:
    return f"{settings.ensure_data_dir().resolve()} writable"


def _database(settings: Settings) -> str:
    from sqlalchemy import text

    from assistant.store import Store

    store = Store.from_settings(settings)
    try:
        with store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        n = len(store.list_customers(limit=100000))
    finally:
        store.close()
    return f"{settings.db_url.split('://')[0]} ok, {n} customers"


def _embedding(settings: Settings) -> str:
    from knowledge.embed import make_embedder

    emb = make_embedder(settings.embedder)
    emb.embed(["warm up"])
    t0 = time.perf_counter()
    vecs = emb.embed(
        ["wireless headphones under $100", "wireless headphones for running", "espresso machine"]
    )
    ms = (time.perf_counter() - t0) * 1000
    near, far = float(vecs[0] @ vecs[1]), float(vecs[0] @ vecs[2])
    if vecs.shape[0] != 3 or not near > far:
        raise AisleError(f"embedding smoke: similar texts scored {near:.2f}, unrelated {far:.2f}")
    return (
        f"{emb.name}, dim {vecs.shape[1]}, 3 texts in {ms:.0f} ms, similar {near:.2f} > unrelated {far:.2f}"
    )


def _chroma(settings: Settings) -> str:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from knowledge.embed import HashingEmbedder

    emb = HashingEmbedder(64)
    with tempfile.TemporaryDirectory() as tmp:
        client = chromadb.PersistentClient(path=tmp, settings=ChromaSettings(anonymized_telemetry=False))
        col = client.create_collection("doctor", embedding_function=None, metadata={"hnsw:space": "cosine"})
        docs = ["quiet wireless headphones", "espresso machine"]
        col.add(ids=["a", "b"], documents=docs, embeddings=emb.embed(docs).tolist())
        res = col.query(query_embeddings=emb.embed(["headphones"]).tolist(), n_results=1)
        if res["ids"][0] != ["a"]:
            raise AisleError(f"chroma returned {res['ids']}")
    return f"chromadb {chromadb.__version__} embedded query ok ({settings.chroma_mode} mode configured)"


def _llama_smoke() -> str:
    from llama_cpp import Llama
    from llama_cpp.llama_types import CreateChatCompletionResponse

    from assistant.models import smollm2_path

    llm = Llama(model_path=str(smollm2_path()), n_ctx=256, n_threads=1, verbose=False)
    t0 = time.perf_counter()
    # Without stream=True the call returns a single response; the stubs have no overload saying so.
    out = cast(
        CreateChatCompletionResponse,
        llm.create_chat_completion(messages=[{"role": "user", "content": "Say hello."}], max_tokens=8),
    )
    text = out["choices"][0]["message"]["content"] or ""
    n = out["usage"]["completion_tokens"]
    if n < 1:
        raise AisleError("llama.cpp produced no tokens")
    return (
        f"SmolLM2-135M via llama.cpp: {n} tokens in {time.perf_counter() - t0:.2f} s ({text.strip()[:30]!r})"
    )


def _default_model(settings: Settings) -> str:
    from assistant.models import SPLIT_MODELS, models_dir, verify

    model = SPLIT_MODELS["default"]
    path = models_dir(settings) / model.filename
    if not path.is_file():
        raise AisleError(f"{model.title} not assembled at {path}: run `make models`")
    if not verify(settings, "default"):
        raise AisleError(
            f"{path} does not match sha256 {model.sha256[:12]}…: delete it and run `make models`"
        )
    return f"{model.title}: {path} ({path.stat().st_size / 1e6:.0f} MB), sha256 {model.sha256[:12]}… verified"


def _configured_generator(settings: Settings) -> str:
    from assistant.models import generator_model_path

    if settings.generator_backend in ("template", "fake"):
        return f"backend {settings.generator_backend} (no model file needed)"
    return f"backend {settings.generator_backend}, model {generator_model_path(settings)}"


def _settings_summary(settings: Settings) -> str:
    shown = settings.model_dump(exclude={"agent_token", "admin_token", "openai_api_key"})
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def run_checks(settings: Settings, skip_models: bool = False) -> list[Check]:
    checks = [
        _run("versions", _versions),
        _run("settings", lambda: _settings_summary(settings)),
        _run("data dir", lambda: _data_dir(settings)),
        _run("database", lambda: _database(settings)),
        _run("chroma", lambda: _chroma(settings)),
        _run("embedding smoke", lambda: _embedding(settings)),
        _run("llama.cpp smoke", _llama_smoke),
        _run("configured generator", lambda: _configured_generator(settings)),
    ]
    if not skip_models:
        checks.append(_run("default model", lambda: _default_model(settings)))
    return checks


def cli(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="aisle doctor", description=__doc__)
    p.add_argument("--skip-models", action="store_true", help="don't require the 1.1 GB default model")
    args = p.parse_args(argv)
    settings = load_settings()
    checks = run_checks(settings, skip_models=args.skip_models)
    for c in checks:
        mark = "ok  " if c.ok else "FAIL"
        print(f"[{mark}] {c.name:<22} {c.seconds:5.2f}s  {c.detail}")
    bad = [c for c in checks if not c.ok]
    print(f"\n{len(checks) - len(bad)} of {len(checks)} checks passed")
    return 1 if bad else 0
