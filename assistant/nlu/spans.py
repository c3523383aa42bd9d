"""Character spans <-> word labels for the parser's token head.

Labels are per whitespace-delimited word (BIO), predicted from each word's first word piece: "$1.5k",
"Rs. 3,500" and "250$" stay whole, so an amount is never split between two tags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

IGNORE = -100
_WORD = re.compile(r"\S+")
_TRIM = ',;:!?"()[]{}…'


def words(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD.finditer(text)]


def first_pieces(offsets: Sequence[tuple[int, int]], text: str) -> list[int]:
    """For each word piece, the index of the word it starts, or -1 (special token / continuation)."""
    ws = words(text)
    out, wi = [], 0
    started: set[int] = set()
    for s, e in offsets:
        if s == e:
            out.append(-1)
            continue
        while wi < len(ws) and ws[wi][1] <= s:
            wi += 1
        if wi < len(ws) and ws[wi][0] <= s < ws[wi][1] and wi not in started:
            started.add(wi)
            out.append(wi)
        else:
            out.append(-1)
    return out


def word_tags(text: str, spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """BIO label per word: the tag of the span that overlaps the word most."""
    out: list[str] = []
    prev = -1
    for a, b in words(text):
        best, best_len = -1, 0
        for i, (s, e, _) in enumerate(spans):
            ov = min(b, e) - max(a, s)
            if ov > best_len:
                best, best_len = i, ov
        if best < 0:
            out.append("O")
        else:
            out.append(("I-" if best == prev else "B-") + spans[best][2])
        prev = best
    return out


def bio_labels(
    offsets: Sequence[tuple[int, int]],
    text: str,
    spans: Sequence[tuple[int, int, str]],
    index: dict[str, int],
) -> list[int]:
    """Training labels: the word's BIO label on its first piece, IGNORE elsewhere."""
    tags = word_tags(text, spans)
    return [IGNORE if w < 0 else index.get(tags[w], index["O"]) for w in first_pieces(offsets, text)]


def decode(
    text: str,
    offsets: Sequence[tuple[int, int]],
    labels: Sequence[str],
    scores: Sequence[float] | None = None,
) -> list[tuple[int, int, str, float]]:
    """Predicted labels of first pieces -> (start, end, tag, mean score) spans over whole words."""
    ws = words(text)
    out: list[tuple[int, int, str, list[float]]] = []
    for i, w in enumerate(first_pieces(offsets, text)):
        if w < 0:
            continue
        lab = labels[i]
        sc = float(scores[i]) if scores is not None else 1.0
        a, b = _trim(text, *ws[w])
        if lab == "O" or b <= a:
            continue
        kind, _, tag = lab.partition("-")
        if out and kind == "I" and out[-1][2] == tag and _adjacent(text, out[-1][1], a):
            s0, _, t0, scs = out[-1]
            out[-1] = (s0, b, t0, scs + [sc])
        else:
            out.append((a, b, tag, [sc]))
    return [(s, e, t, sum(scs) / len(scs)) for s, e, t, scs in out]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] in _TRIM:
        a += 1
    while (
        b > a
        and (text[b - 1] in _TRIM or text[b - 1] == ".")
        and not (text[b - 1] == '"' and b - 2 >= a and text[b - 2].isdigit())
    ):  # 27" is 27 inches
        b -= 1
    return a, b


def _adjacent(text: str, end: int, start: int) -> bool:
    return start >= end and text[end:start].strip(" ,.;:-") == ""
