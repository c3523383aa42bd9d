"""Interactions: raw-id <-> index maps plus a sparse user x item matrix of weights and timestamps.

Documented input behaviour (tested in tests/test_recommender_data.py):
- empty data, NaN / infinite / negative weights, missing ids -> ``DataError`` naming the fix;
- duplicate (user, item) rows are aggregated with ``duplicates=`` "sum" (default: repeated
  implicit events add up), "max", "last" (latest timestamp wins) or "error";
- timestamps default to the row order, so "leave-one-out by time" follows the file order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recommender.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

DUPLICATE_POLICIES = ("sum", "max", "last", "error")


@dataclass(frozen=True)
class Interactions:
    """Immutable interaction data. ``user_ids[i]`` / ``item_ids[j]`` are raw ids (strings)."""

    user_ids: np.ndarray  # (n_users,) str
    item_ids: np.ndarray  # (n_items,) str
    rows: np.ndarray  # (nnz,) int32 user index
    cols: np.ndarray  # (nnz,) int32 item index
    weights: np.ndarray  # (nnz,) float32
    timestamps: np.ndarray  # (nnz,) float64

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        users: Sequence[object],
        items: Sequence[object],
        weights: Sequence[float] | np.ndarray | None = None,
        timestamps: Sequence[float] | np.ndarray | None = None,
        *,
        user_ids: Iterable[object] | None = None,
        item_ids: Iterable[object] | None = None,
        duplicates: str = "sum",
        allow_empty: bool = False,
    ) -> Interactions:
        """Build from parallel sequences of raw ids. ``user_ids`` / ``item_ids`` fix the id
        universe (e.g. the whole catalog, so items nobody touched still get an index)."""
        if duplicates not in DUPLICATE_POLICIES:
            raise DataError(f"duplicates={duplicates!r}: choose one of {', '.join(DUPLICATE_POLICIES)}")
        u_raw = np.asarray([str(u) for u in users], dtype=object)
        i_raw = np.asarray([str(i) for i in items], dtype=object)
        if len(u_raw) != len(i_raw):
            raise DataError(f"{len(u_raw)} users but {len(i_raw)} items: pass one user and one item per row")
        if len(u_raw) == 0 and not allow_empty:
            raise DataError("no interactions: pass at least one (user, item) row")
        w = np.ones(len(u_raw), np.float64) if weights is None else np.asarray(weights, np.float64)
        if len(w) != len(u_raw):
            raise DataError("weights must have one value per row")
        if not np.all(np.isfinite(w)):
            bad = int(np.flatnonzero(~np.isfinite(w))[0])
            raise DataError(f"weight at row {bad} is NaN or infinite: drop or fill missing weights first")
        if np.any(w < 0):
            raise DataError(
                "negative weights are not supported: map dislikes to a small positive weight or drop them"
            )
        ts = (
            np.arange(len(u_raw), dtype=np.float64)
            if timestamps is None
            else np.asarray(timestamps, np.float64)
        )
        if len(ts) != len(u_raw) or not np.all(np.isfinite(ts)):
            raise DataError("timestamps must be finite numbers, one per row (or omit them to use row order)")
        uids = _universe(u_raw, user_ids)
        iids = _universe(i_raw, item_ids)
        r = _index(u_raw, uids, "user")
        c = _index(i_raw, iids, "item")
        r, c, w, ts = _dedupe(r, c, w, ts, len(iids), duplicates)
        return cls(uids, iids, r.astype(np.int32), c.astype(np.int32), w.astype(np.float32), ts)

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        user_col: str = "user_id",
        item_col: str = "item_id",
        weight_col: str | None = None,
        ts_col: str | None = None,
        **kw: Any,
    ) -> Interactions:
        """From a pandas DataFrame."""
        for col in (user_col, item_col, weight_col, ts_col):
            if col is not None and col not in df.columns:
                raise DataError(
                    f"column {col!r} not in frame (columns: {list(df.columns)}): pass the right *_col="
                )
        return cls.from_arrays(
            df[user_col].tolist(),
            df[item_col].tolist(),
            None if weight_col is None else df[weight_col].to_numpy(),
            None if ts_col is None else df[ts_col].to_numpy(),
            **kw,
        )

    # ---- shape and views ----------------------------------------------------------------
    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def nnz(self) -> int:
        return len(self.rows)

    def matrix(self, binary: bool = False) -> sp.csr_matrix:
        data = np.ones(self.nnz, np.float32) if binary else self.weights
        m = sp.csr_matrix(
            (data, (self.rows, self.cols)), shape=(self.n_users, self.n_items), dtype=np.float32
        )
        m.sort_indices()
        return m

    def shared_matrix(self) -> sp.csr_matrix:
        """``matrix()`` built once per object, for callers that read it batch after batch (scoring
        a test split in user batches); do not modify it."""
        return self._csr

    def shared_sequences(self) -> list[np.ndarray]:
        """``sequences()`` built once per object; do not modify them."""
        return self._seqs

    @cached_property
    def _csr(self) -> sp.csr_matrix:
        return self.matrix()

    @cached_property
    def _seqs(self) -> list[np.ndarray]:
        return self.sequences()

    def user_index(self) -> dict[str, int]:
        return self._user_index

    def item_index(self) -> dict[str, int]:
        return self._item_index

    @cached_property
    def _user_index(self) -> dict[str, int]:  # cached: recommend() looks ids up per request
        return {u: i for i, u in enumerate(self.user_ids)}

    @cached_property
    def _item_index(self) -> dict[str, int]:
        return {it: i for i, it in enumerate(self.item_ids)}

    def uidx(self, user: object) -> int:
        idx = self.user_index().get(str(user))
        if idx is None:
            raise DataError(
                f"unknown user {user!r}: use fold_in / recommend_for_history for users unseen at fit time"
            )
        return idx

    def sequences(self) -> list[np.ndarray]:
        """Each user's item indices in time order (ties keep row order)."""
        order = np.lexsort((self.timestamps, self.rows))
        r, c = self.rows[order], self.cols[order]
        bounds = np.searchsorted(r, np.arange(self.n_users + 1))
        return [c[bounds[u] : bounds[u + 1]] for u in range(self.n_users)]

    def subset(self, mask: np.ndarray) -> Interactions:
        """Rows where ``mask`` is true, keeping the same id maps (so matrices line up)."""
        return Interactions(
            self.user_ids,
            self.item_ids,
            self.rows[mask],
            self.cols[mask],
            self.weights[mask],
            self.timestamps[mask],
        )

    def concat(self, other: Interactions) -> Interactions:
        """Union of two splits built on the same id maps (e.g. train + valid as test-time history)."""
        if not (
            np.array_equal(self.user_ids, other.user_ids) and np.array_equal(self.item_ids, other.item_ids)
        ):
            raise DataError(
                "cannot concat interactions with different id maps: build them with shared user_ids/item_ids"
            )
        r, c, w, ts = _dedupe(
            np.r_[self.rows, other.rows],
            np.r_[self.cols, other.cols],
            np.r_[self.weights, other.weights].astype(np.float64),
            np.r_[self.timestamps, other.timestamps],
            self.n_items,
            "sum",
        )
        return Interactions(
            self.user_ids, self.item_ids, r.astype(np.int32), c.astype(np.int32), w.astype(np.float32), ts
        )

    # ---- persistence (npz + JSON, no pickle) --------------------------------------------
    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path / "interactions.npz",
            rows=self.rows,
            cols=self.cols,
            weights=self.weights,
            timestamps=self.timestamps,
        )
        (path / "ids.json").write_text(
            json.dumps({"users": self.user_ids.tolist(), "items": self.item_ids.tolist()})
        )

    @classmethod
    def load(cls, path: Path) -> Interactions:
        ids = json.loads((path / "ids.json").read_text())
        with np.load(path / "interactions.npz", allow_pickle=False) as z:
            return cls(
                np.asarray(ids["users"], dtype=object),
                np.asarray(ids["items"], dtype=object),
                z["rows"],
                z["cols"],
                z["weights"],
                z["timestamps"],
            )


def _universe(raw: np.ndarray, given: Iterable[object] | None) -> np.ndarray:
    if given is not None:
        ids = np.asarray([str(x) for x in given], dtype=object)
        if len(set(ids.tolist())) != len(ids):
            raise DataError("duplicate ids in the given id universe: pass each id once")
        return ids
    _, first = np.unique(raw.astype(str), return_index=True)
    return raw[np.sort(first)]  # first-seen order keeps indices stable and readable


def _index(raw: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    lookup = {x: i for i, x in enumerate(ids.tolist())}
    out = np.empty(len(raw), np.int64)
    for n, x in enumerate(raw.tolist()):
        i = lookup.get(x)
        if i is None:
            raise DataError(
                f"unknown {what} id {x!r} (not in the given {what}_ids): add it to the id universe"
            )
        out[n] = i
    return out


def _dedupe(
    r: np.ndarray, c: np.ndarray, w: np.ndarray, ts: np.ndarray, n_items: int, policy: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if len(r) == 0:
        return r, c, w, ts
    key = r.astype(np.int64) * n_items + c
    order = np.lexsort((ts, key))
    key, r, c, w, ts = key[order], r[order], c[order], w[order], ts[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    if len(starts) == len(key):
        return r, c, w, ts
    if policy == "error":
        dup = int(np.flatnonzero(np.r_[key[1:] == key[:-1], False])[0])
        raise DataError(
            f"duplicate (user, item) row for user index {r[dup]}, item index {c[dup]}: "
            "deduplicate, or pass duplicates='sum'|'max'|'last'"
        )
    ends = np.r_[starts[1:], len(key)] - 1
    if policy == "sum":
        w2 = np.add.reduceat(w, starts)
    elif policy == "max":
        w2 = np.maximum.reduceat(w, starts)
    else:  # last: the row with the latest timestamp
        w2 = w[ends]
    return r[starts], c[starts], w2, ts[ends]


# ---- readers ------------------------------------------------------------------------------
def read_recbole(path: Path, **kw: Any) -> Interactions:
    """A RecBole atomic ``.inter`` file (tab separated, headers like ``user_id:token``)."""
    import pandas as pd

    df = pd.read_csv(path, sep="\t", dtype=str)
    df.columns = [c.split(":")[0] for c in df.columns]
    ts = "timestamp" if "timestamp" in df.columns else None
    if ts:
        df[ts] = df[ts].astype(float)
    return Interactions.from_frame(df, "user_id", "item_id", None, ts, **kw)


def read_amazon_seq(path: Path, **kw: Any) -> Interactions:
    """Amazon ``*.inter.json``: {user: [items in time order]}; time = position in the list."""
    data = json.loads(Path(path).read_text())
    users, items, ts = [], [], []
    for u, seq in data.items():
        for pos, it in enumerate(seq):
            users.append(u)
            items.append(it)
            ts.append(pos)
    return Interactions.from_arrays(users, items, None, ts, **kw)


def read_tsv(path: Path, **kw: Any) -> Interactions:
    """``user<TAB>item`` with a header; the file order is the time order."""
    import pandas as pd

    df = pd.read_csv(path, sep="\t", dtype=str)
    return Interactions.from_frame(df, df.columns[0], df.columns[1], **kw)


def read_split_dir(folder: Path) -> tuple[Interactions, Interactions, Interactions]:
    """The fixed ``train/valid/test.tsv`` split, sharing one id universe (all items of the dataset)."""
    import pandas as pd

    frames = []
    for name in ("train", "valid", "test"):
        f = Path(folder) / f"{name}.tsv"
        if not f.is_file():
            raise DataError(f"{f} not found: point at a folder with train.tsv, valid.tsv and test.tsv")
        frames.append(pd.read_csv(f, sep="\t", dtype=str))
    users = pd.unique(pd.concat([f.iloc[:, 0] for f in frames]))
    items = pd.unique(pd.concat([f.iloc[:, 1] for f in frames]))
    offset = 0
    out = []
    for f in frames:  # global row order as time: valid rows come after train rows, test after valid
        ts = np.arange(offset, offset + len(f), dtype=np.float64)
        offset += len(f)
        out.append(
            Interactions.from_arrays(
                f.iloc[:, 0].tolist(), f.iloc[:, 1].tolist(), None, ts, user_ids=users, item_ids=items
            )
        )
    return out[0], out[1], out[2]


# ---- splitters ----------------------------------------------------------------------------
def split_random(
    data: Interactions, ratios: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> tuple[Interactions, Interactions, Interactions]:
    """Per-user random split by ratio; users with one event keep it in train."""
    if abs(sum(ratios) - 1.0) > 1e-6:
        raise DataError(f"ratios {ratios} must sum to 1")
    rng = np.random.default_rng(seed)
    part = np.zeros(data.nnz, np.int8)
    order = np.argsort(data.rows, kind="stable")
    bounds = np.searchsorted(data.rows[order], np.arange(data.n_users + 1))
    for u in range(data.n_users):
        idx = order[bounds[u] : bounds[u + 1]]
        n = len(idx)
        if n < 2:
            continue
        idx = rng.permutation(idx)
        n_tr = max(1, int(round(n * ratios[0])))
        n_va = int(round(n * ratios[1]))
        part[idx[n_tr : n_tr + n_va]] = 1
        part[idx[n_tr + n_va :]] = 2
    return data.subset(part == 0), data.subset(part == 1), data.subset(part == 2)


def split_loo(data: Interactions) -> tuple[Interactions, Interactions, Interactions]:
    """Leave-one-out by time: last event = test, second-last = valid (users with >= 3 events)."""
    part = np.zeros(data.nnz, np.int8)
    order = np.lexsort((data.timestamps, data.rows))
    bounds = np.searchsorted(data.rows[order], np.arange(data.n_users + 1))
    for u in range(data.n_users):
        idx = order[bounds[u] : bounds[u + 1]]
        if len(idx) >= 3:
            part[idx[-1]] = 2
            part[idx[-2]] = 1
    return data.subset(part == 0), data.subset(part == 1), data.subset(part == 2)


def split_cold_users(
    data: Interactions, fraction: float = 0.1, seed: int = 0
) -> tuple[Interactions, Interactions]:
    """Hold out all events of a random ``fraction`` of users (they are unseen at fit time)."""
    rng = np.random.default_rng(seed)
    cold = rng.random(data.n_users) < fraction
    mask = cold[data.rows]
    return data.subset(~mask), data.subset(mask)
