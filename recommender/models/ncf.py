"""NeuMF (He et al. 2017): GMF + MLP towers fused by one linear head, in torch.

Training: binary cross-entropy on each positive plus ``negatives`` uniformly sampled items, Adam,
Xavier init, dropout in the MLP, early stopping on validation NDCG@10 (full ranking, train items
masked) when ``fit(train, valid=...)`` is given, optional GMF / MLP pre-training. torch is imported
inside the functions so that ``import recommender`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from recommender.base import Recommender
from recommender.data import Interactions


def _build(n_users: int, n_items: int, gmf_dim: int, mlp_dim: int, layers: list[int], dropout: float) -> Any:
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gu, self.gi = nn.Embedding(n_users, gmf_dim), nn.Embedding(n_items, gmf_dim)
            self.mu, self.mi = nn.Embedding(n_users, mlp_dim), nn.Embedding(n_items, mlp_dim)
            mods: list[nn.Module] = []
            prev = 2 * mlp_dim
            for h in layers:
                mods += [nn.Dropout(dropout), nn.Linear(prev, h), nn.ReLU()]
                prev = h
            self.mlp = nn.Sequential(*mods)
            self.head = nn.Linear(gmf_dim + prev, 1)
            self.gmf_head = nn.Linear(gmf_dim, 1)  # used only in pre-training
            self.mlp_head = nn.Linear(prev, 1)
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Embedding):
                    nn.init.normal_(m.weight, std=0.01)

        def towers(self, pu_g: Any, pu_m: Any, qi_g: Any, qi_m: Any) -> tuple[Any, Any]:
            return pu_g * qi_g, self.mlp(torch.cat([pu_m, qi_m], dim=-1))

        def forward(self, u: Any, i: Any, mode: str = "neumf") -> Any:
            g, m = self.towers(self.gu(u), self.mu(u), self.gi(i), self.mi(i))
            if mode == "gmf":
                return self.gmf_head(g).squeeze(-1)
            if mode == "mlp":
                return self.mlp_head(m).squeeze(-1)
            return self.head(torch.cat([g, m], dim=-1)).squeeze(-1)

    return Net()


def _negatives(
    pu: np.ndarray, n_items: int, neg: int, known: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Uniform negatives per positive, resampling (twice) those that hit one of the user's positives."""
    users = np.tile(pu, neg)
    items = rng.integers(0, n_items, len(users))
    for _ in range(2):
        keys = users * n_items + items
        pos = np.searchsorted(known, keys)
        hit = known[np.minimum(pos, len(known) - 1)] == keys
        if not hit.any():
            break
        items[hit] = rng.integers(0, n_items, int(hit.sum()))
    return items


class NeuMF(Recommender):
    name = "neumf"
    early_stopping = True  # the tuner passes valid to fit()

    def __init__(
        self,
        gmf_dim: int = 64,
        mlp_dim: int = 32,
        layers: tuple[int, ...] | list[int] = (64, 32),
        dropout: float = 0.1,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        epochs: int = 12,
        batch: int = 4096,
        negatives: int = 4,
        patience: int = 2,
        pretrain_epochs: int = 0,
        threads: int = 1,
        seed: int = 0,
        fold_in_steps: int = 30,
        lr_decay: float = 0.8,
        valid_users: int = 600,
        validate_from: int = 3,
    ) -> None:
        super().__init__(
            gmf_dim=gmf_dim,
            mlp_dim=mlp_dim,
            layers=list(layers),
            dropout=dropout,
            lr=lr,
            weight_decay=weight_decay,
            epochs=epochs,
            batch=batch,
            negatives=negatives,
            patience=patience,
            pretrain_epochs=pretrain_epochs,
            threads=threads,
            seed=seed,
            fold_in_steps=fold_in_steps,
            lr_decay=lr_decay,
            valid_users=valid_users,
            validate_from=validate_from,
        )
        self.net: Any = None
        self._item_part: Any = None  # per-item half of the MLP's first layer; reset when weights change
        self.history_: list[float] = []  # validation NDCG@10 per validated epoch
        self.best_epoch_ = 0  # 1-based epoch whose weights were kept

    def fit(self, data: Interactions, valid: Interactions | None = None) -> Self:
        self._valid = valid
        try:
            super().fit(data)
        finally:
            self._valid = None
        return self

    def _new_net(self, n_users: int, n_items: int) -> Any:
        p = self.params
        return _build(n_users, n_items, p["gmf_dim"], p["mlp_dim"], p["layers"], p["dropout"])

    def _fit(self, X: sp.csr_matrix, data: Interactions) -> None:
        import torch

        p = self.params
        torch.set_num_threads(int(p["threads"]))
        torch.manual_seed(p["seed"])
        rng = np.random.default_rng(p["seed"])
        self.net = self._new_net(*X.shape)
        self._item_part = None
        coo = X.tocoo()
        pu, pi = coo.row.astype(np.int64), coo.col.astype(np.int64)
        if p["pretrain_epochs"]:
            for mode in ("gmf", "mlp"):
                self._train(pu, pi, X.shape[1], rng, mode, int(p["pretrain_epochs"]), None)
            with torch.no_grad():  # fused head starts as the average of the two pre-trained heads
                self.net.head.weight.copy_(
                    0.5 * torch.cat([self.net.gmf_head.weight, self.net.mlp_head.weight], 1)
                )
                self.net.head.bias.copy_(0.5 * (self.net.gmf_head.bias + self.net.mlp_head.bias))
        self._train(pu, pi, X.shape[1], rng, "neumf", int(p["epochs"]), self._valid)
        self.net.eval()

    def _train(
        self,
        pu: np.ndarray,
        pi: np.ndarray,
        n_items: int,
        rng: np.random.Generator,
        mode: str,
        epochs: int,
        valid: Interactions | None,
    ) -> None:
        import torch

        p = self.params
        opt = torch.optim.Adam(self.net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
        loss_fn = torch.nn.BCEWithLogitsLoss()
        neg = int(p["negatives"])
        known = np.sort(pu * n_items + pi)
        sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=float(p["lr_decay"]))
        best, best_state, bad = -1.0, None, 0
        for epoch in range(epochs):
            self.net.train()
            users = np.tile(pu, neg + 1)
            items = np.concatenate([pi, _negatives(pu, n_items, neg, known, rng)])
            labels = np.concatenate([np.ones(len(pu), np.float32), np.zeros(len(pu) * neg, np.float32)])
            perm = rng.permutation(len(users))
            tu, ti, tl = (torch.from_numpy(a[perm]) for a in (users, items, labels))
            for s in range(0, len(perm), p["batch"]):
                opt.zero_grad()
                b = slice(s, s + p["batch"])
                loss = loss_fn(self.net(tu[b], ti[b], mode), tl[b])
                loss.backward()
                opt.step()
            sched.step()
            self._item_part = None
            if valid is None or epoch + 1 < int(p.get("validate_from", 1)):
                continue  # the first epochs always improve: validating them only costs time
            self.net.eval()
            ndcg = self._valid_ndcg(valid)
            self.history_.append(ndcg)
            if ndcg > best:
                best, bad, self.best_epoch_ = ndcg, 0, epoch + 1
                best_state = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
            else:
                bad += 1
                if bad >= p["patience"]:
                    break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        self._item_part = None

    def _valid_ndcg(self, valid: Interactions) -> float:
        from recommender.metrics import ranking_metrics

        users = np.unique(valid.rows)
        n = int(self.params["valid_users"])
        if len(users) > n:  # a fixed sample keeps per-epoch validation cheap
            users = np.sort(np.random.default_rng(0).choice(users, n, replace=False))
        scores = self.score(users)
        _, X = self._check()
        return ranking_metrics(scores, valid.matrix()[users], X[users], k=10)["ndcg@10"]

    def _score_rows(
        self, rows: sp.csr_matrix, users: np.ndarray | None, seqs: list[np.ndarray]
    ) -> np.ndarray:
        import torch

        net = self.net
        with torch.no_grad():
            if users is not None:
                ug, um = (
                    net.gu.weight[torch.from_numpy(np.asarray(users))],
                    net.mu.weight[torch.from_numpy(np.asarray(users))],
                )
            else:
                ug, um = self._fold(rows)
            ig = net.gi.weight
            # The MLP's first layer on [user; item] splits into a user part and an item part:
            # the item part is computed once per set of weights, which keeps a request cheap.
            first: Any = net.mlp[1]
            d = um.shape[1]
            w_user, w_item = first.weight[:, :d], first.weight[:, d:]
            if self._item_part is None or net.training:
                self._item_part = net.mi.weight @ w_item.T + first.bias
            item_part = self._item_part
            rest = net.mlp[3:]
            out = np.empty((len(ug), ig.shape[0]), np.float32)
            # users per chunk keeps the (users, items, dim) tensors near 10 M cells (64 up to
            # office's 2,420 items, fewer on a larger catalog)
            step = max(1, min(64, 10_000_000 // (ig.shape[0] * max(ig.shape[1], 1))))
            for s in range(0, len(ug), step):
                h = torch.relu(item_part[None] + (um[s : s + step] @ w_user.T)[:, None, :])
                g = ug[s : s + step, None, :] * ig[None]
                out[s : s + step] = net.head(torch.cat([g, rest(h)], -1)).squeeze(-1).numpy()
        return out

    def _fold(self, rows: sp.csr_matrix) -> tuple[Any, Any]:
        """Fresh user embeddings fitted by a few Adam steps with item-side weights frozen."""
        import torch

        with torch.enable_grad():  # called from inside the scorer's no_grad block
            return self._fold_grad(rows)

    def _fold_grad(self, rows: sp.csr_matrix) -> tuple[Any, Any]:
        import torch

        net, p = self.net, self.params
        n_items = net.gi.weight.shape[0]
        gen = torch.Generator().manual_seed(p["seed"])
        outs_g, outs_m = [], []
        for r in range(rows.shape[0]):
            pos = torch.from_numpy(rows.indices[rows.indptr[r] : rows.indptr[r + 1]].astype(np.int64))
            ug = net.gu.weight.mean(0, keepdim=True).detach().clone().requires_grad_(True)
            um = net.mu.weight.mean(0, keepdim=True).detach().clone().requires_grad_(True)
            if len(pos):
                opt = torch.optim.Adam([ug, um], lr=0.05)
                ig, im = net.gi.weight.detach(), net.mi.weight.detach()
                for _ in range(int(p["fold_in_steps"])):
                    negs = torch.randint(0, n_items, (len(pos) * int(p["negatives"]),), generator=gen)
                    items = torch.cat([pos, negs])
                    y = torch.cat([torch.ones(len(pos)), torch.zeros(len(negs))])
                    g, m = net.towers(
                        ug.expand(len(items), -1), um.expand(len(items), -1), ig[items], im[items]
                    )
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(
                        net.head(torch.cat([g, m], -1)).squeeze(-1), y
                    )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            outs_g.append(ug.detach())
            outs_m.append(um.detach())
        return torch.cat(outs_g), torch.cat(outs_m)

    # ---- persistence: weights in safetensors, the rest through the base class ----------
    def save(self, path: Path | str) -> None:
        from safetensors.torch import save_file

        super().save(path)
        save_file(
            {k: v.contiguous() for k, v in self.net.state_dict().items()},
            str(Path(path) / "neumf.safetensors"),
        )

    def _after_load(self, path: Path) -> None:
        import torch
        from safetensors.torch import load_file

        torch.set_num_threads(int(self.params["threads"]))
        data, _ = self._check()
        self.net = self._new_net(data.n_users, data.n_items)
        self.net.load_state_dict(load_file(str(path / "neumf.safetensors")))
        self.net.eval()
        self._item_part = None
