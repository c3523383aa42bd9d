"""Aspect-sentiment summary of a product's reviews: "noise: 7 of 9 mentions negative".

Aspects come from a small lexicon; each sentence mentioning an aspect gets a sentiment from
VADER plus a few shopping-specific cues VADER misses ("too loud", "runs small"), falling back
to the review's star rating when the sentence itself is neutral.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from knowledge.docs import _sentences
from knowledge.records import Review

ASPECTS: dict[str, tuple[str, ...]] = {
    "noise": ("noise", "noisy", "loud", "quiet", "silent", "hum", "buzz", "whine", "rattle"),
    "battery": ("battery", "batteries", "charge", "charging", "charger", "runtime"),
    "sound": ("sound", "audio", "bass", "treble", "speaker", "volume"),
    "comfort": ("comfort", "comfortable", "uncomfortable", "soft", "cushion", "itchy", "scratchy"),
    "fit": ("fit", "fits", "size", "sizing", "small", "large", "tight", "loose", "snug", "petite", "length"),
    "quality": (
        "quality",
        "durable",
        "sturdy",
        "flimsy",
        "broke",
        "broken",
        "cheap",
        "cheaply",
        "lasted",
        "defective",
        "stopped working",
        "fell apart",
        "well made",
        "poorly made",
    ),
    "price": ("price", "value", "worth", "expensive", "overpriced", "affordable", "bargain", "money"),
    "ease of use": (
        "easy",
        "simple",
        "intuitive",
        "setup",
        "set up",
        "confusing",
        "complicated",
        "instructions",
    ),
    "look": ("color", "colour", "look", "looks", "design", "style", "pretty", "beautiful", "ugly", "cute"),
    "material": ("fabric", "material", "cotton", "leather", "plastic", "metal", "thin", "thick", "stitching"),
    "delivery": ("shipping", "delivery", "arrived", "package", "packaging", "shipped"),
    "screen": ("screen", "display", "brightness", "resolution"),
    "performance": ("fast", "slow", "speed", "performance", "lag", "powerful", "suction", "heats", "heat"),
}
NEGATIVE_CUES = (
    "too loud",
    "loud",
    "noisy",
    "runs small",
    "runs large",
    "too small",
    "too big",
    "too tight",
    "flimsy",
    "broke",
    "fell apart",
    "stopped working",
    "overpriced",
    "cheaply made",
    "itchy",
    "scratchy",
    "see through",
    "see-through",
    "defective",
    "returned",
    "returning",
    "dies",
    "died",
    "not worth",
    "too short",
    "too long",
    "too thin",
    "lag",
    "whine",
    "rattle",
)
POSITIVE_CUES = (
    "quiet",
    "whisper",
    "sturdy",
    "well made",
    "true to size",
    "fits perfectly",
    "worth every",
    "great value",
    "lasts all day",
    "long battery",
    "comfortable",
    "durable",
)
_PATTERNS = {
    a: re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")\b", re.I)
    for a, terms in ASPECTS.items()
}


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentence_sentiment(sentence: str, rating: int | None = None) -> str:
    s = sentence.lower()
    cue = sum(1 for c in POSITIVE_CUES if c in s) - sum(1 for c in NEGATIVE_CUES if c in s)
    if re.search(r"\b(not|isn't|wasn't|never|no)\b\s+(\w+\s+)?(quiet|comfortable|sturdy|durable)", s):
        cue -= 2  # "not quiet at all" flips a positive cue
    score = _vader().polarity_scores(sentence)["compound"] + 0.5 * cue
    if abs(score) < 0.15 and rating is not None:
        score += (rating - 3) * 0.2  # a neutral sentence leans on the review's stars
    if score >= 0.15:
        return "positive"
    if score <= -0.15:
        return "negative"
    return "neutral"


def aspects_in(sentence: str) -> list[str]:
    return [a for a, pat in _PATTERNS.items() if pat.search(sentence)]


def summarize(reviews: Iterable[Review]) -> dict[str, dict[str, Any]]:
    """aspect -> {"positive", "negative", "neutral" counts, "mentions", "review_ids"}; sorted by mentions."""
    out: dict[str, dict[str, Any]] = {}
    for r in reviews:
        body = f"{r.title}. {r.text}" if r.title else r.text
        for sent in _sentences(body):
            found = aspects_in(sent)
            if not found:
                continue
            label = sentence_sentiment(sent, r.rating)
            for a in found:
                slot = out.setdefault(
                    a, {"positive": 0, "negative": 0, "neutral": 0, "mentions": 0, "review_ids": []}
                )
                slot[label] += 1
                slot["mentions"] += 1
                if r.id not in slot["review_ids"]:
                    slot["review_ids"].append(r.id)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["mentions"]))


def describe(summary: dict[str, dict[str, Any]], limit: int = 5) -> list[str]:
    """One line per aspect with its dominant sentiment: "noise: 7 of 9 mentions negative"."""
    lines = []
    for aspect, c in list(summary.items())[:limit]:
        label = max(("negative", "positive", "neutral"), key=lambda x: c[x])
        lines.append(f"{aspect}: {c[label]} of {c['mentions']} mentions {label}")
    return lines
