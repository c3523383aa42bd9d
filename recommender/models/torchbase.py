"""Shared training loop of the torch models that learn no per-user state (SASRec, Mult-VAE).

``fit(train, valid=...)`` runs ``_epoch`` until ``epochs``, ``max_seconds`` or ``patience``
validations without a better NDCG@10 (on a fixed sample of ``valid_users``), then keeps the best
epoch's weights; without valid it trains for ``epochs`` (or ``max_seconds``). Weights are saved as
plain arrays (``net.<name>``) in the model's npz: no pickle, no extra file.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp

from recommender.base import Recommender
from recommender.data import Interactions
from recommender.errors import ConfigError


class TorchModel(Recommender):
    early_stopping = True  # the tuner passes valid to fit()
    # training settings every subclass accepts as keywords; a subclass may change the defaults
    TRAINING: ClassVar[dict[str, Any]] = {
        "lr": 1e-3,
        "weight_decay": 0.0,
        "epochs": 100,
        "batch": 128,
        "patience": 3,
        "validate_every": 2,
        "valid_users": 1000,
        "max_seconds": 300.0,
        "threads": 2,
        "seed": 0,
    }

    def __init__(self, **params: Any) -> None:
        model_keys = set(params) - set(self.TRAINING)
        unknown = model_keys - set(self._model_params())
        if unknown:
            raise ConfigError(
                f"{self.name}: unknown parameters {sorted(unknown)}; "
                f"training ones are {sorted(self.TRAINING)}, model ones {sorted(self._model_params())}"
            )
        super().__init__(**{**self.TRAINING, **params})
        self.net: Any = None
        self.best_epoch_ = 0  # 1-based epoch whose weights were kept
        self.history_: list[float] = []  # validation NDCG@10 per validated epoch
        self._valid: Interactions | None = None

    # ---- subclass hooks -----------------------------------------------------------------
    @classmethod
    def _model_params(cls) -> tuple[str, ...]:
        import inspect

        return tuple(p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "training"))

    def _new_net(self, n_items: int) -> Any:
        raise NotImplementedError

    def _epoch(self, X: sp.csr_matrix, data: Interactions, opt: Any, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _prepare(self, data: Interactions) -> None:
        """Training inputs built once per fit (SASRec's sequence windows)."""

    def _optimizer(self) -> Any:
        import torch

        p = self.params
        return torch.optim.AdamW(self.net.parameters(), lr=p["lr"], weight_decay=p.get("weight_decay", 0.0))

    # ---- training -----------------------------------------------------------------------
    def fit(self, data: Interactions, valid: Interactions | None = None) -> Self:
        self._valid = valid
        try:
            super().fit(data)
        finally:
            self._valid = None
        return self

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        import torch

        p = self.params
        torch.set_num_threads(int(p["threads"]))
        torch.manual_seed(int(p["seed"]))
        rng = np.random.default_rng(int(p["seed"]))
        self.net = self._new_net(data.n_items)
        opt = self._optimizer()
        self._prepare(data)
        best, best_state, bad, epoch = -1.0, None, 0, 0
        t0 = time.perf_counter()
        for epoch in range(1, int(p["epochs"]) + 1):
            self.net.train()
            self._epoch(X, data, opt, rng)
            last = time.perf_counter() - t0 > float(p["max_seconds"]) or epoch == int(p["epochs"])
            if self._valid is None or (epoch % int(p["validate_every"]) and not last):
                if last:
                    break
                continue
            ndcg = self._valid_ndcg(self._valid)
            self.history_.append(ndcg)
            if ndcg > best:
                best, bad, self.best_epoch_ = ndcg, 0, epoch
                best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
            else:
                bad += 1
            if bad >= int(p["patience"]) or last:
                break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        else:
            self.best_epoch_ = epoch
        self.net.eval()

    def _valid_ndcg(self, valid: Interactions) -> float:
        from recommender.metrics import ranking_metrics

        users = np.unique(valid.rows)
        n = int(self.params["valid_users"])
        if len(users) > n:  # a fixed sample keeps per-epoch validation cheap
            users = np.sort(np.random.default_rng(0).choice(users, n, replace=False))
        self.net.eval()
        _, X = self._check()
        return ranking_metrics(self.score(users), valid.shared_matrix()[users], X[users], k=10)["ndcg@10"]

    # ---- persistence --------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        return {f"net.{k}": v.detach().numpy() for k, v in self.net.state_dict().items()}

    def _set_arrays(self, a: dict[str, np.ndarray]) -> None:
        import torch

        data, _ = self._check()
        torch.set_num_threads(int(self.params["threads"]))
        self.net = self._new_net(data.n_items)
        state = {k[4:]: torch.from_numpy(np.array(v)) for k, v in a.items() if k.startswith("net.")}
        self.net.load_state_dict(state)
        self.net.eval()
