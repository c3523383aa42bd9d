"""Small synthetic interaction data shared by the recommender tests (no dataset files needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recommender.data import Interactions


def group_data(
    seed: int = 0, users_per_group: int = 25, group_size: int = 10, picks: int = 7, n_items: int | None = None
) -> Interactions:
    """Three taste groups: each user buys ``picks`` of their group's ``group_size`` items."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for g in range(3):
        for n in range(users_per_group):
            for i in rng.choice(group_size, picks, replace=False) + group_size * g:
                users.append(f"u{g}_{n}")
                items.append(f"i{i}")
    return Interactions.from_arrays(
        users, items, item_ids=[f"i{i}" for i in range(n_items or 3 * group_size)]
    )


def write_tsv(folder: Path, n_users: int, seed: int = 0) -> Path:
    """A RecBole-style user/item TSV with four taste groups of ten items each."""
    rng = np.random.default_rng(seed)
    lines = ["user\titem"] + [
        f"u{u}\ti{(u % 4) * 10 + int(j)}" for u in range(n_users) for j in rng.choice(10, 8, replace=False)
    ]
    path = folder / "x.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path
