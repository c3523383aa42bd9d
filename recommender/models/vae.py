"""Mult-VAE (Liang et al. 2018): a variational autoencoder over a user's item row, in torch (CPU).

The encoder reads the L2-normalised, dropout-corrupted binary history row and gives a Gaussian
over a ``latent``-sized code; the decoder maps a code to a multinomial over all items. The loss
is the multinomial log-likelihood of the row plus ``beta`` times the KL term, with ``beta``
annealed linearly from 0 to ``beta_max`` over ``anneal_steps`` updates (the paper's
"partially regularised" objective). Scoring (and folding in a new history) is one encoder pass
on the row, using the mean code, then the decoder: no user state is learned, so train + valid
histories at test time need no refit. Early stopping and saving (plain arrays, no pickle) come
from ``recommender.models.torchbase``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.models.torchbase import TorchModel


def _build(n_items: int, hidden: int, latent: int, dropout: float) -> Any:
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.enc = nn.Sequential(nn.Linear(n_items, hidden), nn.Tanh(), nn.Linear(hidden, 2 * latent))
            self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.Tanh(), nn.Linear(hidden, n_items))

        def forward(self, x: Any) -> tuple[Any, Any]:
            x = self.drop(nn.functional.normalize(x, dim=1))
            mu, logvar = self.enc(x).chunk(2, dim=1)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
            kl = -0.5 * torch.mean(torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=1))
            return self.dec(z), kl

    return Net()


def _dense(rows: sp.csr_matrix) -> Any:
    import torch

    return torch.from_numpy((rows.toarray() > 0).astype(np.float32))


class MultVAE(TorchModel):
    name = "multvae"
    TRAINING: ClassVar[dict[str, Any]] = {**TorchModel.TRAINING, "batch": 256}

    def __init__(
        self,
        hidden: int = 600,
        latent: int = 200,
        dropout: float = 0.5,
        beta_max: float = 0.2,
        anneal_steps: int = 20000,
        **training: Any,
    ) -> None:
        """``training``: any of ``TorchModel.TRAINING`` (lr, epochs, batch, patience, ...)."""
        super().__init__(
            hidden=hidden,
            latent=latent,
            dropout=dropout,
            beta_max=beta_max,
            anneal_steps=anneal_steps,
            **training,
        )

    def _new_net(self, n_items: int) -> Any:
        p = self.params
        return _build(n_items, int(p["hidden"]), int(p["latent"]), float(p["dropout"]))

    def _optimizer(self) -> Any:
        import torch

        self._step = 0  # updates so far, for the KL annealing
        return torch.optim.Adam(self.net.parameters(), lr=float(self.params["lr"]))

    def _epoch(self, X: sp.csr_matrix, data: Interactions, opt: Any, rng: np.random.Generator) -> None:
        import torch

        p = self.params
        active = np.flatnonzero(np.diff(X.indptr) > 0)
        for b in np.array_split(rng.permutation(active), max(1, len(active) // int(p["batch"]))):
            x = _dense(X[b])
            logits, kl = self.net(x)
            beta = float(p["beta_max"]) * min(1.0, self._step / max(1, int(p["anneal_steps"])))
            nll = -torch.mean(torch.sum(torch.log_softmax(logits, 1) * x, dim=1))
            opt.zero_grad()
            (nll + beta * kl).backward()
            opt.step()
            self._step += 1

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        import torch

        out = np.zeros(rows.shape, np.float32)
        with torch.no_grad():
            for a in range(0, rows.shape[0], 512):
                logits, _ = self.net(_dense(rows[a : a + 512]))
                out[a : a + 512] = logits.numpy()
        return out
