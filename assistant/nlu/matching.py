"""Word-level helpers the resolver scores with: quantities and their units, word overlap, crude
stems, and the ranking words ("lightest", "more buttons") that name a dimension and a side.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache

from assistant.nlu.vocab import lexicon, norm, singular, unit_dimension
from knowledge.money import NUMBER_WORDS

_NUMBER = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(k\b)?", re.I)
# Count words as money reads them, plus the phrases a quantity may start with ("a couple of people").
_WORD_NUMBERS = {
    "a couple of": 2,
    "a dozen": 12,
    **{w: v for w, v in NUMBER_WORDS.items() if w not in ("a", "an")},
}

MORE = frozenset(
    {
        "more",
        "most",
        "higher",
        "highest",
        "bigger",
        "biggest",
        "larger",
        "largest",
        "longer",
        "longest",
        "greater",
        "greatest",
        "extra",
        "max",
        "maximum",
        "better",
        "best",
        "increased",
    }
)
LESS = frozenset(
    {
        "less",
        "least",
        "fewer",
        "fewest",
        "lower",
        "lowest",
        "smaller",
        "smallest",
        "shorter",
        "shortest",
        "min",
        "minimum",
        "reduced",
    }
)


FILLER = frozenset({"a", "an", "the", "one", "ones", "with", "in", "it", "made", "of", "type", "kind"})


def stem(w: str) -> str:
    """A crude stem for covering words: "powered" -> "power", "bottles" -> "bottle"."""
    w = singular(w)
    for suf in ("ed", "ing", "er"):
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            return w[: -len(suf)]
    return w


def unit_hit(text: str, units: Iterable[str]) -> float:
    """1.0 when the text names a unit the attribute is measured in ("how many cups" -> capacity)."""
    words = {singular(w) for w in re.findall(r"[a-z]+", text.lower())}
    return 1.0 if any(singular(u) in words for u in units if len(u) >= 2) else 0.0


def strip_affixes(t: str) -> str:
    """ "non-plastic" -> "plastic" (the tag says it is negated), "sony-ish" -> "sony", "bose's" -> "bose"."""
    t = re.sub(r"^(non-|non |no |not |without )", "", t)
    return re.sub(r"(-ish|'s|ish)$", "", t).strip()


def quantity(text: str) -> tuple[float | None, str | None]:
    """ "20,000 mAh" -> (20000, "mah"); "4 people" -> (4, "people"); "four people" -> (4, "people")."""
    t = norm(re.sub(r"(?<=\d),(?=\d{3})", "", text)).replace("+", " ")
    m = _NUMBER.search(t)
    if m:
        num = float(m.group(1).replace(",", "")) * (1000 if m.group(2) else 1)
        rest = t[m.end() :].strip().split()
        unit = _unit_words(rest)
        return num, unit
    for word, val in _WORD_NUMBERS.items():
        if t.startswith(word + " "):
            return float(val), _unit_words(t[len(word) :].split())
    return None, None


def _unit_words(rest: list[str]) -> str | None:
    for n in (2, 1):
        cand = " ".join(rest[:n]).strip(".")
        if cand and unit_dimension(cand) is not None:
            return cand
    return rest[0] if rest and unit_dimension(rest[0]) else None


def overlap(a: str, b: str) -> float:
    wa = {singular(w) for w in re.findall(r"[a-z]+", a.lower()) if len(w) > 2}
    wb = {singular(w) for w in re.findall(r"[a-z]+", b.lower()) if len(w) > 2}
    return float(len(wa & wb))


def _noun_and_polarity(t: str) -> tuple[str, str] | None:
    """A dimension's noun beside a general polarity word: "lowest priced" -> (price, less)."""
    words = set(t.split())
    more, less = bool(words & MORE), bool(words & LESS)
    if more == less:
        return None
    for dim, spec in lexicon()["dimensions"].items():
        if any(re.search(rf"(?<![\w-]){re.escape(norm(str(n)))}(?![\w-])", t) for n in spec.get("nouns", [])):
            return str(dim), "more" if more else "less"
    return None


def _matched(t: str, best: tuple[int, str | None, str | None]) -> str:
    """The phrase of the best dimension match, as written in the lexicon."""
    _, dim, side = best
    spec = lexicon()["dimensions"].get(dim or "", {})
    hits = [
        str(p)
        for p in spec.get(side or "", [])
        if re.search(rf"(?<![\w-]){re.escape(norm(str(p)))}(?![\w-])", t)
    ]
    return max(hits, key=len, default="")


@lru_cache(maxsize=4096)
def dimension_of(t: str) -> tuple[str | None, str | None]:
    """The lexicon dimension and side a ranking phrase names; longest matching phrase wins."""
    best: tuple[int, str | None, str | None] = (0, None, None)
    for dim, spec in lexicon()["dimensions"].items():
        for side in ("less", "more"):
            for phrase in spec.get(side, []):
                p = norm(str(phrase))
                if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", t) and len(p) > best[0]:
                    best = (len(p), str(dim), side)
    named = _noun_and_polarity(t)
    if named is not None and (
        best[1] is None or best[1] != named[0] and norm(_matched(t, best)) in MORE | LESS
    ):
        return named  # "lowest priced": the noun names the dimension, "lowest" only the side
    if best[1] is None and t:  # a misspelt one: "cheepest" -> "cheapest"
        phrases = {
            norm(str(p)): (str(dim), side)
            for dim, spec in lexicon()["dimensions"].items()
            for side in ("less", "more")
            for p in spec.get(side, [])
        }
        close = difflib.get_close_matches(t, list(phrases), n=1, cutoff=0.8)
        if close:
            return phrases[close[0]]
    return best[1], best[2]
