"""Words and sentences: the small lexical matcher behind quoting (the sentences of a policy or a
review that answer a question) and behind search and grounding when a shop has no vector index."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "for",
        "to",
        "in",
        "on",
        "with",
        "is",
        "are",
        "it",
        "this",
        "that",
        "my",
        "me",
        "i",
        "you",
        "your",
        "do",
        "does",
        "can",
        "what",
        "how",
        "about",
        "any",
        "have",
        "has",
        "be",
        "was",
        "will",
        "would",
        "should",
        "under",
        "over",
        "than",
    ]
)


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def stem(w: str) -> str:
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def clip(text: str, n: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


_SENT = re.compile(r"(?<![ap]\.m\.)(?<=[.!?])\s+")  # sentence ends, but not "1 p.m. Eastern"


def focus(text: str, question: str, n: int) -> str:
    """The sentences of ``text`` that best match the question, in their original order, within n chars.

    A sentence's section heading counts towards its match ("## How to make a claim" makes the
    sentence under it the answer to "how do I make a warranty claim?") but is not quoted."""
    pairs = _sentences(text)
    sents = [x[0] for x in pairs]
    if sum(len(s) + 1 for s in sents) <= n:
        return clip(" ".join(sents), n)
    q = {stem(w) for w in words(question)}

    def score(i: int) -> float:
        body = {stem(w) for w in words(pairs[i][0])}
        under = {stem(w) for w in words(pairs[i][1])} - body
        # Word overlap with the question; policies state their key facts in numbers (days, dollars).
        return len(q & body) + 0.75 * len(q & under) + 0.5 * bool(re.search(r"\d", pairs[i][0]))

    ranked = sorted(range(len(sents)), key=lambda i: (-score(i), i))
    keep: list[int] = []
    used = 0
    for i in ranked:
        if used + len(sents[i]) + 1 > n and keep:
            continue
        keep.append(i)
        used += len(sents[i]) + 1
    return clip(" ".join(sents[i] for i in sorted(keep)), n)


def _sentences(text: str) -> list[tuple[str, str]]:
    """(sentence, the heading above it) of a Markdown-ish text; table rows become sentences."""
    paras: list[str] = []
    heads: list[str] = []  # the heading above each paragraph
    head = ""

    def new_para(p: str = "") -> None:
        paras.append(p)
        heads.append(head)

    for line in text.replace("**", "").splitlines():
        line = line.strip()
        if line and set(line) <= set("|-: "):  # a table rule: the row above it was the header
            while paras and not paras[-1]:
                paras.pop()
                heads.pop()
            if paras and paras[-1].startswith("\x00"):
                paras.pop()
                heads.pop()
            new_para()
        elif not line or line.startswith("#"):
            if line.startswith("#"):
                head = line.lstrip("#").strip()
            new_para()  # headings end a paragraph and are not quoted
        elif line.startswith("|"):
            new_para("\x00" + ", ".join(c.strip() for c in line.strip("|").split("|")) + ".")
            new_para()
        elif paras:
            paras[-1] = (paras[-1] + " " + line).strip()
        else:
            new_para(line)
    pairs = [
        (s.strip().lstrip("\x00"), h)
        for para, h in zip(paras, heads, strict=True)
        for s in _SENT.split(para)
        if len(s.strip().lstrip("\x00")) > 2
    ]
    if len(pairs) > 1:  # a review's one-word title ("Fantastic.") says nothing the rating does not
        pairs = [x for x in pairs if len(x[0]) >= 15] or pairs
    return pairs
