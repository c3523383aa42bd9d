"""Per-message sentiment (a trained softmax over MiniLM embeddings, optionally beside TF-IDF word
features) and a conversation-level frustration signal that the policy can use to offer a human hand-off.

The model is trained on several review domains plus neutral shop requests (``aisle train nlu``);
``assistant.nlu.sentiment_eval.report`` measures it on a review domain it never saw.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import ModelMissingError
from assistant.nlu.linear import SoftmaxModel
from assistant.nlu.tfidf import Tfidf

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LABELS = ("negative", "neutral", "positive")
MAX_CHARS = 5000  # the embedding reads ~256 word pieces; longer input only costs TF-IDF time


@dataclass
class SentimentModel:
    model: SoftmaxModel
    tfidf: Tfidf | None = None  # word features beside the sentence embedding, when trained with them
    # |p(pos) - p(neg)| below this reads as neutral even when a polar class wins (chosen on validation).
    neutral_band: float = 0.0

    def features(self, vecs: np.ndarray, texts: list[str]) -> np.ndarray:
        return np.hstack([self.tfidf.transform(texts), vecs]) if self.tfidf is not None else vecs

    def predict(self, vecs: np.ndarray, texts: list[str]) -> list[tuple[str, float]]:
        """(label, score) per row; score = p(positive) - p(negative), in [-1, 1]."""
        return decide(
            self.model.predict_proba(self.features(vecs, texts)), self.model.labels, self.neutral_band
        )

    def save(self, folder: Path) -> None:
        """``sentiment.{npz,json}`` and, with word features, ``sentiment_vocab.{npz,json}``."""
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save(folder / "sentiment", {"neutral_band": float(self.neutral_band)})
        for suffix in (".json", ".npz"):
            (folder / f"sentiment_vocab{suffix}").unlink(missing_ok=True)
        if self.tfidf is not None:
            self.tfidf.save(folder / "sentiment_vocab")

    @classmethod
    def load(cls, folder: Path | None = None) -> SentimentModel:
        folder = folder or ARTIFACTS
        model = SoftmaxModel.load(folder / "sentiment")
        if sorted(model.labels) != sorted(LABELS):
            raise ModelMissingError(
                f"{folder / 'sentiment.json'} has labels {model.labels}, not {list(LABELS)}: "
                "run `aisle train nlu` to rebuild the sentiment model"
            )
        band = float(json.loads((folder / "sentiment.json").read_text()).get("neutral_band", 0.0))
        vocab = (
            Tfidf.load(folder / "sentiment_vocab") if (folder / "sentiment_vocab.json").is_file() else None
        )
        if model.weights.shape[0] <= (vocab.dim if vocab is not None else 0):
            raise ModelMissingError(
                f"sentiment weights in {folder} do not match their vocabulary: "
                "run `aisle train nlu` to rebuild both"
            )
        return cls(model, vocab, band)

    @property
    def embedding_dim(self) -> int:
        return int(self.model.weights.shape[0] - (self.tfidf.dim if self.tfidf is not None else 0))


def decide(p: np.ndarray, labels: list[str], band: float) -> list[tuple[str, float]]:
    """Class probabilities -> (label, p(pos) - p(neg)); a polar winner inside the band reads as neutral."""
    neg, pos = labels.index("negative"), labels.index("positive")
    out = []
    for row in p:
        score = float(row[pos] - row[neg])
        label = labels[int(row.argmax())]
        if label != "neutral" and abs(score) < band:
            label = "neutral"
        out.append((label, round(score, 4)))
    return out


def frustration(scores: Sequence[float], complaints: Sequence[bool], decay: float = 0.6) -> float:
    """A 0..1 frustration level from the conversation so far (oldest first).

    An exponentially weighted mean of how negative each message was, plus a bump for repeated
    complaints: one sharp message is not enough, a run of negative or complaining turns is.
    """
    level = 0.0
    for s, c in zip(scores, complaints, strict=False):
        level = decay * level + (1 - decay) * max(0.0, -float(s))
        if c:
            level += 0.2
    return float(min(1.0, level))


HANDOFF_LEVEL = 0.5  # frustration at or above this suggests offering a human agent


def load_sentiment(
    embed: Callable[[list[str]], np.ndarray], folder: Path | None = None
) -> Callable[[str], tuple[str, float]]:
    """The shipped sentiment model over sentence embeddings: text -> (label, p(pos) - p(neg))."""
    model = SentimentModel.load(folder)

    def read(text: str) -> tuple[str, float]:
        # Lone surrogates and the like break tokenizers; they carry no sentiment.
        clean = str(text)[:MAX_CHARS].encode("utf-8", "replace").decode("utf-8")
        if not clean.strip():
            return "neutral", 0.0
        vecs = np.asarray(embed([clean]), dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[1] != model.embedding_dim:
            raise ModelMissingError(
                f"the sentiment model reads {model.embedding_dim}-d embeddings, the embedder "
                f"gives {vecs.shape[-1]}-d: use the MiniLM embedder or retrain with "
                "`aisle train nlu --embedder ...`"
            )
        return model.predict(vecs, [clean])[0]

    return read
