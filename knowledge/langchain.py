"""LangChain adapter: a ``BaseRetriever`` over ``knowledge.retrieve.Retriever`` (langchain-core only).

LangChain stays at this edge: nothing else in Aisle imports it.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from knowledge.retrieve import Filters, Hit, Kind, Retriever


def hit_to_document(hit: Hit) -> Document:
    return Document(
        page_content=hit.text,
        id=hit.id,
        metadata={**hit.metadata, "id": hit.id, "kind": hit.kind, "score": hit.score},
    )


class AisleRetriever(BaseRetriever):
    """Search products, reviews or policies; every Document carries the record id in ``metadata["id"]``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any  # knowledge.retrieve.Retriever (Any keeps pydantic away from its internals)
    kind: Kind = "product"
    k: int = 5
    filters: Filters | None = None
    product_id: str | None = None  # with kind="review": only this product's reviews

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        r: Retriever = self.retriever
        k = int(kwargs.get("k", self.k))
        if self.kind == "review" and self.product_id:
            hits = r.reviews_for(self.product_id, query, k=k)
        elif self.kind == "policy":
            hits = r.policies(query, k=k)
        else:
            hits = r.search(query, kwargs.get("filters", self.filters), k=k, kind=self.kind)
        return [hit_to_document(h) for h in hits]
