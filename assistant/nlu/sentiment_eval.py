"""Sentiment figures: pure metrics, and ``report(embed)`` for ``aisle bench nlu``.

The report scores the shipped model and VADER (compound score, the usual ±0.05 neutral band) on
the same rows: the review domain held out of training (all of it, and its titles alone as short
reviews), and the test slice of every training domain (slices that training never fits or tunes on).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.nlu import data as D
from assistant.nlu.sentiment import ARTIFACTS, SentimentModel

Embed = Callable[[list[str]], np.ndarray]
VADER_BAND = 0.05  # VADER's documented neutral band on its compound score
BATCH = 256  # texts per embedding call in the report: bounded memory, few calls


# --- metrics (pure) ------------------------------------------------------------------------------
def macro_f1(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Macro-F1 over the gold classes present (a predicted class absent from gold still costs precision)."""
    f1s = []
    for lab in sorted(set(y_true)):
        tp = sum(t == lab and p == lab for t, p in zip(y_true, y_pred, strict=True))
        fp = sum(t != lab and p == lab for t, p in zip(y_true, y_pred, strict=True))
        fn = sum(t == lab and p != lab for t, p in zip(y_true, y_pred, strict=True))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else 0.0


def recall(y_true: Sequence[str], y_pred: Sequence[str], label: str) -> float | None:
    hits = [p == label for t, p in zip(y_true, y_pred, strict=True) if t == label]
    return float(np.mean(hits)) if hits else None


def binary_accuracy(y_true: Sequence[str], scores: Sequence[float]) -> float | None:
    """Negative vs positive on the rows whose gold label is polar: score >= 0 reads as positive."""
    pairs = [(t, s) for t, s in zip(y_true, scores, strict=True) if t != "neutral"]
    if not pairs:
        return None
    return float(np.mean([(s >= 0) == (t == "positive") for t, s in pairs]))


def figures(y_true: Sequence[str], labels: Sequence[str], scores: Sequence[float]) -> dict[str, Any]:
    r = {k: recall(y_true, labels, k) for k in D.LABELS}
    return {
        "macro_f1": round(macro_f1(y_true, labels), 4),
        "binary_accuracy": _round(binary_accuracy(y_true, scores)),
        "negative_recall": _round(r["negative"]),
        "positive_recall": _round(r["positive"]),
        "neutral_recall": _round(r["neutral"]),
        "called_neutral": round(float(np.mean([p == "neutral" for p in labels])), 4) if labels else 0.0,
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


# --- the two systems -----------------------------------------------------------------------------
def vader() -> Callable[[list[str]], list[tuple[str, float]]]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()

    def read(texts: list[str]) -> list[tuple[str, float]]:
        out = []
        for t in texts:
            c = float(sia.polarity_scores(t)["compound"])
            out.append(("positive" if c >= VADER_BAND else "negative" if c <= -VADER_BAND else "neutral", c))
        return out

    return read


def model_reader(model: SentimentModel, embed: Embed) -> Callable[[list[str]], list[tuple[str, float]]]:
    def read(texts: list[str]) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        for i in range(0, len(texts), BATCH):
            chunk = texts[i : i + BATCH]
            out.extend(model.predict(np.asarray(embed(chunk), dtype=np.float32), chunk))
        return out

    return read


def compare(
    rows: D.Rows, systems: dict[str, Callable[[list[str]], list[tuple[str, float]]]]
) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows)}
    for name, read in systems.items():
        got = read(rows.texts)
        out[name] = figures(rows.labels, [g[0] for g in got], [g[1] for g in got])
    return out


def predict_cost_ms(model: SentimentModel, embed: Embed, n: int = 200) -> dict[str, float]:
    """Per-message cost of the classifier alone (embedding excluded): p50 / p95 in milliseconds."""
    text = "The lid cracked after two weeks and support never answered, really disappointed."
    vec = np.asarray(embed([text]), dtype=np.float32)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        model.predict(vec, [text])
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "p50": round(float(np.percentile(times, 50)), 3),
        "p95": round(float(np.percentile(times, 95)), 3),
    }


# --- the report ----------------------------------------------------------------------------------
def report(
    embed: Embed, *, model: SentimentModel | None = None, folder: Path | None = None, limit: int | None = None
) -> dict[str, Any]:
    """Held-out-domain and per-domain figures for the shipped model and VADER on the same rows.

    ``limit`` caps the rows of each set (tests); ``model``/``folder`` score another model than the
    shipped one. Without ../shared/data the report is ``{"skipped": reason}``.
    """
    if not D.have_shared_data():
        return {
            "skipped": f"needs the review datasets in {D.shared_data_dir()} "
            "(put ../shared/data beside the repository or set AISLE_SHARED_DATA)"
        }
    meta = _meta(folder)
    model = model or SentimentModel.load(folder)
    systems = {"model": model_reader(model, embed), "vader": vader()}
    held = _cap(D.load_held_out(), limit)
    out: dict[str, Any] = {
        "held_out_domain": D.HELD_OUT,
        "held_out": compare(held, systems),
        "held_out_titles": compare(_cap(held.short(), limit), systems),
    }
    out["bars"] = bars(out["held_out"])
    out["domains"] = {
        name: compare(_cap(test, limit), systems)
        for name, test in domain_test_slices(meta.get("seed", 13), meta.get("n_generated", 3000)).items()
    }
    out["predict_ms_beyond_embedding"] = predict_cost_ms(model, embed)
    out["model"] = {
        k: meta[k]
        for k in (
            "features",
            "domains",
            "vocabulary_from",
            "C",
            "class_weight",
            "domain_power",
            "neutral_bias",
            "neutral_band",
        )
        if k in meta
    }
    return out


def bars(held: dict[str, Any]) -> dict[str, Any]:
    """The issue's bars: macro-F1 >= VADER + 0.10 and binary accuracy >= VADER's, on the same rows."""
    m, v = held["model"], held["vader"]
    margin = round(m["macro_f1"] - v["macro_f1"], 4)
    return {
        "macro_f1_margin": margin,
        "macro_f1_bar_met": margin >= 0.10,
        "binary_bar_met": (m["binary_accuracy"] or 0.0) >= (v["binary_accuracy"] or 0.0),
    }


def domain_test_slices(seed: int, n_generated: int) -> dict[str, D.Rows]:
    """The test slice of every training domain (the same seeded split as training), titles alongside."""
    out: dict[str, D.Rows] = {}
    for name, rows in D.training_domains(n_generated, seed).items():
        test = D.three_way(rows, seed)[2]
        out[name] = test
        if test.titles:
            out[f"{name}:titles"] = test.short()
    return out


def _cap(rows: D.Rows, limit: int | None) -> D.Rows:
    if limit is None or len(rows) <= limit:
        return rows
    idx = np.random.default_rng(0).permutation(len(rows))[:limit]
    return rows.take(sorted(int(i) for i in idx))


def _meta(folder: Path | None) -> dict[str, Any]:
    path = (folder or ARTIFACTS) / "meta.json"
    if not path.is_file():
        return {}
    meta = json.loads(path.read_text())
    sent = meta.get("sentiment") if isinstance(meta.get("sentiment"), dict) else {}
    return {"seed": meta.get("seed", 13), **sent}
