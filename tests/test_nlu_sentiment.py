"""Sentiment: metrics, training on several domains, the held-out domain, the shipped vocabulary's
sources, the report's shape, and the shipped model on odd and real input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ModelMissingError
from assistant.nlu import data as D
from assistant.nlu import train as T
from assistant.nlu.sentiment import ARTIFACTS, HANDOFF_LEVEL, SentimentModel, frustration, load_sentiment
from assistant.nlu.sentiment_eval import bars, binary_accuracy, figures, macro_f1, recall, report
from knowledge.embed import make_embedder

TINY = T.Grid(
    features=("minilm", "minilm+tfidf"),
    c=(1.0,),
    class_weight=(None,),
    domain_power=(1.0,),
    neutral_bias=(0.0, -0.5),
    neutral_band=(0.0, 0.2),
)


def _reviews(
    domain: str, license: str, pos: list[str], neg: list[str], neu: list[str] | None = None, n: int = 30
) -> D.Rows:
    rng = np.random.default_rng(len(domain))
    texts, labels, titles = [], [], []
    groups = [("positive", pos), ("negative", neg)] + ([("neutral", neu)] if neu else [])
    for i in range(n):
        for label, words in groups:
            texts.append(f"{' '.join(rng.choice(words, 4))} {domain} thing {i}")
            labels.append(label)
            titles.append(words[i % len(words)])
    return D.Rows(domain, license, texts, labels, titles)


def _tiny_domains() -> dict[str, D.Rows]:
    return {
        "clothing": _reviews(
            "clothing",
            "cc0",
            ["great", "love", "perfect"],
            ["awful", "broken", "poor"],
            ["okay", "fine", "average"],
        ),
        "books": _reviews(
            "books", "none-stated", ["superb", "wonderful", "great"], ["boring", "awful", "dull"]
        ),
        "chat": D.Rows(
            "chat", "ours", [f"where is my order number {i}" for i in range(30)], ["neutral"] * 30
        ),
    }


@pytest.fixture(scope="module")
def tiny() -> tuple[SentimentModel, dict, D.EmbeddingCache]:  # type: ignore[type-arg]
    emb = D.EmbeddingCache(make_embedder("hashing-64"), None)
    model, info = T.train(_tiny_domains(), emb, TINY, seed=13)
    return model, info, emb


# --- metrics ---------------------------------------------------------------------------------------
def test_macro_f1_known_values() -> None:
    assert macro_f1(["a", "a", "b", "b"], ["a", "a", "b", "b"]) == 1.0
    assert macro_f1(["a", "a", "b", "b"], ["a", "b", "b", "b"]) == pytest.approx((2 / 3 + 0.8) / 2)
    # Macro over the gold classes present: a neutral call on a binary set is a miss, not a third class.
    assert macro_f1(["positive", "negative"], ["neutral", "negative"]) == pytest.approx((0.0 + 1.0) / 2)
    assert macro_f1([], []) == 0.0


def test_binary_accuracy_and_recall_known_values() -> None:
    gold = ["positive", "negative", "neutral", "negative"]
    assert binary_accuracy(gold, [0.3, -0.2, 0.9, 0.0]) == pytest.approx(2 / 3)  # 0 reads as positive
    assert binary_accuracy(["neutral"], [0.1]) is None
    assert recall(gold, ["positive", "neutral", "neutral", "negative"], "negative") == 0.5
    assert recall(gold, gold, "missing") is None
    f = figures(gold, ["positive", "negative", "neutral", "negative"], [0.5, -0.5, 0.0, -0.5])
    assert f["macro_f1"] == 1.0 and f["called_neutral"] == 0.25 and f["negative_recall"] == 1.0


def test_bars_compare_model_and_vader_on_the_same_rows() -> None:
    held = {
        "model": {"macro_f1": 0.80, "binary_accuracy": 0.85},
        "vader": {"macro_f1": 0.68, "binary_accuracy": 0.70},
    }
    assert bars(held) == {"macro_f1_margin": 0.12, "macro_f1_bar_met": True, "binary_bar_met": True}
    held["model"] = {"macro_f1": 0.75, "binary_accuracy": 0.69}
    got = bars(held)
    assert not got["macro_f1_bar_met"] and not got["binary_bar_met"]


# --- training ------------------------------------------------------------------------------------
def test_training_smoke_on_a_tiny_subset(tiny, tmp_path: Path) -> None:  # noqa: ANN001
    model, info, emb = tiny
    texts = ["great love perfect great", "awful broken poor awful", "where is my order number 3"]
    got = model.predict(emb.embed(texts), texts)
    assert [g[0] for g in got] == ["positive", "negative", "neutral"]
    assert all(-1.0 <= s <= 1.0 for _, s in got)
    assert {"features", "C", "neutral_band", "neutral_bias", "val_macro_f1", "search"} <= set(info)
    assert len(info["search"]) == 2  # one entry per fitted grid point
    model.save(tmp_path)
    back = SentimentModel.load(tmp_path)
    assert back.predict(emb.embed(texts), texts) == got and back.neutral_band == model.neutral_band


def test_splits_are_seeded_disjoint_and_decided_by_the_text() -> None:
    rows = _tiny_domains()["clothing"]
    tr, va, te = D.three_way(rows, seed=13)
    assert len(tr) + len(va) + len(te) == len(rows) and min(len(tr), len(va), len(te)) > 0
    assert not (
        set(tr.texts) & set(va.texts) or set(tr.texts) & set(te.texts) or set(va.texts) & set(te.texts)
    )
    assert D.three_way(rows, seed=13)[2].texts == te.texts != D.three_way(rows, seed=14)[2].texts
    # A text keeps its slice when the other rows change (the generated requests vary between runs).
    fewer = rows.take(list(range(0, len(rows), 2)))
    assert set(D.three_way(fewer, seed=13)[2].texts) == set(te.texts) & set(fewer.texts)


def test_validation_has_a_set_per_review_domain_plus_requests_and_titles() -> None:
    sets = T.val_sets(T.split_domains(_tiny_domains(), 13))
    assert [s.domain for s in sets] == ["clothing", "books", "requests", "titles"]


def test_small_domains_weigh_as_much_as_large_ones_at_power_one() -> None:
    big = D.Rows("big", "cc0", ["x"] * 90, ["positive"] * 90)
    small = D.Rows("small", "cc0", ["y"] * 10, ["negative"] * 10)
    titles = D.Rows("small:titles", "cc0", ["z"] * 10, ["negative"] * 10)
    w = T.sample_weights([big, small, titles], 1.0)
    assert w[:90].sum() == pytest.approx(w[90:].sum())  # the small domain's titles share its weight
    assert np.allclose(T.sample_weights([big, small], 0.0), 1.0)


# --- the held-out domain ---------------------------------------------------------------------------
def test_the_held_out_domain_cannot_be_trained_on() -> None:
    domains = _tiny_domains() | {D.HELD_OUT: _reviews(D.HELD_OUT, "none-stated", ["good"], ["bad"])}
    with pytest.raises(ValueError, match="held-out"):
        T.split_domains(domains, 13)


def test_the_shipped_model_records_its_domains_without_the_held_out_one() -> None:
    meta = json.loads((ARTIFACTS / "meta.json").read_text())
    assert "intent" not in meta
    sent = meta["sentiment"]
    assert sent["held_out"] == D.HELD_OUT and D.HELD_OUT not in sent["domains"]
    assert {"clothing", "books", "dvd", "electronics", "demo", "chat"} <= set(sent["domains"])


@pytest.mark.data
def test_no_held_out_review_is_in_the_training_domains(shared_data_dir) -> None:  # noqa: ANN001
    domains = D.training_domains(T.N_GENERATED, 13)
    assert D.HELD_OUT not in domains
    held = set(D.load_held_out().texts)
    assert len(held) > 1900
    assert not [t for rows in domains.values() for t in rows.texts if t in held]


# --- the shipped vocabulary ----------------------------------------------------------------------
def test_vocabulary_texts_come_from_cc0_and_our_own_rows_only() -> None:
    sets = T.train_sets(T.split_domains(_tiny_domains(), 13))
    texts = set(T.vocab_texts(sets))
    assert texts == {t for r in sets if r.license in {"cc0", "ours"} for t in r.texts}
    assert not texts & {t for r in sets if r.domain == "books" for t in r.texts}  # MDSD reviews: never
    assert not T.vocab_texts([D.Rows("support", "cdla-sharing", ["a b"], ["neutral"])])


def test_the_shipped_vocabulary_names_only_allowed_sources() -> None:
    meta = json.loads((ARTIFACTS / "meta.json").read_text())["sentiment"]
    if meta["features"] == "minilm":
        assert not (ARTIFACTS / "sentiment_vocab.json").exists()
        return
    assert {d.split(":")[0] for d in meta["vocabulary_from"]} <= {"clothing", "demo", "chat"}


@pytest.mark.data
def test_no_shipped_term_comes_from_mdsd_alone(shared_data_dir) -> None:  # noqa: ANN001
    path = ARTIFACTS / "sentiment_vocab.json"
    if not path.exists():
        pytest.skip("the shipped model uses no word features")
    terms = set(json.loads(path.read_text()))
    ours = _grams(
        D.load_clothing().texts + D.load_demo_reviews().texts + D.generated_requests(T.N_GENERATED, 13).texts
    )
    mdsd = _grams([t for rows in D.load_mdsd(D.MDSD_DOMAINS).values() for t in rows.texts])
    assert not sorted(terms - ours & mdsd)[:20]


def _grams(texts: list[str]) -> set[str]:
    out: set[str] = set()
    for text in texts:
        toks = re.findall(r"(?u)\b\w\w+\b", text.lower())
        out.update(toks)
        out.update(f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False))
    return out


# --- the report ----------------------------------------------------------------------------------
def test_report_skips_with_a_reason_without_the_datasets(monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    monkeypatch.setenv("AISLE_SHARED_DATA", str(tmp_path / "absent"))
    got = report(make_embedder("hashing-384").embed)
    assert set(got) == {"skipped"} and "AISLE_SHARED_DATA" in got["skipped"]


@pytest.mark.data
def test_report_shape_on_a_few_rows(shared_data_dir) -> None:  # noqa: ANN001
    got = report(
        make_embedder("hashing-384").embed, limit=12
    )  # the shipped model, wrong embeddings: shape only
    assert got["held_out_domain"] == D.HELD_OUT
    for key in ("held_out", "held_out_titles"):
        assert got[key]["n"] == 12 and set(got[key]) == {"n", "model", "vader"}
        assert {"macro_f1", "binary_accuracy", "negative_recall", "called_neutral"} <= set(got[key]["model"])
    assert set(got["bars"]) == {"macro_f1_margin", "macro_f1_bar_met", "binary_bar_met"}
    assert {"clothing", "books", "dvd", "electronics", "demo", "chat", "support", "clothing:titles"} <= set(
        got["domains"]
    )
    assert D.HELD_OUT not in got["domains"]
    assert got["predict_ms_beyond_embedding"]["p95"] < 5.0


# --- the shipped model on odd and real input ---------------------------------------------------------
ODD = [
    "",
    "   ",
    "\x00\x01",
    "🙂🙂🙂",
    "a" * 100_000,
    "ÅÄÖ ünïcødé",
    "\ud800 lone surrogate",
    "<b>5/5</b>",
    "!!!???",
    "1234567890",
    "NOT GOOD",
    "ok",
]


@pytest.mark.parametrize("text", ODD)
def test_odd_input_never_raises(text: str) -> None:
    read = load_sentiment(make_embedder("hashing-384").embed)
    label, score = read(text)
    assert label in D.LABELS and -1.0 <= score <= 1.0


def test_an_embedder_of_the_wrong_width_is_refused_with_the_fix() -> None:
    read = load_sentiment(make_embedder("hashing-64").embed)
    with pytest.raises(ModelMissingError, match="aisle train nlu"):
        read("great")


def test_frustration_needs_a_run_of_negative_turns() -> None:
    assert frustration([-0.9], [False]) < HANDOFF_LEVEL
    assert frustration([-0.9, -0.9, -0.9], [True, True, False]) >= HANDOFF_LEVEL
    assert frustration([0.8, 0.5], [False, False]) == 0.0


@pytest.fixture(scope="module")
def real_read():  # type: ignore[no-untyped-def]
    try:
        emb = make_embedder("minilm")
        emb.embed(["warm up"])
    except Exception as exc:  # noqa: BLE001 - the packaged model missing is a skip, not a failure
        pytest.skip(f"packaged MiniLM unavailable: {exc}")
    return load_sentiment(emb.embed)


@pytest.mark.parametrize(
    "text",
    [
        "Love it!",
        "Great product, works perfectly.",
        "Five stars, would buy again",
        "Perfect fit and so comfortable",
    ],
)
def test_clearly_positive_short_reviews_are_positive(real_read, text: str) -> None:  # noqa: ANN001
    assert real_read(text)[0] == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "Broke after two days, total waste of money.",
        "Terrible quality, returning it",
        "Very disappointed, it stopped working",
    ],
)
def test_clearly_negative_reviews_are_negative(real_read, text: str) -> None:  # noqa: ANN001
    label, score = real_read(text)
    assert label == "negative" and score < -0.5


@pytest.mark.parametrize(
    "text",
    [
        "do you have running shoes under $50?",
        "which one is cheaper?",
        "where is my order 12345",
        "compare the first two",
    ],
)
def test_plain_requests_are_not_read_as_anger(real_read, text: str) -> None:  # noqa: ANN001
    assert real_read(text)[1] > -0.5
