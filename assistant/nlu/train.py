"""`aisle train nlu [--seed 13] [--out DIR]`: train the sentiment classifier on several review domains.

Data: clothing reviews (CC0, 3 stars = neutral), three of the four Multi-Domain Sentiment Dataset
domains (books, dvd, electronics; the fourth, data.HELD_OUT, is never loaded here), the demo
shop's reviews, and neutral shop requests (generated from the demo catalog, plus Bitext). Each
domain is split 70/15/15 (seeded, stratified): features and hyper-parameters are chosen on the
validation slices only, the test slices are for the report, and the final model is refitted on
train + validation. Review titles are added as short reviews with their review's label, so a
"Love it!" is not left to a model that has only seen paragraphs. The TF-IDF vocabulary is built
from CC0 and our own texts only (it ships; MDSD text must not). Artifacts are a few hundred KB of
.npz + JSON in ``assistant/nlu/artifacts/`` (package data).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from assistant.nlu import data as D
from assistant.nlu.linear import SoftmaxModel, fit_logreg, softmax, temperature_of
from assistant.nlu.sentiment import SentimentModel, decide
from assistant.nlu.sentiment_eval import macro_f1, recall
from assistant.nlu.tfidf import Tfidf

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DEFAULT_SEED = 13
N_GENERATED = 3000  # generated shop requests drawn (the neutral-command ones are kept)
VOCAB_SIZE = 5000
Splits = dict[str, tuple[D.Rows, D.Rows, D.Rows]]


@dataclass(frozen=True)
class Grid:
    """The settings searched on validation. Post-hoc ones (bias, band) cost no refit."""

    features: tuple[str, ...] = ("minilm", "minilm+tfidf")
    c: tuple[float, ...] = (1.0, 4.0)
    class_weight: tuple[str | None, ...] = (None, "balanced")
    # Per-row weight (mean domain size / own domain size) ** power: 0 lets the 22k clothing reviews
    # dominate, 1 gives every domain the same total weight.
    domain_power: tuple[float, ...] = (0.5, 1.0)
    neutral_bias: tuple[float, ...] = (-2.0, -1.5, -1.0, -0.5, 0.0, 0.5)  # added to the neutral logit
    neutral_band: tuple[float, ...] = (0.0, 0.1, 0.2)


@dataclass(frozen=True)
class Choice:
    features: str
    c: float
    class_weight: str | None
    domain_power: float


@dataclass(frozen=True)
class Calibration:
    temperature: float
    neutral_bias: float
    neutral_band: float
    score: float  # the mean of ``parts`` (see ``objective``)
    parts: dict[str, float]  # in-domain macro-F1, transfer macro-F1, negative recall
    per_set: dict[str, float]  # macro-F1 of each validation set ("transfer:books", ...)


@dataclass(frozen=True)
class Scored:
    """One validation set's logits under one fitted model; ``part`` says what the set measures."""

    part: str  # "in_domain" (model fitted on every domain) | "transfer" (fitted without the set's domain)
    rows: D.Rows
    z: np.ndarray


class Vectors:
    """Sentence vectors of every text of the corpus, looked up by text (embedded per domain, cached)."""

    def __init__(self, embed: D.EmbeddingCache, domains: dict[str, D.Rows]) -> None:
        self.table: dict[str, np.ndarray] = {}
        for rows in domains.values():
            for texts in (rows.texts, list(dict.fromkeys(t for t in rows.titles if t))):
                if texts:
                    self.table.update(zip(texts, embed.embed(texts), strict=True))

    def of(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.table[t] for t in texts]).astype(np.float32)


def split_domains(domains: dict[str, D.Rows], seed: int) -> Splits:
    if D.HELD_OUT in domains:
        raise ValueError(f"{D.HELD_OUT} is the held-out test domain: drop it from the training domains")
    return {name: D.three_way(rows, seed) for name, rows in domains.items()}


def train_sets(splits: Splits, with_val: bool = False) -> list[D.Rows]:
    """Training slices (plus validation slices for the final fit), each followed by its titles."""
    out: list[D.Rows] = []
    for tr, va, _ in splits.values():
        for rows in (tr, va) if with_val else (tr,):
            out += [rows, rows.short()] if rows.titles else [rows]
    return [r for r in out if len(r)]


def val_sets(splits: Splits) -> list[D.Rows]:
    """One validation set per review domain, one of all requests, one of all review titles."""
    vals = [va for _, va, _ in splits.values() if len(va)]
    reviews = [va for va in vals if va.domain not in D.REQUEST_DOMAINS]
    requests = [va for va in vals if va.domain in D.REQUEST_DOMAINS]
    titles = [va.short() for va in reviews if va.titles]
    out = reviews + ([_merge("requests", requests)] if requests else [])
    return out + ([_merge("titles", titles)] if titles else [])


def _merge(name: str, parts: list[D.Rows]) -> D.Rows:
    return D.Rows(
        name,
        "+".join(sorted({p.license for p in parts})),
        [t for p in parts for t in p.texts],
        [y for p in parts for y in p.labels],
    )


def vocab_texts(sets: list[D.Rows]) -> list[str]:
    """The texts a shipped vocabulary may come from: CC0 and our own, never MDSD or Bitext."""
    return [t for rows in sets if rows.license in D.VOCAB_LICENSES for t in rows.texts]


def sample_weights(sets: list[D.Rows], power: float) -> np.ndarray:
    """Rows of small domains count more; a domain's titles share its weight ("books:titles" is books)."""
    sizes: dict[str, int] = {}
    for rows in sets:
        key = rows.domain.split(":")[0]
        sizes[key] = sizes.get(key, 0) + len(rows)
    mean = float(np.mean(list(sizes.values())))
    return np.concatenate([np.full(len(r), (mean / sizes[r.domain.split(":")[0]]) ** power) for r in sets])


def matrix(sets: list[D.Rows], vecs: Vectors, tfidf: Tfidf | None) -> Any:
    """Features of the rows of ``sets`` in order: the embedding, TF-IDF words beside it when given."""
    texts = [t for rows in sets for t in rows.texts]
    x = vecs.of(texts)
    if tfidf is None:
        return x
    import scipy.sparse as sp

    words = sp.vstack(
        [sp.csr_matrix(tfidf.transform(texts[i : i + 2000])) for i in range(0, len(texts), 2000)]
    )
    return sp.hstack([words, sp.csr_matrix(x)]).tocsr()


def labels_of(sets: list[D.Rows]) -> list[str]:
    return [y for rows in sets for y in rows.labels]


def objective(
    labels: list[str], scored: list[Scored], t: float, bias: float, band: float
) -> tuple[float, dict[str, float], dict[str, float]]:
    """(score, parts, per-set macro-F1). The score is the mean of three parts: in-domain macro-F1,
    macro-F1 on review domains left out of the fit (the unseen-domain case this model is for), and
    negative recall over the review sets (negative turns drive the hand-off; keep finding them)."""
    shift = np.where(np.array(labels) == "neutral", bias, 0.0)
    f1: dict[str, list[float]] = {}
    neg: list[float] = []
    per_set: dict[str, float] = {}
    for s in scored:
        pred = [lab for lab, _ in decide(softmax((s.z + shift) / t), labels, band)]
        f = macro_f1(s.rows.labels, pred)
        per_set[f"{s.part}:{s.rows.domain}"] = round(f, 4)
        f1.setdefault(s.part, []).append(f)
        r = recall(s.rows.labels, pred, "negative")
        if r is not None:
            neg.append(r)
    parts = {k: float(np.mean(v)) for k, v in f1.items()} | (
        {"negative_recall": float(np.mean(neg))} if neg else {}
    )
    return float(np.mean(list(parts.values()))), parts, per_set


def calibrate(labels: list[str], scored: list[Scored], grid: Grid) -> Calibration:
    """Temperature (in-domain validation NLL), then the neutral logit bias and band with the best
    objective."""
    inside = [s for s in scored if s.part == "in_domain"]
    t = temperature_of(np.vstack([s.z for s in inside]), labels_of([s.rows for s in inside]), labels)
    best: Calibration | None = None
    for bias, band in product(grid.neutral_bias, grid.neutral_band):
        score, parts, per_set = objective(labels, scored, t, bias, band)
        if best is None or score > best.score:
            best = Calibration(
                t, bias, band, round(score, 4), {k: round(v, 4) for k, v in parts.items()}, per_set
            )
    assert best is not None
    return best


def _root(domain: str) -> str:
    return domain.split(":")[0]


class Matrices:
    """One feature set's matrices: every training row (with its domain) and every validation set."""

    def __init__(self, splits: Splits, vecs: Vectors, tfidf: Tfidf | None) -> None:
        self.sets = train_sets(splits)
        self.x = matrix(self.sets, vecs, tfidf)
        self.y = np.array(labels_of(self.sets))
        self.domain = np.concatenate([np.full(len(r), _root(r.domain)) for r in self.sets])
        self.val = [(r, matrix([r], vecs, tfidf)) for r in val_sets(splits)]
        # Each MDSD training domain in turn plays the unseen domain: fitted without it, scored on it.
        self.transfer = {
            d: [(r, matrix([r], vecs, tfidf)) for r in (splits[d][1], splits[d][1].short()) if len(r)]
            for d in splits
            if d in D.MDSD_DOMAINS
        }

    def fit(self, choice: Choice, seed: int, without: str | None = None) -> SoftmaxModel:
        keep = np.flatnonzero(self.domain != without)
        kept = [r for r in self.sets if _root(r.domain) != without]
        return fit_logreg(
            self.x[keep],
            self.y[keep].tolist(),
            choice.c,
            seed,
            choice.class_weight,
            sample_weights(kept, choice.domain_power),
        )

    def scored(self, choice: Choice, seed: int) -> tuple[list[str], list[Scored]]:
        m = self.fit(choice, seed)
        out = [Scored("in_domain", r, m.logits(x)) for r, x in self.val]
        for d, sets in self.transfer.items():
            md = self.fit(choice, seed, without=d)
            if md.labels != m.labels:
                raise ValueError(
                    f"without {d} the training rows lack a class ({md.labels}): add rows of every class"
                )
            out += [Scored("transfer", r, md.logits(x)) for r, x in sets]
        return m.labels, out


def search(
    splits: Splits, vecs: Vectors, vocab: Tfidf, grid: Grid, seed: int, progress: Any = None
) -> tuple[Choice, Calibration, list[dict[str, Any]]]:
    """Every grid point fitted on the training slices and scored on the validation sets."""
    log: list[dict[str, Any]] = []
    best: tuple[Choice, Calibration] | None = None
    for feats in grid.features:
        data = Matrices(splits, vecs, vocab if feats == "minilm+tfidf" else None)
        for c, cw, power in product(grid.c, grid.class_weight, grid.domain_power):
            t0 = time.time()
            choice = Choice(feats, c, cw, power)
            cal = calibrate(*data.scored(choice, seed), grid)
            log.append(asdict(choice) | asdict(cal) | {"seconds": round(time.time() - t0, 1)})
            if progress is not None:
                progress(json.dumps(log[-1]))
            if best is None or cal.score > best[1].score:
                best = (choice, cal)
    assert best is not None
    return best[0], best[1], log


def fit_final(
    splits: Splits, vecs: Vectors, vocab: Tfidf, choice: Choice, cal: Calibration, seed: int
) -> SentimentModel:
    """The chosen settings refitted on train + validation slices; calibration kept from validation."""
    sets = train_sets(splits, with_val=True)
    tf = vocab if choice.features == "minilm+tfidf" else None
    m = fit_logreg(
        matrix(sets, vecs, tf),
        labels_of(sets),
        choice.c,
        seed,
        choice.class_weight,
        sample_weights(sets, choice.domain_power),
    )
    m.temperature = cal.temperature
    m.class_bias = np.where(np.array(m.labels) == "neutral", cal.neutral_bias, 0.0).astype(np.float32)
    return SentimentModel(m, tf, cal.neutral_band)


def train(
    domains: dict[str, D.Rows], embed: D.EmbeddingCache, grid: Grid, seed: int, progress: Any = None
) -> tuple[SentimentModel, dict[str, Any]]:
    """Split, embed, search on validation, refit: (model, the record that goes into meta.json)."""
    splits = split_domains(domains, seed)
    vecs = Vectors(embed, domains)
    train_only = train_sets(splits)
    vocab = Tfidf.fit(vocab_texts(train_only), VOCAB_SIZE)
    choice, cal, log = search(splits, vecs, vocab, grid, seed, progress)
    model = fit_final(splits, vecs, vocab, choice, cal, seed)
    info = asdict(choice) | {
        "C": choice.c,
        "temperature": round(cal.temperature, 4),
        "neutral_bias": cal.neutral_bias,
        "neutral_band": cal.neutral_band,
        "val_score": cal.score,
        "val_parts": cal.parts,
        "val_macro_f1": cal.per_set,
        "domains": sorted(domains),
        "held_out": D.HELD_OUT,
        "vocabulary_from": sorted({r.domain for r in train_only if r.license in D.VOCAB_LICENSES}),
        "n_train": sum(len(r) for r in train_sets(splits, with_val=True)),
        "n_generated": N_GENERATED,
        "search": log,
    }
    del info["c"]
    return model, info


def _set_threads() -> None:
    # Two shared cores: one thread keeps training from starving the other engineers' jobs.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        prog="aisle train nlu", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=ARTIFACTS, help="artifact folder (default: package data)")
    ap.add_argument("--embedder", default="minilm", help="embedder spec (default: packaged MiniLM)")
    ap.add_argument("--cache", type=Path, default=Path("var/nlu-cache"), help="embedding cache ('' = none)")
    args = ap.parse_args(argv)
    _set_threads()
    from knowledge.embed import make_embedder

    t0 = time.time()
    emb = D.EmbeddingCache(make_embedder(args.embedder), args.cache if str(args.cache) else None)
    model, info = train(D.training_domains(N_GENERATED, args.seed), emb, Grid(), args.seed, print)
    model.save(args.out)
    meta = {"seed": args.seed, "embedder": emb.embedder.name, "sentiment": info}
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps({k: v for k, v in info.items() if k != "search"}, indent=1))
    print(f"wrote {args.out} ({time.time() - t0:.0f}s)")
    return 0
