"""VectorStore protocol with Chroma (embedded or server) and an in-memory fake.

Callers pass embeddings themselves (from ``knowledge.embed``), so Chroma never loads its own
default embedding function (which would try to download a model). Chroma types stay in here.
Filters use a small Chroma-compatible dict language: ``{"$and": [...]}``, ``{"$or": [...]}``,
``{field: value}`` and ``{field: {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte"|"$in"|"$nin": v}}``.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from knowledge.errors import ConfigError

Where = dict[str, Any]
BATCH = 1000


@dataclass(frozen=True)
class StoredHit:
    id: str
    distance: float  # cosine distance: 0 = same direction
    document: str
    metadata: dict[str, Any]
    embedding: np.ndarray | None = None


@dataclass(frozen=True)
class Stored:
    ids: list[str]
    metadatas: list[dict[str, Any]]
    embeddings: np.ndarray | None = None
    documents: list[str] | None = None


@runtime_checkable
class VectorStore(Protocol):
    def upsert(
        self,
        collection: str,
        ids: list[str],
        embeddings: np.ndarray,
        documents: list[str],
        metadatas: list[dict[str, Any]],
    ) -> None: ...

    def query(
        self,
        collection: str,
        embedding: np.ndarray,
        k: int,
        where: Where | None = None,
        with_embeddings: bool = False,
        with_payload: bool = True,
    ) -> list[StoredHit]:
        """Nearest k; ``with_payload=False`` skips documents/metadata (callers holding the catalog need
        only ids and distances, and fetching the payload triples Chroma's query time)."""
        ...

    def get(
        self,
        collection: str,
        ids: list[str] | None = None,
        with_embeddings: bool = False,
        with_documents: bool = False,
    ) -> Stored: ...

    def delete(self, collection: str, ids: list[str]) -> None: ...

    def count(self, collection: str) -> int: ...

    def collections(self) -> list[str]: ...

    def drop(self, collection: str) -> None: ...


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
    "$in": lambda v, a: v in a,
    "$nin": lambda v, a: v not in a,
}


def matches_where(meta: dict[str, Any], where: Where | None) -> bool:
    """Evaluate the filter language on one metadata dict (a missing field never matches a condition)."""
    if not where:
        return True
    for key, cond in where.items():
        if key == "$and":
            if not all(matches_where(meta, c) for c in cond):
                return False
            continue
        if key == "$or":
            if not any(matches_where(meta, c) for c in cond):
                return False
            continue
        ops = cond if isinstance(cond, dict) else {"$eq": cond}
        if key not in meta:
            return False
        v = meta[key]
        for op, arg in ops.items():
            if not _OPS[op](v, arg):
                return False
    return True


class MemoryStore:
    """Brute-force cosine search in numpy: the fake for unit tests (same contract as Chroma)."""

    def __init__(self) -> None:
        self._cols: dict[str, dict[str, tuple[np.ndarray, str, dict[str, Any]]]] = {}

    def upsert(
        self,
        collection: str,
        ids: list[str],
        embeddings: np.ndarray,
        documents: list[str],
        metadatas: list[dict[str, Any]],
    ) -> None:
        col = self._cols.setdefault(collection, {})
        for i, e, d, m in zip(
            ids, np.asarray(embeddings, dtype=np.float32), documents, metadatas, strict=True
        ):
            col[i] = (e, d, dict(m))

    def query(
        self,
        collection: str,
        embedding: np.ndarray,
        k: int,
        where: Where | None = None,
        with_embeddings: bool = False,
        with_payload: bool = True,
    ) -> list[StoredHit]:
        col = self._cols.get(collection, {})
        items = [(i, v) for i, v in col.items() if matches_where(v[2], where)]
        if not items or k <= 0:
            return []
        mat = np.stack([v[0] for _, v in items])
        sims = mat @ np.asarray(embedding, dtype=np.float32)
        order = np.argsort(-sims, kind="stable")[:k]
        return [
            StoredHit(
                items[j][0],
                float(1.0 - sims[j]),
                items[j][1][1],
                dict(items[j][1][2]),
                items[j][1][0] if with_embeddings else None,
            )
            for j in order
        ]

    def get(
        self,
        collection: str,
        ids: list[str] | None = None,
        with_embeddings: bool = False,
        with_documents: bool = False,
    ) -> Stored:
        col = self._cols.get(collection, {})
        keys = [i for i in (ids if ids is not None else list(col)) if i in col]
        embs = np.stack([col[i][0] for i in keys]) if with_embeddings and keys else None
        docs = [col[i][1] for i in keys] if with_documents else None
        return Stored(keys, [dict(col[i][2]) for i in keys], embs, docs)

    def delete(self, collection: str, ids: list[str]) -> None:
        col = self._cols.get(collection, {})
        for i in ids:
            col.pop(i, None)

    def count(self, collection: str) -> int:
        return len(self._cols.get(collection, {}))

    def collections(self) -> list[str]:
        return list(self._cols)

    def drop(self, collection: str) -> None:
        self._cols.pop(collection, None)


class ChromaStore:
    """Chroma behind the VectorStore protocol; embedded (PersistentClient) or server (HttpClient)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._cache: dict[str, Any] = {}

    @classmethod
    def embedded(cls, path: Path | str) -> ChromaStore:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        Path(path).mkdir(parents=True, exist_ok=True)
        return cls(
            chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
        )

    @classmethod
    def server(cls, host: str, port: int) -> ChromaStore:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        try:
            client = chromadb.HttpClient(
                host=host, port=port, settings=ChromaSettings(anonymized_telemetry=False)
            )
            client.heartbeat()
        except Exception as exc:
            raise ConfigError(
                f"cannot reach the Chroma server at {host}:{port} ({type(exc).__name__}): start it with "
                f"`chroma run --path DIR --host {host} --port {port}` or set AISLE_CHROMA_MODE=embedded"
            ) from None
        return cls(client)

    def _col(self, name: str) -> Any:
        col = self._cache.get(name)
        if col is None:
            # embedding_function=None: we always pass vectors, and Chroma's default EF would download a model.
            col = self._client.get_or_create_collection(
                name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
            self._cache[name] = col
        return col

    def upsert(
        self,
        collection: str,
        ids: list[str],
        embeddings: np.ndarray,
        documents: list[str],
        metadatas: list[dict[str, Any]],
    ) -> None:
        col = self._col(collection)
        emb = np.asarray(embeddings, dtype=np.float32)
        for s in range(0, len(ids), BATCH):
            col.upsert(
                ids=list(ids[s : s + BATCH]),
                embeddings=emb[s : s + BATCH],
                documents=list(documents[s : s + BATCH]),
                metadatas=[dict(m) for m in metadatas[s : s + BATCH]],
            )

    def query(
        self,
        collection: str,
        embedding: np.ndarray,
        k: int,
        where: Where | None = None,
        with_embeddings: bool = False,
        with_payload: bool = True,
    ) -> list[StoredHit]:
        col = self._col(collection)
        n = min(k, col.count())
        if n <= 0:
            return []
        include = ["distances"] + (["metadatas", "documents"] if with_payload else [])
        include += ["embeddings"] if with_embeddings else []
        res = col.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)],
            n_results=n,
            where=where or None,
            include=include,
        )
        embs = res.get("embeddings")
        docs = res.get("documents") if with_payload else None
        metas = res.get("metadatas") if with_payload else None
        out = []
        for j, i in enumerate(res["ids"][0]):
            e = np.asarray(embs[0][j], dtype=np.float32) if with_embeddings and embs is not None else None
            out.append(
                StoredHit(
                    i,
                    float(res["distances"][0][j]),
                    (docs[0][j] or "") if docs else "",
                    dict(metas[0][j] or {}) if metas else {},
                    e,
                )
            )
        return out

    def get(
        self,
        collection: str,
        ids: list[str] | None = None,
        with_embeddings: bool = False,
        with_documents: bool = False,
    ) -> Stored:
        col = self._col(collection)
        include = (
            ["metadatas"]
            + (["embeddings"] if with_embeddings else [])
            + (["documents"] if with_documents else [])
        )
        all_ids: list[str] = []
        metas: list[dict[str, Any]] = []
        embs: list[np.ndarray] = []
        docs: list[str] = []
        total = col.count() if ids is None else len(ids)
        for s in range(0, total, BATCH):
            kw = {"ids": list(ids[s : s + BATCH])} if ids is not None else {"offset": s, "limit": BATCH}
            res = col.get(include=include, **kw)
            all_ids += res["ids"]
            metas += [dict(m or {}) for m in res["metadatas"]]
            if with_embeddings and len(res["ids"]):
                embs.append(np.asarray(res["embeddings"], dtype=np.float32))
            if with_documents:
                docs += [d or "" for d in res["documents"]]
        emb = np.concatenate(embs) if embs else (np.zeros((0, 0), np.float32) if with_embeddings else None)
        return Stored(all_ids, metas, emb, docs if with_documents else None)

    def delete(self, collection: str, ids: list[str]) -> None:
        col = self._col(collection)
        for s in range(0, len(ids), BATCH):
            col.delete(ids=list(ids[s : s + BATCH]))

    def count(self, collection: str) -> int:
        return int(self._col(collection).count())

    def collections(self) -> list[str]:
        return [c if isinstance(c, str) else c.name for c in self._client.list_collections()]

    def drop(self, collection: str) -> None:
        self._cache.pop(collection, None)
        with contextlib.suppress(Exception):  # already gone: dropping is idempotent
            self._client.delete_collection(collection)
