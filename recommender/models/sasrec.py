"""SASRec (Kang & McAuley 2018): a self-attentive next-item model, in torch on the CPU.

A user's last ``max_len`` items (time order) go through item + position embeddings and ``layers``
causal pre-norm transformer blocks; the output at the last position, dotted with every item's
embedding (tied input / output embeddings), scores the next item. Training sees each train
sequence in windows of ``max_len + 1`` items and predicts every next item with a softmax over
the whole catalogue (cross-entropy, as RecBole's SASRec default). A new session's history is
folded in by reading it as a sequence: no refit, no user state. Early stopping on valid, the time
cap and saving (plain arrays in the npz, no pickle) come from ``recommender.models.torchbase``;
torch loads only when the model is used.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from recommender.data import Interactions
from recommender.models.torchbase import TorchModel


def _build(n_items: int, dim: int, max_len: int, layers: int, heads: int, dropout: float) -> Any:
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.item = nn.Embedding(n_items + 1, dim, padding_idx=0)  # index 0: padding
            self.pos = nn.Embedding(max_len, dim)
            self.drop = nn.Dropout(dropout)
            block = nn.TransformerEncoderLayer(
                dim, heads, 4 * dim, dropout, activation="gelu", batch_first=True, norm_first=True
            )
            self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(dim)
            nn.init.normal_(self.item.weight, std=0.02)
            nn.init.normal_(self.pos.weight, std=0.02)
            with torch.no_grad():
                self.item.weight[0].zero_()

        def forward(self, seq: Any) -> Any:
            n = seq.shape[1]
            x = self.item(seq) + self.pos(torch.arange(max_len - n, max_len))
            keep = (seq > 0).unsqueeze(-1)
            x = self.drop(x) * keep  # padding carries nothing, as in the original
            causal = nn.Transformer.generate_square_subsequent_mask(n)
            return self.norm(self.blocks(x, mask=causal, is_causal=True)) * keep

        def logits(self, h: Any) -> Any:
            return h @ self.item.weight[1:].T

    return Net()


def _windows(seqs: list[np.ndarray], size: int) -> np.ndarray:
    """Every sequence cut from its end into windows of ``size`` items (+1 shifted ids, 0 = left
    padding), so long histories contribute all their transitions, not only the last ones."""
    out = []
    for s in seqs:
        ids = s.astype(np.int64) + 1
        for end in range(len(ids), 1, -(size - 1)):
            w = ids[max(0, end - size) : end]
            out.append(np.pad(w, (size - len(w), 0)))
    return np.stack(out) if out else np.zeros((0, size), np.int64)


class SASRec(TorchModel):
    name = "sasrec"
    TRAINING: ClassVar[dict[str, Any]] = {**TorchModel.TRAINING, "lr": 2e-3, "epochs": 200}

    def __init__(
        self,
        dim: int = 64,
        layers: int = 2,
        heads: int = 2,
        max_len: int = 50,
        dropout: float = 0.3,
        **training: Any,
    ) -> None:
        """``training``: any of ``TorchModel.TRAINING`` (lr, epochs, batch, patience, ...)."""
        super().__init__(dim=dim, layers=layers, heads=heads, max_len=max_len, dropout=dropout, **training)

    def _new_net(self, n_items: int) -> Any:
        p = self.params
        return _build(n_items, p["dim"], p["max_len"], p["layers"], p["heads"], p["dropout"])

    def _prepare(self, data: Interactions) -> None:
        import torch

        self._train_windows = torch.from_numpy(
            _windows(data.shared_sequences(), int(self.params["max_len"]) + 1)
        )

    def _epoch(self, X: sp.csr_matrix, data: Interactions, opt: Any, rng: np.random.Generator) -> None:
        import torch

        W, bs = self._train_windows, int(self.params["batch"])
        for b in np.array_split(rng.permutation(len(W)), max(1, len(W) // bs)):
            w = W[torch.from_numpy(b)]
            inp, target = w[:, :-1], w[:, 1:]
            use = (inp > 0) & (target > 0)
            h = self.net(inp)[use]
            loss = torch.nn.functional.cross_entropy(self.net.logits(h), target[use] - 1)
            opt.zero_grad()
            loss.backward()
            opt.step()

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        import torch

        n_items, size = self.net.item.weight.shape[0] - 1, int(self.params["max_len"])
        out = np.zeros((len(seqs), n_items), np.float32)
        batch = np.zeros((len(seqs), size), np.int64)
        for r, s in enumerate(seqs):
            tail = np.asarray(s[-size:], np.int64) + 1
            if len(tail):
                batch[r, size - len(tail) :] = tail
        has = np.flatnonzero(batch[:, -1] > 0)  # an empty history scores all items 0
        with torch.no_grad():
            for a in range(0, len(has), 256):
                idx = has[a : a + 256]
                h = self.net(torch.from_numpy(batch[idx]))[:, -1]
                out[idx] = self.net.logits(h).numpy()
        return out
