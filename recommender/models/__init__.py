"""Model registry by name; modules are imported on demand so torch loads only for NeuMF."""

from __future__ import annotations

import importlib
from typing import Any

from assistant.errors import ConfigError
from recommender.base import Recommender

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
}
MODEL_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get_model_class(name: str) -> type[Recommender]:
    target = _REGISTRY.get(name)
    if target is None:
        raise ConfigError(f"unknown model {name!r}: choose one of {', '.join(_REGISTRY)}")
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]


def make_model(name: str, **params: Any) -> Recommender:
    return get_model_class(name)(**params)
