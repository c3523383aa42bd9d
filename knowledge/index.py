"""Build and update the vector indexes: incremental by content hash, swapped in atomically.

Every update is built aside in a fresh collection (unchanged vectors are copied, never re-embedded;
changed and new documents are embedded), then one pointer file names the live collections. A
failure anywhere before the pointer swap leaves the previous index untouched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.catalog import Catalog
from knowledge.docs import KINDS, Doc, docs_for
from knowledge.embed import Embedder
from knowledge.vectorstore import VectorStore

log = logging.getLogger(__name__)
EMBED_BATCH = 32  # texts per forward pass; sorted by length first, so a pass pads little
RECORDS = {"product": "products", "review": "reviews", "policy": "policies"}


@dataclass
class IndexSummary:
    kind: str
    collection: str
    total: int
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0  # new + changed whose embedded text changed
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.kind:<8} {self.total:>6} docs: {self.embedded} embedded "
            f"({self.new} new, {self.changed} changed), "
            f"{self.removed} removed, {self.unchanged} unchanged -> {self.collection} ({self.seconds:.1f} s)"
        )


class Pointer:
    """The JSON file naming the live collection per kind; replaced atomically with os.replace."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {}
        return dict(json.loads(self.path.read_text(encoding="utf-8")))

    def write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


def pointer_for(data_dir: Path) -> Pointer:
    return Pointer(Path(data_dir) / "index" / "pointer.json")


def _ehash(d: Doc, embedder: str) -> str:
    return hashlib.sha1(f"{embedder}\n{d.embed_text}".encode()).hexdigest()


def _next_name(prefix: str, kind: str, current: str | None) -> str:
    n = 0
    if current:
        m = re.search(r"-(\d+)$", current)
        n = int(m.group(1)) if m else 0
    return f"{prefix}-{kind}-{n + 1}"


def _embed(embedder: Embedder, docs: list[Doc], progress: bool, desc: str) -> np.ndarray:
    """Vectors for docs, in docs' order. Texts go shortest first so each pass pads to similar lengths
    (on Office descriptions this halves the cost against passes of mixed lengths), through the
    embedder's bulk path where it has one (``SentenceTransformerEmbedder.embed_bulk``)."""
    from tqdm import tqdm

    encode = getattr(embedder, "embed_bulk", None) or embedder.embed
    order = sorted(range(len(docs)), key=lambda i: len(docs[i].embed_text))
    out: np.ndarray | None = None
    bar = tqdm(total=len(docs), desc=desc, unit="doc", disable=not progress or not docs, file=sys.stderr)
    for s in range(0, len(order), EMBED_BATCH):
        idx = order[s : s + EMBED_BATCH]
        vecs = np.asarray(encode([docs[i].embed_text for i in idx]), dtype=np.float32)
        if out is None:
            out = np.zeros((len(docs), vecs.shape[1]), np.float32)
        out[idx] = vecs
        bar.update(len(idx))
    bar.close()
    return out if out is not None else np.zeros((0, embedder.dim), np.float32)


class Indexer:
    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        data_dir: Path,
        prefix: str = "aisle",
        progress: bool = False,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.pointer = pointer_for(data_dir)
        self.prefix = prefix
        self.progress = progress

    def live(self) -> dict[str, str]:
        data = self.pointer.read()
        return {k: v for k, v in data.get("collections", {}).items()}

    def _stage(
        self, kind: str, docs: list[Doc], current: str | None, rebuild: bool
    ) -> tuple[str | None, IndexSummary]:
        """Build the next collection for one kind aside; returns (its name, or None if nothing
        changed; the summary)."""
        t0 = time.perf_counter()
        ids = [d.id for d in docs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate {kind} document ids: validate the catalog before indexing")
        old: dict[str, tuple[str, str]] = {}
        if current and not rebuild:
            got = self.store.get(current)
            old = {
                i: (str(m.get("hash", "")), str(m.get("ehash", "")))
                for i, m in zip(got.ids, got.metadatas, strict=True)
            }
        want = {d.id: (d.hash, _ehash(d, self.embedder.name)) for d in docs}
        new = [d for d in docs if d.id not in old]
        changed = [d for d in docs if d.id in old and old[d.id] != want[d.id]]
        keep = [d for d in docs if d.id in old and old[d.id] == want[d.id]]
        removed = [i for i in old if i not in want]
        # A changed record whose embedded text is the same (e.g. a new price) keeps its vector.
        reuse = [d for d in changed if old[d.id][1] == want[d.id][1]]
        todo = new + [d for d in changed if old[d.id][1] != want[d.id][1]]
        summary = IndexSummary(
            kind,
            current or "",
            len(docs),
            len(new),
            len(changed),
            len(removed),
            len(keep),
            embedded=len(todo),
        )
        if current and not (new or changed or removed) and not rebuild:
            summary.seconds = time.perf_counter() - t0
            return None, summary
        name = _next_name(self.prefix, kind, current)
        self.store.drop(name)  # a leftover from an interrupted build
        copy = keep + reuse
        if copy and current:  # kept and reused docs exist only where a live collection does
            got = self.store.get(current, [d.id for d in copy], with_embeddings=True)
            assert got.embeddings is not None, "the store ignored with_embeddings=True"
            by_id = dict(zip(got.ids, got.embeddings, strict=True))
            for s in range(0, len(copy), 2000):
                part = copy[s : s + 2000]
                self._put(name, part, np.stack([by_id[d.id] for d in part]), want)
        if todo:
            self._put(name, todo, _embed(self.embedder, todo, self.progress, f"embedding {kind}s"), want)
        if self.store.count(name) != len(docs):
            raise RuntimeError(
                f"{kind} index {name} holds {self.store.count(name)} docs, expected {len(docs)}"
            )
        summary.collection = name
        summary.seconds = time.perf_counter() - t0
        return name, summary

    def _put(self, name: str, docs: list[Doc], vecs: np.ndarray, want: dict[str, tuple[str, str]]) -> None:
        metas = [{**d.meta, "hash": want[d.id][0], "ehash": want[d.id][1]} for d in docs]
        self.store.upsert(name, [d.id for d in docs], vecs, [d.text for d in docs], metas)

    def update(
        self, catalog: Catalog, kinds: tuple[str, ...] = KINDS, rebuild: bool = False
    ) -> list[IndexSummary]:
        live = self.live()
        staged: dict[str, str] = {}
        summaries = []
        try:
            for kind in kinds:
                docs = docs_for(kind, getattr(catalog, RECORDS[kind]))
                name, summary = self._stage(kind, docs, live.get(kind), rebuild)
                summaries.append(summary)
                if name:
                    staged[kind] = name
        except BaseException:
            for name in staged.values():
                self.store.drop(name)
            for kind in kinds:  # the half-built collection of the kind that failed
                cand = _next_name(self.prefix, kind, live.get(kind))
                if cand not in staged.values():
                    self.store.drop(cand)
            raise
        if staged:
            data = self.pointer.read()
            data["collections"] = {**live, **staged}
            data["embedder"] = self.embedder.name
            data["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            self.pointer.write(data)  # the swap: readers switch to the new collections here
            for kind, name in staged.items():
                if live.get(kind) and live[kind] != name:
                    self.store.drop(live[kind])
        return summaries
