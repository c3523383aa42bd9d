"""A synthetic shop log for scale benchmarks: power-law popularity, taste clusters and sequences.

``synthetic(users, items, interactions)`` draws, per user, a time-ordered sequence of distinct
items. Each step is one of:

- **next item** (probability ``p_next``, from the second step on): one of the previous item's
  ``successors`` fixed "goes with" items (half from its own cluster, half from the whole catalog,
  both popularity-weighted), chosen uniformly. This is the order-aware signal a transition or
  self-attentive model can learn and a bag-of-items model only partly sees;
- **taste** (``p_taste``): an item of the user's own cluster, popularity-weighted within it (the
  collaborative signal that matrix and neighbourhood models learn);
- **popular** (the rest): an item drawn from the whole catalog by popularity.

Item popularity follows a power law (Zipf exponent ``alpha`` over a random ranking of the
items); sequence lengths are log-normal (a few heavy users, many light ones) with at least
``min_len`` events so that leave-one-out leaves every user a train event. A repeated item is
dropped (the first event is kept; more steps are drawn than kept, so the total stays close to
``interactions``); timestamps are the position among the user's distinct items. Same arguments
and seed, same data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recommender.data import Interactions
from recommender.errors import ConfigError


def parse_spec(spec: str) -> dict[str, int]:
    """``"users=100000,items=20000,interactions=2000000"`` -> its three integers."""
    out: dict[str, int] = {}
    for part in spec.split(","):
        key, _, val = part.partition("=")
        if key.strip() not in ("users", "items", "interactions", "seed") or not val.strip().isdigit():
            raise ConfigError(
                f"--synthetic {spec!r}: write users=N,items=N,interactions=N (optionally seed=N)"
            )
        out[key.strip()] = int(val)
    missing = {"users", "items", "interactions"} - set(out)
    if missing:
        raise ConfigError(f"--synthetic {spec!r} lacks {', '.join(sorted(missing))}=N")
    return out


def _draw(cum: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.asarray(np.minimum(np.searchsorted(cum, r, side="right"), len(cum) - 1), np.int64)


def synthetic(
    users: int,
    items: int,
    interactions: int,
    *,
    seed: int = 0,
    alpha: float = 0.8,
    p_next: float = 0.5,
    p_taste: float = 0.3,
    successors: int = 4,
    min_len: int = 3,
) -> Interactions:
    if users < 1 or items < 2 * min_len or interactions < users * min_len:
        raise ConfigError(
            f"synthetic data needs items >= {2 * min_len} and interactions >= {min_len} x users"
        )
    rng = np.random.default_rng(seed)
    pop = np.empty(items)
    pop[rng.permutation(items)] = 1.0 / np.arange(1, items + 1) ** alpha
    n_clusters = max(2, int(round(np.sqrt(items) / 2)))
    cluster = rng.integers(0, n_clusters, items)
    # within-cluster cumulative popularity, offset by the cluster id: one searchsorted draws
    # an item of any cluster (cluster c's items sit in (c, c + 1])
    by_cluster = np.lexsort((np.arange(items), cluster))
    w = pop[by_cluster]
    csum = np.cumsum(w)
    starts = np.searchsorted(cluster[by_cluster], np.arange(n_clusters))
    seg_total = np.add.reduceat(w, starts)
    seg_before = np.r_[0.0, np.cumsum(seg_total)[:-1]]
    c_of = cluster[by_cluster]
    cum_cluster = c_of + (csum - seg_before[c_of]) / seg_total[c_of]
    cum_pop = np.cumsum(pop) / pop.sum()

    def in_cluster(c: np.ndarray) -> np.ndarray:
        return np.asarray(by_cluster[_draw(cum_cluster, c + rng.random(len(c)))])

    half = successors // 2
    succ = np.concatenate(
        [
            in_cluster(np.repeat(cluster, half)).reshape(items, half),
            _draw(cum_pop, rng.random(items * (successors - half))).reshape(items, -1),
        ],
        axis=1,
    )
    sigma = 1.0
    mean_extra = max(interactions / users - min_len, 1.0)
    lengths = np.exp(rng.normal(np.log(mean_extra) - sigma**2 / 2, sigma, users))
    lengths = np.clip(np.round(lengths).astype(np.int64) + min_len, min_len, items // 2)
    # repeats are dropped, so more steps are drawn than kept; _assemble cuts each user to length
    draws = np.minimum(lengths + lengths // 2 + 3, items)
    taste = _draw(np.cumsum(np.bincount(cluster, pop, n_clusters)) / pop.sum(), rng.random(users))
    rows, cols, pos = [], [], []
    prev = np.zeros(users, np.int64)
    for t in range(int(draws.max())):
        active = np.flatnonzero(draws > t)
        r = rng.random(len(active))
        nxt = _draw(cum_pop, rng.random(len(active)))
        taste_pick = r < p_taste + (p_next if t == 0 else 0.0)
        nxt[taste_pick] = in_cluster(taste[active[taste_pick]])
        if t > 0:
            seq_pick = r >= 1.0 - p_next
            nxt[seq_pick] = succ[prev[active[seq_pick]], rng.integers(0, successors, int(seq_pick.sum()))]
        prev[active] = nxt
        rows.append(active)
        cols.append(nxt)
        pos.append(np.full(len(active), t, np.float64))
    return _assemble(np.concatenate(rows), np.concatenate(cols), np.concatenate(pos), lengths, items)


def _assemble(r: np.ndarray, c: np.ndarray, ts: np.ndarray, lengths: np.ndarray, items: int) -> Interactions:
    """Drop repeated (user, item) pairs (first event kept), keep each user's first ``lengths[u]``
    distinct events and build the Interactions directly (ids ``u<n>`` / ``i<n>``)."""
    order = np.lexsort((ts, r))
    r, c, ts = r[order], c[order], ts[order]
    _, first = np.unique(r.astype(np.int64) * items + c, return_index=True)
    keep = np.sort(first)
    r, c, ts = r[keep], c[keep], ts[keep]
    starts = np.searchsorted(r, np.arange(len(lengths)))
    rank = np.arange(len(r)) - starts[r]  # position among the user's distinct events
    keep = rank < lengths[r]
    users = len(lengths)
    user_ids = np.asarray([f"u{u}" for u in range(users)], dtype=object)
    item_ids = np.asarray([f"i{i}" for i in range(items)], dtype=object)
    return Interactions(
        user_ids,
        item_ids,
        r[keep].astype(np.int32),
        c[keep].astype(np.int32),
        np.ones(int(keep.sum()), np.float32),
        rank[keep].astype(np.float64),
    )


def write_recbole(data: Interactions, path: Path) -> Path:
    """The data as a RecBole atomic ``.inter`` file (user_id, item_id, timestamp), readable by
    ``aisle bench recsys --inter PATH`` (default format) and by RecBole itself."""
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        {
            "user_id:token": data.user_ids[data.rows],
            "item_id:token": data.item_ids[data.cols],
            "timestamp:float": data.timestamps.astype(np.int64),
        }
    )
    frame.to_csv(path, sep="\t", index=False)
    return path
