"""The LangChain BaseRetriever adapter returns Documents that keep the record ids."""

from __future__ import annotations

from knowledge.embed import HashingEmbedder
from knowledge.retrieve import Filters, Retriever
from knowledge.testing import tiny_catalog


def test_adapter_returns_documents_with_ids() -> None:
    from langchain_core.retrievers import BaseRetriever

    from knowledge.langchain import AisleRetriever

    cat = tiny_catalog()
    r = Retriever(cat, HashingEmbedder(64), None)  # lexical only is enough for the adapter
    lc = AisleRetriever(retriever=r, k=3, filters=Filters(in_stock=True))
    assert isinstance(lc, BaseRetriever)
    docs = lc.invoke("coffee maker")
    by_id = {p.id: p for p in cat.products}
    assert 0 < len(docs) <= 3 and all(by_id[d.metadata["id"]].stock for d in docs)
    assert docs[0].metadata["kind"] == "product" and docs[0].page_content
    pol = AisleRetriever(retriever=r, kind="policy", k=1).invoke("free shipping")
    assert pol[0].metadata["id"] == "shipping"
    pid = cat.reviews[0].product_id
    rev = AisleRetriever(retriever=r, kind="review", product_id=pid).invoke("battery")
    assert rev and all(d.metadata["product_id"] == pid for d in rev)


def test_importing_knowledge_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, knowledge.retrieve, knowledge.catalog, knowledge.index, knowledge.snapshot, "
        "aisle.bench.retrieval; "
        "bad = [m for m in ('torch', 'chromadb', 'sentence_transformers', 'langchain_core', 'gradio') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
