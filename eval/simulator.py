"""Simulated shoppers with a hidden target product ("ask" mode, after iEvaLM-CRS).

Each shopper is a demo customer whose most recent purchase is the hidden target; the engine sees
the customer's history only up to that purchase (the runner builds the shop with those
interactions held out). The shopper opens vaguely ("I need something for my desk") and reveals
the target's attributes only when the assistant asks for them: category, budget, brand, features.
When nothing is asked and the target is not shown, it says no without giving anything away.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from eval.harness import Engine, TurnRecord, new_session_id, run_turn
from eval.metrics import mean, recall_at_k, success_at_n

# Vague openers by (top, middle) category: they name a need, never the product kind.
OPENERS = {
    ("Electronics", "Audio"): "I want something to listen to music with.",
    ("Electronics", "Wearables"): "I'm looking for a gadget I can wear every day.",
    ("Electronics", "Power"): "I need something to keep my devices powered up.",
    ("Computers", "Accessories"): "I need something for my computer setup.",
    ("Computers", "Monitors"): "I want to upgrade my desk setup.",
    ("Computers", "Storage"): "I need somewhere to keep all my files.",
    ("Home", "Kitchen"): "I need something for my kitchen.",
    ("Home", "Cleaning"): "I need something to keep my floors clean.",
    ("Office", "Desk"): "I need something for my desk.",
    ("Office", "Supplies"): "I need some office supplies.",
    ("Sports", "Running"): "I need something for my running.",
    ("Sports", "Fitness"): "I need something for working out at home.",
    ("Clothing", "Outerwear"): "I need something to wear outside this winter.",
    ("Clothing", "Tops"): "I need some new clothes.",
    ("Clothing", "Accessories"): "I need something to carry my stuff around.",
    ("Beauty", "Skincare"): "I need something for my skincare routine.",
    ("Beauty", "Hair"): "I need something for my hair.",
    ("Beauty", "Fragrance"): "I'm looking for something that smells nice.",
    ("Toys", "Building"): "I'm looking for a toy.",
    ("Toys", "Games"): "I need something for game night.",
    ("Outdoor", "Camping"): "I need gear for a camping trip.",
    ("Outdoor", "Hydration"): "I need something to drink from on hikes.",
}
SLOTS = {
    "category": re.compile(
        r"what (kind|type|sort)|which (kind|type|category|product)|what are you (looking|shopping)"
        r"|what do you need|categor|looking for\?|what (would|will) you use|tell me more about what",
        re.I,
    ),
    "budget": re.compile(r"budget|price range|how much|spend|price", re.I),
    "brand": re.compile(r"\bbrands?\b", re.I),
    "features": re.compile(
        r"feature|must-have|requirement|preference|anything (specific|particular|else)|specific"
        r"|important to you|colou?r|size|style|prefer",
        re.I,
    ),
}


@dataclass(frozen=True)
class Target:
    customer_id: str
    product_id: str
    cutoff_ts: str  # the purchase's timestamp: history from here on is held out
    category: str
    brand: str
    price: float
    title_words: tuple[str, ...]  # descriptive words from the title (e.g. "Wireless", "Noise-Cancelling")
    attributes: dict[str, str] = field(default_factory=dict)
    noun: str = ""  # what the title calls one item, e.g. "Desk Lamp"

    @property
    def top(self) -> str:
        return self.category.split(">")[0].strip()

    @property
    def leaf(self) -> str:
        return self.category.split(">")[-1].strip()


_VARIANTS = {"Pro", "Lite", "Max", "S", "X", "Mini", "Plus"}


def _common_suffix(titles: list[list[str]]) -> int:
    n = 0
    while all(len(t) > n for t in titles) and len({t[-1 - n] for t in titles}) == 1:
        n += 1
    return n


def _title_words(p: Any, suffix_len: int) -> tuple[str, ...]:
    """Descriptive title words ("Wireless", "Noise-Cancelling"): the title minus the brand, the
    model name (one token plus an optional variant like "Pro" or "300") and the leaf's noun."""
    toks = p.title[len(p.brand or "") :].split()
    toks = toks[: len(toks) - suffix_len] if suffix_len else toks
    body = toks[1:]
    if body and (body[0] in _VARIANTS or body[0].isdigit()):
        body = body[1:]
    return tuple(body)


def pick_targets(
    shop: Any, n: int, seed: int = 0, min_purchases: int = 3, exclude: frozenset[str] | set[str] = frozenset()
) -> list[Target]:
    """n customers (>= min_purchases purchases, last one priced, not in `exclude`), stratified
    round-robin over the target's top-level category so every category is represented.
    Deterministic for a seed."""
    products = {p.id: p for p in shop.products}
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in shop.interactions:
        events[e["customer_id"]].append(e)
    leaf_titles: dict[str, list[list[str]]] = defaultdict(list)
    for p in shop.products:
        leaf_titles[p.category].append(p.title.split())
    suffix = {c: _common_suffix(ts) for c, ts in leaf_titles.items()}
    by_top: dict[str, list[Target]] = defaultdict(list)
    for cid in sorted(set(events) - set(exclude)):
        evs = sorted(events[cid], key=lambda e: e["ts"])
        buys = [e for e in evs if e["event"] == "purchase"]
        if len(buys) < min_purchases:
            continue
        last = buys[-1]
        p = products.get(last["product_id"])
        if p is None or p.price is None or not p.brand:
            continue
        # Hold out the whole final visit: from the first touch of the target after the previous
        # purchase. A customer who had touched the target before that is skipped: its target
        # would count as already seen, which recommenders rightly exclude.
        touches = [e["ts"] for e in evs if e["product_id"] == p.id]
        cutoff = (
            min(ts for ts in touches if ts > buys[-2]["ts"])
            if any(ts > buys[-2]["ts"] for ts in touches)
            else last["ts"]
        )
        if any(ts < cutoff for ts in touches):
            continue
        sl = suffix[p.category]
        t = Target(
            cid,
            p.id,
            cutoff,
            p.category,
            p.brand,
            float(p.price),
            _title_words(p, sl),
            dict(p.attributes),
            " ".join(p.title.split()[-sl:]) if sl else "",
        )
        by_top[t.top].append(t)
    rng = random.Random(seed)
    for lst in by_top.values():
        rng.shuffle(lst)
    out: list[Target] = []
    tops = sorted(by_top)
    while len(out) < n and any(by_top[c] for c in tops):
        for c in tops:
            if by_top[c] and len(out) < n:
                out.append(by_top[c].pop())
    return out


def holdout(targets: list[Target]) -> dict[str, str]:
    """customer_id -> cutoff timestamp: interactions at or after it are hidden from the engine."""
    return {t.customer_id: t.cutoff_ts for t in targets}


def opener(t: Target) -> str:
    parts = [s.strip() for s in t.category.split(">")]
    return OPENERS.get((parts[0], parts[1] if len(parts) > 1 else ""), "I'm looking for something new.")


def asked_slots(reply: str) -> list[str]:
    """The attributes a reply asks the shopper about (only sentences that are questions count)."""
    questions = " ".join(s for s in re.split(r"(?<=[.!?])\s+|\n+", reply) if s.strip().endswith("?"))
    return [slot for slot, rx in SLOTS.items() if rx.search(questions)]


def answer(t: Target, slots: list[str]) -> str:
    """The shopper's reply: the asked attributes of the target, nothing else."""
    parts = []
    for slot in slots:
        if slot == "category":
            extra = f" ({t.noun.lower()})" if t.noun and t.noun.lower() not in t.leaf.lower() else ""
            parts.append(f"I'm looking for {t.leaf.lower()}{extra}.")
        elif slot == "budget":
            parts.append(f"My budget is under ${int(math.ceil(t.price * 1.2 / 10.0) * 10)}.")
        elif slot == "brand":
            parts.append(f"I like {t.brand.rstrip('.')}.")
        elif slot == "features":
            if t.title_words:
                parts.append(f"It should be {' and '.join(w.lower() for w in t.title_words[:2])}.")
            elif t.attributes:
                k, v = sorted(t.attributes.items())[0]
                words = k.split("_")
                name = " ".join(words[:-1] if len(words) > 1 and len(words[-1]) <= 3 else words)
                parts.append(f"I'd like {name}: {v}.")
    return " ".join(parts) or "None of those are quite what I'm after."


@dataclass
class Dialogue:
    target: Target
    turns: list[TurnRecord]
    success_turn: int | None  # 1-based shopper turn at which the target was first shown
    best_rank: int | None
    first_list_hit: bool


def simulate(engine: Engine, t: Target, max_turns: int = 5, session_id: str | None = None) -> Dialogue:
    sid = session_id or new_session_id(f"sim-{t.customer_id}")
    msg, turns, success, best, first_hit = opener(t), [], None, None, None
    for i in range(1, max_turns + 1):
        rec = run_turn(engine, sid, msg, customer_id=t.customer_id)
        turns.append(rec)
        ids = rec.card_ids
        if ids and first_hit is None:
            first_hit = t.product_id in ids
        if t.product_id in ids:
            rank = ids.index(t.product_id) + 1
            best = rank if best is None else min(best, rank)
            success = i
            break
        msg = answer(t, asked_slots(rec.text))
    return Dialogue(t, turns, success, best, bool(first_hit))


def summarize(
    dialogues: list[Dialogue], ns: tuple[int, ...] = (1, 3, 5), ks: tuple[int, ...] = (1, 3, 5)
) -> dict[str, Any]:
    """success@N, turns to success, recall@k, first-list hit rate; overall and per top category."""

    def block(ds: list[Dialogue]) -> dict[str, Any]:
        tts = [d.success_turn for d in ds]
        out: dict[str, Any] = {"n": len(ds)}
        out.update({f"success@{n}": success_at_n(tts, n) for n in ns})
        out["turns_to_success"] = mean([float(x) for x in tts if x is not None])
        out.update({f"recall@{k}": recall_at_k([d.best_rank for d in ds], k) for k in ks})
        out["first_list_hit_rate"] = mean([float(d.first_list_hit) for d in ds])
        return out

    res = block(dialogues)
    cats: dict[str, list[Dialogue]] = defaultdict(list)
    for d in dialogues:
        cats[d.target.top].append(d)
    res["per_category"] = {c: block(ds) for c, ds in sorted(cats.items())}
    return res
