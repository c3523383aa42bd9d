"""`aisle bench insights`: churn risk on a later time window, beside a recency-only baseline, and the
stability of the RFM segments across k-means seeds.

Data: the Amazon Office interactions (../shared/data/amazon-office, real) and the demo shop (real
timestamps, synthetic shoppers). Office keeps each user's items in time order but no timestamps,
so its time axis is estimated: an item's age is its mean relative position in the histories that
hold it (items bought late in many histories are newer), and an event's time is the running
maximum of the mean age of the user's last three items (causal: an event's time never depends on
the user's later events), rescaled so that activity is uniform over 1,000 "days". The windows
are then cut on that axis; the estimate, not the calendar, is what "later" means there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from assistant.insights.activity import Activity, features
from assistant.insights.churn import time_split
from assistant.insights.segments import stability

OFFICE = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "amazon-office" / "Office.inter.json"
)


def office_activities(path: Path = OFFICE, smooth: int = 3) -> list[Activity]:
    """Office purchases on the estimated clock (module docstring); each counts one unit of spend
    (the dataset has no prices)."""
    seqs: dict[str, list[int]] = json.loads(path.read_text())
    positions: dict[int, list[float]] = defaultdict(list)
    for items in seqs.values():
        for i, it in enumerate(items):
            positions[it].append(i / max(len(items) - 1, 1))
    age = {it: float(np.mean(p)) for it, p in positions.items()}
    raw: list[tuple[str, float]] = []
    for user, items in seqs.items():
        ages, clock = [age[it] for it in items], 0.0
        for i in range(len(items)):
            clock = max(clock, float(np.mean(ages[max(0, i - smooth + 1) : i + 1])))
            raw.append((user, clock))
    ranks = np.sort(np.asarray([c for _, c in raw]))
    scale = 1000.0 / len(ranks)
    return [Activity(u, float(np.searchsorted(ranks, c)) * scale, "purchase", 1.0) for u, c in raw]


def _churn(acts: list[Activity], cutoff: float, window: float, horizon: float) -> dict[str, Any]:
    t0 = time.perf_counter()
    r = time_split(acts, cutoff, window, horizon)
    r.pop("fitted")
    r["protocol"] = {"test_cutoff": cutoff, "window": window, "horizon": horizon}
    r["seconds"] = round(time.perf_counter() - t0, 1)
    return r


def demo_activities() -> list[Activity]:
    from assistant.insights.shop import activities_from_records, prices_of
    from knowledge.demo import load_demo

    shop = load_demo()
    return activities_from_records(shop.interactions, prices_of(shop.products), shop.orders)


def run(seeds: int, say: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if OFFICE.is_file():
        acts = office_activities()
        say(f"office: {len(acts)} purchases on the estimated clock")
        out["office"] = {"churn": _churn(acts, 750.0, 365.0, 125.0)}
        table = features(acts, 1000.0, 1000.0)
        out["office"]["segments"] = {"customers": len(table.customers), **stability(table, seeds)}
    else:
        out["office"] = {"skipped": f"{OFFICE} not found"}
    acts = demo_activities()
    end = max(a.t for a in acts)
    say(f"demo shop: {len(acts)} records over {end - min(a.t for a in acts):.0f} days")
    out["demo"] = {"churn": _churn(acts, end - 60.0, 180.0, 60.0)}
    table = features(acts, end, 180.0)
    out["demo"]["segments"] = {"customers": len(table.customers), **stability(table, seeds)}
    return out


def _line(name: str, block: dict[str, Any]) -> str:
    c = block["churn"]
    m, b, s = c["model"], c["recency_only"], block["segments"]
    return (
        f"{name}: churn AUC {m['auc']:.3f} (recency only {b['auc']:.3f}), Brier {m['brier']:.3f} "
        f"({b['brier']:.3f}), ECE {m['ece']:.3f} ({b['ece']:.3f}); test n {c['n']['test']}, churn rate "
        f"{c['churn_rate']['test']:.2f}; segments k {s['k']} "
        f"ARI mean {s['ari_mean']:.3f} min {s['ari_min']:.3f}"
    )


def cli(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="aisle bench insights", description=__doc__)
    ap.add_argument("--seeds", type=int, default=10, help="k-means seeds for segment stability")
    ap.add_argument("--out", type=Path, default=Path("bench-out/insights.json"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = run(args.seeds, lambda s: print(s, file=sys.stderr, flush=True))
    out["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2), encoding="utf-8")
    for name in ("office", "demo"):
        if "churn" in out[name]:
            print(_line(name, out[name]))
    return 0
