"""BM25 (bm25s) over the same documents the vector index holds, with a tiny English normaliser."""

from __future__ import annotations

import re

import numpy as np

from knowledge.docs import Doc

STOPWORDS = frozenset("""a an and are as at be but by for from has have i i'm im in is it its me my of on or
so that the this to was were will with you your we our want need looking look something some any
please can could would should like get got show find me good nice best""".split())


def stem(tok: str) -> str:
    # Crude plural folding keeps "headphones" ~ "headphone" and "batteries" ~ "battery" on both sides.
    if len(tok) > 4 and tok.endswith("ies"):
        return tok[:-3] + "y"
    if len(tok) > 3 and tok.endswith("es") and tok[-3] in "sxz":
        return tok[:-2]
    if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss"):
        return tok[:-1]
    return tok


def tokenize(text: str) -> list[str]:
    toks = re.findall(r"[a-z0-9]+", text.lower().replace("&amp;", "&"))
    return [stem(t) for t in toks if t not in STOPWORDS]


class LexicalIndex:
    def __init__(self, docs: list[Doc]) -> None:
        import bm25s

        self.ids = [d.id for d in docs]
        self._bm25 = bm25s.BM25()
        corpus = [tokenize(d.text) or ["_"] for d in docs]
        if corpus:
            self._bm25.index(corpus, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        if not self.ids:
            return np.zeros(0, np.float32)
        toks = tokenize(query)
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
