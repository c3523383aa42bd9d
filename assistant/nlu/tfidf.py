"""A small TF-IDF featuriser (word 1-2 grams) fitted with scikit-learn, applied with numpy only.

Stored as JSON (vocabulary) + .npz (idf); it reproduces sklearn's ``TfidfVectorizer`` with
``sublinear_tf=True`` and l2 norm, so no pickled vectoriser is ever loaded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import ModelMissingError

TOKEN = re.compile(r"(?u)\b\w\w+\b")


@dataclass
class Tfidf:
    vocab: dict[str, int]
    idf: np.ndarray

    @property
    def dim(self) -> int:
        return len(self.idf)

    def transform(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for r, text in enumerate(texts):
            toks = TOKEN.findall(text.lower())
            grams = toks + [f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False)]
            for g in grams:
                j = self.vocab.get(g)
                if j is not None:
                    out[r, j] += 1.0
            nz = out[r] > 0
            out[r, nz] = (1.0 + np.log(out[r, nz])) * self.idf[nz]
            n = np.linalg.norm(out[r])
            if n > 0:
                out[r] /= n
        return out

    @classmethod
    def fit(cls, texts: list[str], max_features: int = 5000) -> Tfidf:
        from sklearn.feature_extraction.text import TfidfVectorizer

        v = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            max_features=max_features,
            sublinear_tf=True,
            token_pattern=TOKEN.pattern,
        )
        v.fit(texts)
        vocab = {str(k): int(i) for k, i in v.vocabulary_.items()}
        return cls(vocab, v.idf_.astype(np.float32))

    def save(self, path: Path) -> None:
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        path.with_suffix(".json").write_text(json.dumps(terms, ensure_ascii=False))
        np.savez_compressed(path.with_suffix(".npz"), idf=self.idf.astype(np.float32))

    @classmethod
    def load(cls, path: Path) -> Tfidf:
        if not path.with_suffix(".json").is_file():
            raise ModelMissingError(f"TF-IDF vocabulary {path.name}.json is missing: run `aisle train nlu`")
        terms = json.loads(path.with_suffix(".json").read_text())
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as f:
            idf = f["idf"]
        return cls({t: i for i, t in enumerate(terms)}, idf)
