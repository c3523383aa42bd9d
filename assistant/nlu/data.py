"""Sentiment training / test data: review domains, neutral chat requests, seeded splits, an embedding cache.

The public datasets are read from ``../shared/data`` (or ``AISLE_SHARED_DATA``) and never copied
into the repository. Every row set carries its source's terms (``license``): the shipped TF-IDF
vocabulary may only be built from ``VOCAB_LICENSES`` texts (the Multi-Domain Sentiment Dataset has
no stated license: train and test with it locally, never ship text from it), and SIMMC is never
loaded here at all (non-commercial).
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.errors import DataError

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
CLOTHING_FILE = "clothing-reviews/WomensClothingE-CommerceReviews.parquet"
MDSD_FILE = "review-sentiment/mdsd_reviews.jsonl.gz"
BITEXT_FILE = "bitext-support/Bitext_Sample_Customer_Support_Training_Dataset_3.5MB.csv"
MDSD_DOMAINS: tuple[str, ...] = ("books", "dvd", "electronics", "kitchen_&_housewares")
# The unseen-domain test: never trained on, never used to choose anything; read once by the report.
HELD_OUT = "kitchen_&_housewares"
REQUEST_DOMAINS = frozenset({"chat", "support"})  # neutral shop requests, not reviews
VOCAB_LICENSES = frozenset({"cc0", "ours"})  # texts that may shape a shipped artifact (the vocabulary)
# Bitext intents whose messages carry no feeling of their own (complaints, reviews and calls for a
# human do: they are left out of the neutral examples).
BITEXT_NEUTRAL = frozenset(
    {
        "track_order",
        "change_order",
        "place_order",
        "cancel_order",
        "check_cancellation_fee",
        "get_refund",
        "track_refund",
        "check_refund_policy",
        "delivery_options",
        "delivery_period",
        "set_up_shipping_address",
        "change_shipping_address",
        "check_payment_methods",
        "check_invoice",
        "get_invoice",
        "delete_account",
        "edit_account",
        "create_account",
        "switch_account",
        "recover_password",
        "newsletter_subscription",
    }
)
# Generated parser messages whose commands are plain requests (no complaint, hand-off or chit-chat).
NEUTRAL_COMMANDS = frozenset(
    {
        "FindProducts",
        "Refine",
        "Rank",
        "AskProduct",
        "Compare",
        "CheckStock",
        "PolicyQuestion",
        "OrderStatus",
        "CancelOrder",
        "ReturnItem",
        "ProvideDetails",
        "Privacy",
        "OutOfScope",
    }
)


@dataclass(frozen=True)
class Rows:
    """Labelled texts of one domain. ``titles`` are the short headlines (or "") of the same rows."""

    domain: str
    license: str  # "cc0" | "ours" | "cdla-sharing" | "none-stated"
    texts: list[str]
    labels: list[str]
    titles: list[str] = field(default_factory=list)

    def take(self, idx: np.ndarray | list[int]) -> Rows:
        titles = [self.titles[i] for i in idx] if self.titles else []
        return Rows(
            self.domain, self.license, [self.texts[i] for i in idx], [self.labels[i] for i in idx], titles
        )

    def unique(self) -> Rows:
        """The first row of each distinct text (a repeated review must not sit in train and test at once)."""
        first = list({t: i for i, t in reversed(list(enumerate(self.texts)))}.values())
        return self.take(sorted(first))

    def short(self) -> Rows:
        """The rows' titles alone, as short reviews with the rating's label (rows without a title dropped)."""
        keep = [i for i, t in enumerate(self.titles) if t.strip()]
        return Rows(
            f"{self.domain}:titles",
            self.license,
            [self.titles[i] for i in keep],
            [self.labels[i] for i in keep],
        )

    def __len__(self) -> int:
        return len(self.texts)


def shared_data_dir() -> Path:
    env = os.environ.get("AISLE_SHARED_DATA")
    if env:
        return Path(env)
    return (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()


def have_shared_data() -> bool:
    return all((shared_data_dir() / f).is_file() for f in (CLOTHING_FILE, MDSD_FILE, BITEXT_FILE))


def _require(rel: str) -> Path:
    path = shared_data_dir() / rel
    if not path.is_file():
        raise DataError(
            f"{path} not found: put the shared datasets in ../shared/data or set AISLE_SHARED_DATA"
        )
    return path


def star_label(stars: float) -> str:
    return "negative" if stars <= 2 else "neutral" if stars < 4 else "positive"


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(str(text))).strip()


def with_title(title: str, text: str) -> str:
    """One review text: "Title. Body" (no extra full stop when the title ends in punctuation)."""
    title, text = _clean(title), _clean(text)
    if not title:
        return text
    return f"{title} {text}" if title[-1] in ".!?" else f"{title}. {text}"


def load_clothing() -> Rows:
    """Women's clothing reviews (CC0): Title + Review Text, empty reviews dropped; 3 stars = neutral."""
    import pandas as pd

    df = pd.read_parquet(_require(CLOTHING_FILE))
    df = df[df["Review Text"].notna() & (df["Review Text"].astype(str).str.strip() != "")]
    titles = [_clean(t) for t in df["Title"].fillna("").astype(str)]
    texts = [with_title(t, r) for t, r in zip(titles, df["Review Text"].astype(str), strict=True)]
    return Rows("clothing", "cc0", texts, [star_label(s) for s in df["Rating"]], titles).unique()


def load_mdsd(domains: tuple[str, ...]) -> dict[str, Rows]:
    """The Multi-Domain Sentiment Dataset, one Rows per product domain asked for (no 3-star rows)."""
    unknown = set(domains) - set(MDSD_DOMAINS)
    if unknown:
        raise DataError(f"unknown review domains {sorted(unknown)}: use some of {', '.join(MDSD_DOMAINS)}")
    by: dict[str, tuple[list[str], list[str], list[str]]] = {d: ([], [], []) for d in domains}
    with gzip.open(_require(MDSD_FILE), "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["domain"] not in by:
                continue
            texts, labels, titles = by[r["domain"]]
            texts.append(with_title(r["title"], r["review_text"]))
            labels.append(str(r["polarity_label"]))
            titles.append(_clean(r["title"]))
    return {d: Rows(d, "none-stated", t, y, h).unique() for d, (t, y, h) in by.items()}


def load_demo_reviews() -> Rows:
    """The demo shop's own reviews (package data of ``knowledge.demo``; ours)."""
    raw = resources.files("knowledge.demo").joinpath("reviews.jsonl").read_text("utf-8")
    rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
    titles = [_clean(r.get("title") or "") for r in rows]
    texts = [with_title(t, r["text"]) for t, r in zip(titles, rows, strict=True)]
    return Rows("demo", "ours", texts, [star_label(float(r["rating"])) for r in rows], titles).unique()


def generated_requests(n: int, seed: int) -> Rows:
    """Plain shopping / support requests from the parser's corpus generator over the demo catalog (ours).

    Review-trained sentiment reads requests such as "which one is cheaper?" as negative (in reviews,
    comparisons come with complaints); these neutral rows teach it that a request is not a feeling.
    """
    from assistant.nlu.corpus import generate
    from assistant.nlu.vocab import ShopVocab
    from knowledge.demo import load_demo

    examples = generate(ShopVocab(list(load_demo().products)), n, seed)
    texts = list(
        dict.fromkeys(e.text for e in examples if e.commands and set(e.commands) <= NEUTRAL_COMMANDS)
    )
    return Rows("chat", "ours", texts, ["neutral"] * len(texts))


def bitext_requests() -> Rows:
    """Bitext support requests of the neutral intents, without the rows tagged offensive ("W")."""
    import pandas as pd

    df = pd.read_csv(_require(BITEXT_FILE))
    keep = df.intent.isin(BITEXT_NEUTRAL) & ~df.tags.fillna("").str.contains("W")
    texts = list(dict.fromkeys(_clean(t) for t in df.instruction[keep]))
    return Rows("support", "cdla-sharing", texts, ["neutral"] * len(texts))


def training_domains(n_generated: int, seed: int) -> dict[str, Rows]:
    """Every domain the model may learn from, by name; the held-out review domain is never loaded here."""
    mdsd = load_mdsd(tuple(d for d in MDSD_DOMAINS if d != HELD_OUT))
    return {
        "clothing": load_clothing(),
        **mdsd,
        "demo": load_demo_reviews(),
        "chat": generated_requests(n_generated, seed),
        "support": bitext_requests(),
    }


def load_held_out() -> Rows:
    """The unseen review domain: for the report only (never for training or choosing settings)."""
    return load_mdsd((HELD_OUT,))[HELD_OUT]


def three_way(rows: Rows, seed: int, val: float = 0.15, test: float = 0.15) -> tuple[Rows, Rows, Rows]:
    """(train, validation, test) slices of one domain, seeded, each text's slice decided by the text.

    A hash of (seed, text) picks the slice, not the row's position: the generated requests differ
    from one process to the next, and a text must fall in the same slice in training and in the report.
    """
    u = np.array([_unit(seed, t) for t in rows.texts])
    idx = [
        np.flatnonzero(u >= test + val),
        np.flatnonzero((u >= test) & (u < test + val)),
        np.flatnonzero(u < test),
    ]
    tr, va, te = (rows.take([int(i) for i in part]) for part in idx)
    return tr, va, te


def _unit(seed: int, text: str) -> float:
    digest = hashlib.sha1(f"{seed}\0{text}".encode("utf-8", "replace")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


class EmbeddingCache:
    """Embeds lists of texts once and keeps the vectors on disk (training and report reruns).

    One file per list (keyed by the embedder and the texts), so embed whole domains and slice them.
    """

    def __init__(self, embedder: Embedder, folder: Path | None) -> None:
        self.embedder = embedder
        self.folder = folder

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.folder is None or not texts:
            return self.embedder.embed(texts)
        h = hashlib.sha1(self.embedder.name.encode())
        for t in texts:
            h.update(t.encode("utf-8", "replace") + b"\0")
        path = self.folder / f"{h.hexdigest()}.npy"
        if path.is_file():
            return np.asarray(np.load(path, allow_pickle=False))
        vecs = self.embedder.embed(texts)
        self.folder.mkdir(parents=True, exist_ok=True)
        np.save(path, vecs, allow_pickle=False)
        return vecs
