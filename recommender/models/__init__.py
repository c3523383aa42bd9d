"""Model registry by name; modules are imported on demand so torch loads only for NeuMF / SASRec."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from recommender.base import Recommender, saved_meta
from recommender.errors import ConfigError

_REGISTRY: dict[str, str] = {
    "popularity": "recommender.models.popular:Popularity",
    "itemknn": "recommender.models.knn:ItemKNN",
    "rp3beta": "recommender.models.knn:RP3Beta",
    "userknn": "recommender.models.knn:UserKNN",
    "ease": "recommender.models.ease:EASE",
    "als": "recommender.models.mf:ALS",
    "bpr": "recommender.models.mf:BPR",
    "svd": "recommender.models.mf:PureSVD",
    "neumf": "recommender.models.ncf:NeuMF",
    "content": "recommender.models.content:Content",
    "sequential": "recommender.models.sequential:Transitions",
    "sasrec": "recommender.models.sasrec:SASRec",
    "multvae": "recommender.models.vae:MultVAE",
}
MODEL_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get_model_class(name: str) -> type[Recommender]:
    target = _REGISTRY.get(name)
    if target is None:
        raise ConfigError(f"unknown model {name!r}: choose one of {', '.join(_REGISTRY)}")
    module, _, cls = target.partition(":")
    klass = getattr(importlib.import_module(module), cls)
    if not (isinstance(klass, type) and issubclass(klass, Recommender)):
        raise ConfigError(f"{target} is not a Recommender: fix the registry entry for {name!r}")
    return klass


def make_model(name: str, **params: Any) -> Recommender:
    return get_model_class(name)(**params)


def load_model(path: Path | str) -> Recommender:
    """Load any saved model: its class is read from the ``model.json`` beside the arrays."""
    path = Path(path)
    return get_model_class(saved_meta(path)["model"]).load(path)
