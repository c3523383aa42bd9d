"""The demo shop through the real pipeline pieces (hashing embedder): ingest, reviews, aspects, policies."""

from __future__ import annotations

import pytest

from aisle.cli import main as aisle


@pytest.fixture
def demo_env(settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AISLE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("AISLE_EMBEDDER", "hashing")
    return settings


def test_ingest_demo_then_search_reviews_and_policies(demo_env, capsys) -> None:  # type: ignore[no-untyped-def]
    from assistant.components import retriever_from_settings
    from knowledge.aspects import describe
    from knowledge.demo import load_demo
    from knowledge.retrieve import Filters
    from knowledge.snapshot import load_catalog

    assert aisle(["ingest", "--demo", "--no-progress"]) == 0
    out = capsys.readouterr().out
    shop = load_demo()
    assert f"{len(shop.products)} docs: {len(shop.products)} embedded" in out
    cat = load_catalog(demo_env.data_dir)
    assert len(cat.products) == len(shop.products) and len(cat.reviews) == len(shop.reviews)
    r = retriever_from_settings(demo_env, cat)
    assert not r.degraded
    hits = r.search("noise cancelling headphones", Filters(price_max=100), k=5)
    assert hits and all(cat.product(h.id).price <= 100 for h in hits)  # type: ignore[union-attr, operator]
    pid = max(
        {rv.product_id for rv in cat.reviews}, key=lambda p: sum(rv.product_id == p for rv in cat.reviews)
    )
    rev = r.reviews_for(pid, "how is the battery?", k=3)
    assert rev and all(h.metadata["product_id"] == pid for h in rev)
    summary = r.aspect_summary(pid)
    assert summary and describe(summary)[0].count(" of ") == 1
    pol = r.policies("how many days do I have to return something", k=2)
    assert pol[0].id == "returns" and pol[0].metadata["topic"] == "returns"


def test_aspect_sentiment_reads_the_sentences() -> None:
    from knowledge.aspects import sentence_sentiment, summarize
    from knowledge.records import Review

    reviews = [
        Review("a", "p", 2, "It is way too loud. The battery is great though."),
        Review("b", "p", 1, "Very noisy when it runs."),
        Review("c", "p", 5, "Whisper quiet and sturdy."),
    ]
    s = summarize(reviews)
    assert (
        s["noise"]["negative"] == 2
        and s["noise"]["positive"] == 1
        and s["noise"]["review_ids"] == ["a", "b", "c"]
    )
    assert s["battery"]["positive"] == 1
    assert sentence_sentiment("It is not quiet at all.") == "negative"
