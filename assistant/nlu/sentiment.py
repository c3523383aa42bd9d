"""Per-message sentiment (a trained softmax over MiniLM embeddings) and a conversation-level
frustration signal that the policy can use to offer a human hand-off.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.nlu.linear import SoftmaxModel
from assistant.nlu.tfidf import Tfidf

NEUTRAL_BAND = 0.25  # |p(pos) - p(neg)| below this reads as neutral for short chat messages


@dataclass
class SentimentModel:
    model: SoftmaxModel
    tfidf: Tfidf | None = None  # word features beside the sentence embedding, when trained with them

    def features(self, vecs: np.ndarray, texts: list[str]) -> np.ndarray:
        return np.hstack([self.tfidf.transform(texts), vecs]) if self.tfidf is not None else vecs

    def predict(self, vecs: np.ndarray, texts: list[str]) -> list[tuple[str, float]]:
        """(label, score) per row; score = p(positive) - p(negative), in [-1, 1]."""
        p = self.model.predict_proba(self.features(vecs, texts))
        labels = self.model.labels
        neg, pos = labels.index("negative"), labels.index("positive")
        out = []
        for row in p:
            score = float(row[pos] - row[neg])
            label = labels[int(row.argmax())]
            if label != "neutral" and abs(score) < NEUTRAL_BAND:
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
