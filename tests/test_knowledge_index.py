"""Indexing: incremental by content hash, atomic swaps, malformed imports leave the old index alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aisle.cli import main as aisle
from knowledge.catalog import Catalog
from knowledge.embed import HashingEmbedder
from knowledge.index import Indexer
from knowledge.records import Product
from knowledge.snapshot import load_catalog
from knowledge.testing import tiny_catalog
from knowledge.vectorstore import ChromaStore, MemoryStore


class CountingEmbedder(HashingEmbedder):
    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__(64)
        self.texts = 0
        self.fail_after = fail_after

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.fail_after is not None and self.texts + len(texts) > self.fail_after:
            raise RuntimeError("embedder crashed")
        self.texts += len(texts)
        return super().embed(texts)


@pytest.fixture(params=["memory", "chroma"])
def store(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    return MemoryStore() if request.param == "memory" else ChromaStore.embedded(str(tmp_path / "chroma"))


def test_rerun_embeds_nothing_and_changes_are_incremental(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cat = tiny_catalog()
    emb = CountingEmbedder()
    ix = Indexer(store, emb, tmp_path)
    first = {s.kind: s for s in ix.update(cat)}
    assert first["product"].new == 60 and emb.texts == first["product"].total + first["review"].total + 3
    live = ix.live()

    emb.texts = 0
    again = ix.update(cat)
    assert emb.texts == 0 and all(s.embedded == 0 and s.removed == 0 for s in again)
    assert ix.live() == live  # nothing changed: no new collections either

    changed = Product(**{**cat.products[0].to_dict(), "price": 1.0})  # metadata only: the vector is reused
    retitled = Product(**{**cat.products[2].to_dict(), "title": "Renamed thing"})  # text changed: re-embedded
    cat2 = Catalog(
        [changed, retitled] + cat.products[3:],
        [r for r in cat.reviews if r.product_id != cat.products[1].id],
        cat.policies,
    )
    emb.texts = 0
    s = {x.kind: x for x in ix.update(cat2, kinds=("product",))}["product"]
    assert (s.new, s.changed, s.removed, s.unchanged, s.embedded) == (0, 2, 1, 57, 1)
    assert emb.texts == 1
    new_live = ix.live()
    assert new_live["product"] != live["product"] and new_live["review"] == live["review"]
    assert live["product"] not in store.collections()  # the old collection is dropped after the swap
    got = store.get(new_live["product"], [changed.id])
    assert got.metadatas[0]["price"] == 1.0 and store.count(new_live["product"]) == 59


def test_a_failed_build_leaves_the_previous_index_untouched(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cat = tiny_catalog()
    Indexer(store, CountingEmbedder(), tmp_path).update(cat)
    pointer = (tmp_path / "index" / "pointer.json").read_text()
    before = sorted(store.collections())
    more = Catalog(
        cat.products + [Product(id=f"N{i}", title=f"New thing {i}", category="X") for i in range(100)],
        cat.reviews,
        cat.policies,
    )
    with pytest.raises(RuntimeError, match="crashed"):
        Indexer(store, CountingEmbedder(fail_after=10), tmp_path).update(more)
    assert (tmp_path / "index" / "pointer.json").read_text() == pointer
    assert sorted(store.collections()) == before  # the half-built collection is gone


def test_changing_the_embedder_reembeds(tmp_path: Path) -> None:
    store = MemoryStore()
    cat = tiny_catalog()
    Indexer(store, CountingEmbedder(), tmp_path).update(cat, kinds=("policy",))
    other = CountingEmbedder()
    other.name = "another-model"
    s = Indexer(store, other, tmp_path).update(cat, kinds=("policy",))[0]
    assert s.changed == 3 and other.texts == 3


# ---------------------------------------------------------------- through `aisle ingest`


@pytest.fixture
def env(settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AISLE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AISLE_EMBEDDER", "hashing")
    return settings


def _good_csv(path: Path) -> Path:
    path.write_text(
        "id,title,price,category\n1,Quiet fan,20,Home > Fans\n2,Desk lamp,35.5,Home > Lamps\n"
        "3,Stapler,,Office\n"
    )
    return path


MALFORMED = {
    "missing_column.csv": ("sku,title,price\n1,Fan,3\n", []),
    "bad_price.csv": ("id,title,price\n1,Fan,3\n2,Lamp,cheap\n", ["--strict"]),
    "duplicate_id.csv": ("id,title,price\n1,Fan,3\n1,Lamp,4\n", ["--strict"]),
    "broken_line.jsonl": ('{"id": "1", "title": "Fan"}\n{"id": "2", "title": "La\n', ["--strict"]),
    "all_bad.csv": ("id,title,price\n1,,3\n", []),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_catalog_is_reported_and_changes_nothing(env, tmp_path: Path, name: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert aisle(["ingest", str(_good_csv(tmp_path / "good.csv")), "--no-progress"]) == 0
    data = Path(env.data_dir)
    pointer = (data / "index" / "pointer.json").read_text()
    snapshot = (data / "catalog" / "products.jsonl").read_text()
    capsys.readouterr()
    text, flags = MALFORMED[name]
    bad = tmp_path / name
    bad.write_text(text)
    assert aisle(["ingest", str(bad), "--no-progress", *flags]) == 1
    err = capsys.readouterr().err
    expected = {
        "missing_column.csv": "'id'",
        "bad_price.csv": "row 2, field 'price'",
        "duplicate_id.csv": "duplicate id '1'",
        "broken_line.jsonl": "row 2, field '<line>': broken JSON",
        "all_bad.csv": "no valid products",
    }[name]
    assert expected in err
    assert (data / "index" / "pointer.json").read_text() == pointer
    assert (data / "catalog" / "products.jsonl").read_text() == snapshot


def test_ingest_then_index_reports_and_reuses(env, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert aisle(["ingest", str(_good_csv(tmp_path / "good.csv")), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "3 embedded (3 new, 0 changed)" in out and "3 loaded, 0 rows skipped" in out
    assert [p.id for p in load_catalog(env.data_dir).products] == ["1", "2", "3"]
    assert load_catalog(env.data_dir).products[2].price is None
    assert aisle(["index", "--no-progress"]) == 0
    assert "product       3 docs: 0 embedded" in capsys.readouterr().out
    pointer = json.loads((Path(env.data_dir) / "index" / "pointer.json").read_text())
    assert pointer["embedder"] == "hashing-256" and set(pointer["collections"]) == {
        "product",
        "review",
        "policy",
    }


def test_index_from_another_embedder_is_not_queried(env, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    from assistant.components import retriever_from_settings
    from assistant.settings import load_settings

    assert aisle(["ingest", str(_good_csv(tmp_path / "good.csv")), "--no-progress"]) == 0
    other = load_settings(data_dir=env.data_dir, embedder="hashing-64")
    r = retriever_from_settings(other)
    assert r.degraded and "index --rebuild" in caplog.text
    assert r.search("quiet fan", k=1)[0].id == "1"


@pytest.mark.data
def test_office_catalog_ingest_and_rerun(env, shared_data_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    items = shared_data_dir / "amazon-office" / "Office.item.json"
    assert aisle(["ingest", str(items), "--format", "amazon", "--no-progress"]) == 0
    assert "2420 docs: 2420 embedded (2420 new" in capsys.readouterr().out
    assert aisle(["ingest", str(items), "--format", "amazon", "--no-progress"]) == 0
    assert "2420 docs: 0 embedded (0 new, 0 changed), 0 removed, 2420 unchanged" in capsys.readouterr().out


class BulkEmbedder(HashingEmbedder):
    """Records the batches its bulk path receives (the indexer must prefer it over ``embed``)."""

    def __init__(self) -> None:
        super().__init__(64)
        self.batches: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        raise AssertionError("indexing must use embed_bulk when the embedder has one")

    def embed_bulk(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return super().embed(texts)


def test_length_sorted_bulk_embedding_keeps_each_vector_on_its_document(tmp_path: Path) -> None:
    from knowledge.docs import product_docs
    from knowledge.index import EMBED_BATCH

    cat = tiny_catalog()
    store, emb = MemoryStore(), BulkEmbedder()
    ix = Indexer(store, emb, tmp_path)
    ix.update(cat, kinds=("product",))
    lens = [len(t) for b in emb.batches for t in b]
    assert lens == sorted(lens) and max(len(b) for b in emb.batches) <= EMBED_BATCH  # sorted: little padding
    got = store.get(ix.live()["product"], with_embeddings=True)
    docs = {d.id: d for d in product_docs(cat.products)}
    want = HashingEmbedder(64).embed([docs[i].embed_text for i in got.ids])
    assert got.embeddings is not None and np.allclose(got.embeddings, want)
