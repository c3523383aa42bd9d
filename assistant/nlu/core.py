"""NLU: one message -> Understanding (intents, entities, sentiment). One embedder per instance."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.nlu.entities import Entities, extract
from assistant.nlu.gazetteer import Gazetteer
from assistant.nlu.intent import IntentClassifier, llm_fallback, split_clauses
from assistant.nlu.linear import SoftmaxModel
from assistant.nlu.rules import SHOPPING, shopping_override, single_product_question
from assistant.nlu.sentiment import SentimentModel
from assistant.nlu.tfidf import Tfidf

if TYPE_CHECKING:
    from assistant.settings import Settings
    from assistant.state import DialogueState

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
MAX_CHARS = 4000  # longer input is understood from its first 4,000 characters (the engine's limit too)
_CACHE_SIZE = 512
_CLAUSE_CHARS = 1000


@dataclass
class Understanding:
    text: str
    intents: list[str]  # primary first
    confidence: float
    entities: Entities = field(default_factory=Entities)
    sentiment: str = "neutral"  # "negative" | "neutral" | "positive"
    sentiment_score: float = 0.0  # p(positive) - p(negative)
    needs_clarification: bool = False

    @property
    def intent(self) -> str:
        return self.intents[0] if self.intents else "out_of_scope"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clean(text: object) -> str:
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", "replace")
    s = str(text) if text is not None else ""
    # Control characters and lone surrogates break tokenizers; they carry no meaning here.
    s = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in s[:MAX_CHARS])
    return s.encode("utf-8", "replace").decode("utf-8").strip()


def _batch(clean: str) -> list[str]:
    # MiniLM reads at most 256 word pieces (~1,000 characters); long text is one request, not clauses.
    clauses = split_clauses(clean) if len(clean) <= _CLAUSE_CHARS else []
    return [clean[:_CLAUSE_CHARS]] + (clauses if len(clauses) > 1 else [])


class NLU:
    def __init__(self, embedder, intent_model: SoftmaxModel, sentiment_model: SoftmaxModel,  # type: ignore[no-untyped-def]
                 catalog: Iterable | None = None, llm: Callable | object | None = None,  # type: ignore[type-arg]
                 llm_fallback_on: bool = False, sentiment_vocab: Tfidf | None = None) -> None:
        self.embedder = embedder
        self.intents = IntentClassifier(intent_model)
        self.sentiment = SentimentModel(sentiment_model, sentiment_vocab)
        self.gazetteer = Gazetteer.from_products(catalog) if catalog is not None else None
        self.llm = llm
        self.llm_fallback_on = llm_fallback_on
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings, catalog: Iterable | None = None,  # type: ignore[type-arg]
                      llm: Callable | object | None = None, artifacts: Path | None = None,
                      embedder: Any = None) -> NLU:
        from assistant.errors import ConfigError
        from knowledge.embed import make_embedder

        folder = artifacts or ARTIFACTS
        vocab = Tfidf.load(folder / "sentiment_vocab") if (folder / "sentiment_vocab.json").is_file() else None
        emb = embedder or make_embedder(settings.embedder)
        intent = SoftmaxModel.load(folder / "intent")
        dim, want = getattr(emb, "dim", None), int(intent.weights.shape[0])
        if isinstance(dim, int) and dim != want:  # else the first message fails with a shape error
            raise ConfigError(
                f"the intent model in {folder} reads {want}-d sentence vectors but embedder {settings.embedder!r} "
                f"gives {dim}-d: use AISLE_EMBEDDER=minilm (the shipped model), or retrain with "
                f"`aisle train nlu` under this embedder")
        return cls(emb, intent, SoftmaxModel.load(folder / "sentiment"), catalog, llm, settings.nlu_llm_fallback,
                   vocab)

    def set_catalog(self, catalog: Iterable) -> None:  # type: ignore[type-arg]
        self.gazetteer = Gazetteer.from_products(catalog)

    def _embed(self, texts: list[str]) -> np.ndarray:
        # Many server threads share this cache: read each vector once into a local dict, because
        # another thread may evict it between our check and our read (a KeyError under load).
        got = {t: v for t in dict.fromkeys(texts) if (v := self._cache.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in got]
        if missing:
            for t, v in zip(missing, self.embedder.embed(missing), strict=True):
                got[t] = self._cache[t] = v
                while len(self._cache) > _CACHE_SIZE:
                    try:
                        self._cache.popitem(last=False)
                    except KeyError:  # emptied by another thread meanwhile
                        break
        return np.stack([got[t] for t in texts])

    def prepare(self, text: object) -> None:
        """Embed now what ``understand(text)`` will embed (a server does it before the turn is admitted)."""
        clean = _clean(text)
        if clean and any(ch.isalnum() for ch in clean):
            self._embed(_batch(clean))

    def understand(self, text: object, state: DialogueState | None = None) -> Understanding:
        """Never raises on odd input: empty, binary, very long or mixed-script text."""
        clean = _clean(text)
        if not clean or not any(ch.isalnum() for ch in clean):
            return Understanding(clean, ["out_of_scope"], 0.0, Entities(), "neutral", 0.0, True)
        batch = _batch(clean)
        vecs = self._embed(batch)  # one forward pass for the message and its clauses
        probs = self.intents.model.predict_proba(vecs)
        labels = self.intents.model.labels
        for row, clause in zip(probs[1:], batch[1:], strict=True):
            top = labels[int(row.argmax())]
            if self.gazetteer is not None and shopping_override(clause, top, extract(clause, self.gazetteer)):
                # "do you sell chargers?" read as payment: the catalog says it is shopping, as sure.
                pick = max(SHOPPING, key=lambda lab: float(row[labels.index(lab)]))
                i, j = labels.index(top), labels.index(pick)
                row[i], row[j] = row[j], row[i]
        res = self.intents.decide(probs)
        intents, conf, unsure = res.intents, res.confidence, res.needs_clarification
        ents = extract(clean, self.gazetteer)
        if shopping_override(clean, intents[0], ents):
            pick = max(SHOPPING, key=lambda lab: float(probs[0, labels.index(lab)]))
            intents = [pick] + [i for i in intents if i != pick]
            conf, unsure = round(float(probs[0, labels.index(pick)]), 4), False  # the catalog decided
        elif single_product_question(clean, intents[0], ents):
            intents = ["product_question"] + [i for i in intents if i != "product_question"]
            conf, unsure = round(float(probs[0, labels.index("product_question")]), 4), False
        if unsure and self.llm_fallback_on and self.llm is not None:
            got = llm_fallback(clean, self.llm)
            if got is not None:
                intents = [got[0]] + [i for i in intents if i != got[0]]
                conf, unsure = got[1], got[1] < self.intents.clarify_below
        label, score = self.sentiment.predict(vecs[:1], [clean])[0]
        return Understanding(clean, intents, conf, ents, label, score, unsure)
