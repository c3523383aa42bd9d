"""BM25 (bm25s) over the same documents the vector index holds, with a tiny English normaliser."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter

import numpy as np

from knowledge.docs import Doc

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "i'm",
        "im",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
        "you",
        "your",
        "we",
        "our",
        "want",
        "need",
        "looking",
        "look",
        "something",
        "some",
        "any",
        "please",
        "can",
        "could",
        "would",
        "should",
        "like",
        "get",
        "got",
        "show",
        "find",
        "me",
        "good",
        "nice",
        "best",
    ]
)


BOOST: tuple[str, ...] = ()


def stem(tok: str) -> str:
    # Crude plural folding keeps "headphones" ~ "headphone" and "batteries" ~ "battery" on both sides.
    if len(tok) > 4 and tok.endswith("ies"):
        return tok[:-3] + "y"
    if len(tok) > 3 and tok.endswith("es") and tok[-3] in "sxz":
        return tok[:-2]
    if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss"):
        return tok[:-1]
    return tok


def raw_tokens(text: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", text.lower().replace("&amp;", "&")) if t not in STOPWORDS]


def tokenize(text: str) -> list[str]:
    return [stem(t) for t in raw_tokens(text)]


def _deletes(tok: str) -> set[str]:
    return {tok[:i] + tok[i + 1 :] for i in range(len(tok))}


class Speller:
    """Edit-distance-1 correction against the catalog's own vocabulary (a tiny SymSpell).

    Shoppers misspell ("hedphones", "expresso"); BM25 would find nothing for the misspelled token.
    An unknown token is replaced by the most frequent known token one edit away, if any.
    """

    def __init__(self, corpus: list[list[str]]) -> None:
        self.freq = Counter(t for doc in corpus for t in set(doc))
        self.index: dict[str, list[str]] = {}
        for tok in self.freq:
            if len(tok) >= 4 and not tok.isdigit():
                for d in _deletes(tok) | {tok}:
                    self.index.setdefault(d, []).append(tok)

    def correct(self, tok: str) -> str:
        if tok in self.freq or len(tok) < 4 or tok.isdigit():
            return tok
        for i in range(3, len(tok) - 2):  # a closed compound: "hairdryer" -> "hair dryer"
            if tok[:i] in self.freq and tok[i:] in self.freq:
                return f"{tok[:i]} {tok[i:]}"
        cands: set[str] = set(self.index.get(tok, ()))
        for d in _deletes(tok):
            cands.update(c for c in self.index.get(d, ()) if abs(len(c) - len(tok)) <= 1)
        return max(cands, key=lambda c: (self.freq[c], c)) if cands else tok


class LexicalIndex:
    def __init__(self, docs: list[Doc], boost: tuple[str, ...] = BOOST) -> None:
        import bm25s

        # bm25s sets its own logger to DEBUG when imported, which puts a line in every server log:
        # its messages are only useful to bm25s' developers.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self.ids = [d.id for d in docs]
        self._bm25 = bm25s.BM25()
        # Field boost: a product's title and category count twice, so "headphones" in the title
        # outweighs "headphones" mentioned in passing in another product's description.
        raw = [raw_tokens(" ".join([d.text] + [str(d.meta.get(f, "")) for f in boost])) for d in docs]
        self.speller = Speller(raw)
        corpus = [[stem(t) for t in toks] or ["_"] for toks in raw]
        self._df = Counter(t for toks in corpus for t in set(toks))
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def query_tokens(self, query: str) -> list[str]:
        return [stem(c) for t in raw_tokens(query) for c in self.speller.correct(t).split()]

    def idf(self, tok: str) -> float:
        """bm25s' Lucene idf; a token no document holds gets the highest idf."""
        df = self._df.get(tok, 0)
        return math.log(1 + (len(self.ids) - df + 0.5) / (df + 0.5))

    def query_weight(self, query: str) -> float:
        """The query's idf mass: the bound BM25 scores approach as every query token grows frequent in a
        document (one mention at average length scores ~0.4 of it). Dividing by it makes BM25 an absolute
        coverage: a document matching only a weak word of a long vague query ("typing all *day*") stays low,
        instead of becoming 1.0 as when divided by the query's best score. Unknown tokens count: they are
        words the catalog cannot match."""
        return sum(self.idf(t) for t in self.query_tokens(query)) or 1.0

    def scores(self, query: str) -> np.ndarray:
        if not self.ids:
            return np.zeros(0, np.float32)
        toks = self.query_tokens(query)
        if not toks:
            return np.zeros(len(self.ids), np.float32)
        return np.asarray(self._bm25.get_scores(toks), dtype=np.float32)

    def top(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Indices and scores of the n best documents with a positive score (within mask)."""
        s = self.scores(query)
        if mask is not None:
            s = np.where(mask, s, 0.0)
        if not len(s):
            return []
        n = min(n, len(s))
        idx = np.argpartition(-s, n - 1)[:n]
        idx = idx[np.argsort(-s[idx], kind="stable")]
        return [(int(i), float(s[i])) for i in idx if s[i] > 0]
