"""A softmax (multinomial logistic) classifier stored as .npz weights + a JSON label list.

Loading needs numpy only and never unpickles (``allow_pickle=False``); training uses scikit-learn
(imported lazily) and temperature scaling fitted on a validation slice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import ModelMissingError


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


@dataclass
class SoftmaxModel:
    weights: np.ndarray  # (n_features, n_classes)
    bias: np.ndarray  # (n_classes,)
    labels: list[str]
    temperature: float = 1.0
    class_bias: np.ndarray | None = None  # additive logit offsets chosen on validation (e.g. sentiment)

    def logits(self, x: Any) -> np.ndarray:
        z = np.asarray(x @ self.weights) + self.bias  # x may be a scipy sparse matrix in training
        if self.class_bias is not None:
            z = z + self.class_bias
        return np.asarray(z)

    def predict_proba(self, x: Any) -> np.ndarray:
        return softmax(self.logits(x) / self.temperature)

    def predict(self, x: Any) -> list[str]:
        return [self.labels[i] for i in self.logits(x).argmax(axis=1)]

    def save(self, path: Path, extra: Mapping[str, Any] | None = None) -> None:
        """Weights as .npz, labels + temperature (+ ``extra`` settings of the caller) as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        cb = np.zeros(len(self.labels), np.float32) if self.class_bias is None else self.class_bias
        np.savez_compressed(
            path.with_suffix(".npz"),
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            class_bias=cb.astype(np.float32),
        )
        meta = {"labels": self.labels, "temperature": float(self.temperature), **(extra or {})}
        path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> SoftmaxModel:
        npz, meta_path = path.with_suffix(".npz"), path.with_suffix(".json")
        if not npz.is_file() or not meta_path.is_file():
            raise ModelMissingError(
                f"NLU model {npz.name} is missing in {path.parent}: run `aisle train nlu`"
            )
        with np.load(npz, allow_pickle=False) as f:
            w, b, cb = f["weights"], f["bias"], f["class_bias"]
        meta = json.loads(meta_path.read_text())
        return cls(w, b, list(meta["labels"]), float(meta["temperature"]), cb if cb.any() else None)


def fit_logreg(
    x: Any,
    y: list[str],
    c: float,
    seed: int,
    class_weight: str | None = None,
    sample_weight: np.ndarray | None = None,
) -> SoftmaxModel:
    """Multinomial logistic regression; ``x`` is a dense array or a scipy sparse matrix."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=2000, random_state=seed, class_weight=class_weight)
    clf.fit(x, y, sample_weight=sample_weight)
    labels = [str(v) for v in clf.classes_]
    return SoftmaxModel(clf.coef_.T.astype(np.float32), clf.intercept_.astype(np.float32), labels)


def fit_temperature(model: SoftmaxModel, x_val: Any, y_val: list[str]) -> float:
    """The temperature minimising validation negative log-likelihood."""
    return temperature_of(model.logits(x_val), y_val, model.labels)


def temperature_of(z: np.ndarray, y: list[str], labels: list[str]) -> float:
    """Grid search over temperatures for logits ``z``: robust, no optimiser."""
    idx = np.array([labels.index(v) for v in y])
    best_t, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.05), np.log(10.0), 120)):
        p = softmax(z / t)
        nll = -np.log(np.clip(p[np.arange(len(idx)), idx], 1e-12, None)).mean()
        if nll < best_nll:
            best_t, best_nll = float(t), float(nll)
    return best_t
