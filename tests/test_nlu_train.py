"""Training code smoke (tiny subset, hashing embedder), data splits and the Bitext label mapping."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from assistant.nlu import data as D
from assistant.nlu.train import binary_accuracy, macro_f1, train_intent, train_sentiment
from knowledge.embed import make_embedder

SHOPPING_ONLY = ("greeting", "recommend", "search", "compare", "product_question", "privacy", "goodbye", "out_of_scope")


def test_shopping_set_is_big_enough_and_uses_the_taxonomy() -> None:
    rows = D.load_shopping()
    counts = Counter(y for _, y in rows)
    assert set(counts) == set(D.INTENTS)
    assert all(counts[i] >= 40 for i in SHOPPING_ONLY), counts
    assert len({t.lower() for t, _ in rows}) == len(rows)  # no duplicates that could leak into test


def test_blind_test_set_is_frozen_complete_and_never_trained_on() -> None:
    blind = D.load_shopping_blind()
    counts = Counter(y for _, y in blind)
    assert set(counts) == set(D.INTENTS) and min(counts.values()) >= 25, counts
    assert D.blind_sha256() == D.BLIND_TEST_SHA256  # edited after it was frozen: the figure is no longer blind
    trained = {t.strip().lower() for t, _ in D.load_shopping() + D.load_shopping_extra()}
    assert not [t for t, _ in blind if t.strip().lower() in trained]
    assert len({t.lower() for t, _ in blind}) == len(blind)


@pytest.mark.data
def test_extra_training_rows_are_training_only(shared_data_dir) -> None:  # noqa: ANN001
    from assistant.nlu.train import intent_splits

    extra = D.load_shopping_extra()
    assert extra and {y for _, y in extra} <= set(D.INTENTS)
    old = {t.lower() for t, _ in D.load_shopping()}
    assert not [t for t, _ in extra if t.lower() in old]  # no duplicate of a split row
    _, ssplit, _, _ = intent_splits(13)
    assert {t for t, _ in extra} <= set(ssplit.train_text) and not {t for t, _ in extra} & set(ssplit.test_text)


def test_stratified_split_is_seeded_disjoint_and_per_label() -> None:
    labels = ["a"] * 50 + ["b"] * 10
    tr, te = D.stratified_split(labels, 0.2, seed=13)
    tr2, te2 = D.stratified_split(labels, 0.2, seed=13)
    assert np.array_equal(te, te2) and np.array_equal(tr, tr2)
    assert not set(tr) & set(te) and len(tr) + len(te) == 60
    assert Counter(labels[i] for i in te) == {"a": 10, "b": 2}
    assert not np.array_equal(te, D.stratified_split(labels, 0.2, seed=14)[1])


def test_training_smoke_on_a_small_subset() -> None:
    rows = D.load_shopping()
    emb = make_embedder("hashing-512")
    keep = [r for r in rows if r[1] in ("greeting", "goodbye", "order_status", "search")]
    x = emb.embed([t for t, _ in keep])
    y = [lab for _, lab in keep]
    m, info = train_intent(x, y, seed=13)
    assert set(m.labels) == set(y) and info["C"] > 0 and info["temperature"] > 0
    assert macro_f1(y, m.predict(x)) > 0.8  # fits its own training data
    p = m.predict_proba(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_sentiment_training_smoke_and_binary_accuracy() -> None:
    texts = (["great lovely perfect"] * 20 + ["awful broken terrible"] * 20 + ["okay fine average"] * 20)
    y = ["positive"] * 20 + ["negative"] * 20 + ["neutral"] * 20
    x = make_embedder("hashing-64").embed(texts)
    m, _ = train_sentiment(x, y, seed=13)
    assert macro_f1(y, m.predict(x)) == 1.0
    assert binary_accuracy(m, x, y) == 1.0
    extra = make_embedder("hashing-64").embed(["where is my order please"] * 10)
    m2, info = train_sentiment(x, y, seed=13, neutral_extra=extra)
    assert info["n_train"] == 70 and m2.predict(extra[:1]) == ["neutral"]


def test_macro_f1_known_values() -> None:
    assert macro_f1(["a", "a", "b", "b"], ["a", "a", "b", "b"]) == 1.0
    assert macro_f1(["a", "a", "b", "b"], ["a", "b", "b", "b"]) == pytest.approx((2 / 3 + 0.8) / 2)


@pytest.mark.data
def test_every_bitext_intent_has_a_home(shared_data_dir) -> None:  # noqa: ANN001
    bt = D.load_bitext()
    assert len(set(bt.fine)) == 27 and set(bt.fine) == set(D.BITEXT_TO_INTENT)
    assert set(D.BITEXT_TO_INTENT.values()) <= set(D.INTENTS)
    spans = [(t, s) for t, sp in zip(bt.text, bt.order_spans, strict=True) for s in sp]
    assert len(spans) == 473
    assert all(t[a:b].isdigit() for t, (a, b) in spans)  # gold spans trimmed to the id itself


def test_numpy_tfidf_matches_sklearn(tmp_path) -> None:  # noqa: ANN001
    from sklearn.feature_extraction.text import TfidfVectorizer

    from assistant.nlu.tfidf import Tfidf

    docs = [t for t, _ in D.load_shopping()]
    ours = Tfidf.fit(docs, max_features=300)
    ours.save(tmp_path / "v")
    back = Tfidf.load(tmp_path / "v")
    ref = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=300, sublinear_tf=True).fit(docs)
    np.testing.assert_allclose(back.transform(docs[:50]), ref.transform(docs[:50]).toarray(), atol=1e-6)
