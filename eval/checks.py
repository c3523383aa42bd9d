"""Score one recorded turn against its scripted expectations and the shop's data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from eval.facts import ClaimReport, Facts, check_claims, product_mentions
from eval.harness import TurnRecord

# Entity types scored by entity F1 (the rest are checked per turn only when a suite names them).
F1_TYPES = ("categories", "brands", "price_min", "price_max", "order_ids", "emails", "negated_brands")


@dataclass
class ConvContext:
    """What the tools returned so far in one conversation (references may point back to it)."""

    products: set[str] = field(default_factory=set)
    orders: set[str] = field(default_factory=set)
    reviews: set[str] = field(default_factory=set)
    user_text: str = ""
    last_cards: list[str] = field(default_factory=list)  # the latest product list, this turn included
    prev_cards: list[str] = field(default_factory=list)  # the latest list shown before this turn
    reasons: list[str] = field(default_factory=list)  # cards' one-line reasons (recommender evidence)

    def add(self, rec: TurnRecord) -> None:
        self.user_text += "\n" + rec.user
        self.prev_cards = list(self.last_cards)
        if rec.cards:
            self.last_cards = rec.card_ids
        self.reasons.extend(str(c.get("reason") or "") for c in rec.cards)
        self.products.update(rec.card_ids)
        for c in rec.citations:
            kind, cid = c.get("kind"), str(c.get("id"))
            if kind == "product":
                self.products.add(cid)
            elif kind == "order":
                self.orders.add(cid.upper())
            elif kind == "review":
                self.reviews.add(cid)


@dataclass
class TurnScore:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    claims: ClaimReport = field(default_factory=ClaimReport)
    cards_checked: int = 0
    cards_ok: int = 0
    ndcg5: float | None = None
    intent: tuple[list[str], str] | None = None  # (acceptable, predicted primary)
    entities: tuple[set[tuple[str, str]], set[tuple[str, str]]] | None = None
    handoff: tuple[bool, bool] | None = None  # (expected, predicted)

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.checks)

    def failures(self) -> list[str]:
        return [f"{name}: {detail}" for name, ok, detail in self.checks if not ok]


def _list(v: Any) -> list[Any]:
    if v is None:
        return []
    return list(v) if isinstance(v, list | tuple | set) else [v]


def _norm_cat(v: Any) -> str:
    return str(v).split(">")[-1].strip().lower()


def entity_pairs(entities: dict[str, Any], types: tuple[str, ...] = F1_TYPES) -> set[tuple[str, str]]:
    """Entities as normalised (type, value) pairs: categories by leaf name, prices to cents."""
    out: set[tuple[str, str]] = set()
    for t in types:
        for v in _list(entities.get(t)):
            if v is None or v == "":
                continue
            if t == "categories":
                out.add((t, _norm_cat(v)))
            elif t in ("price_min", "price_max"):
                out.add((t, f"{float(v):.2f}"))
            elif t == "order_ids":
                out.add((t, str(v).upper()))
            elif t == "attributes" and isinstance(v, dict):
                out.update((t, f"{k}={val}".lower()) for k, val in v.items())
            else:
                out.add((t, str(v).strip().lower()))
    return out


def product_ok(p: Any, spec: dict[str, Any]) -> tuple[bool, str]:
    """Does a catalog product satisfy a turn's product constraints? (reason when not)"""
    if p is None:
        return False, "not in the catalog"
    if "category" in spec:
        want = str(spec["category"]).lower()
        parts = [s.strip().lower() for s in p.category.split(">")]
        if want not in parts and want != p.category.lower():
            return False, f"category {p.category}"
    if "brands" in spec and (p.brand or "").lower() not in {b.lower() for b in _list(spec["brands"])}:
        return False, f"brand {p.brand}"
    if (p.brand or "").lower() in {b.lower() for b in _list(spec.get("exclude_brands"))}:
        return False, f"excluded brand {p.brand}"
    if "price_max" in spec and (p.price is None or p.price > float(spec["price_max"]) + 1e-9):
        return False, f"price {p.price}"
    if "price_min" in spec and (p.price is None or p.price < float(spec["price_min"]) - 1e-9):
        return False, f"price {p.price}"
    if "min_rating" in spec and (p.rating is None or p.rating < float(spec["min_rating"])):
        return False, f"rating {p.rating}"
    for k, v in (spec.get("attributes") or {}).items():
        if str(p.attributes.get(k, "")).lower() not in {str(x).lower() for x in _list(v)}:
            return False, f"{k}={p.attributes.get(k)}"
    for k, v in (spec.get("exclude_attributes") or {}).items():
        if str(p.attributes.get(k, "")).lower() in {str(x).lower() for x in _list(v)}:
            return False, f"excluded {k}={p.attributes.get(k)}"
    for k, b in (spec.get("bounds") or {}).items():
        val = attr_number(p, k)
        if (
            val is None
            or ("min" in b and val < float(b["min"]) - 1e-9)
            or ("max" in b and val > float(b["max"]) + 1e-9)
        ):
            return False, f"{k}={p.attributes.get(k)}"
    if spec.get("in_stock") and p.in_stock is False:
        return False, "out of stock"
    if p.id in set(_list(spec.get("ids_none"))):
        return False, "excluded id"
    return True, ""


def attr_number(p: Any, key: str) -> float | None:
    """A product's numeric value for `key`: price, rating, or the first number in the attribute."""
    if key == "price":
        return None if p.price is None else float(p.price)
    if key == "rating":
        return None if p.rating is None else float(p.rating)
    m = re.search(r"-?\d+(?:\.\d+)?", str(p.attributes.get(key, "")).replace(",", ""))
    return float(m.group()) if m else None


def relative_ok(cards: list[str], before: list[str], spec: dict[str, Any], facts: Facts) -> tuple[bool, str]:
    """Every card is below (direction less) / above (more) the extreme of the list shown before."""
    key, less = str(spec.get("attribute", "price")), spec.get("direction", "less") == "less"
    prev = [
        v
        for v in (attr_number(facts.products[i], key) for i in before if i in facts.products)
        if v is not None
    ]
    if not prev:
        return False, "no earlier list to compare with"
    ref = max(prev) if less else min(prev)
    bad = [
        c
        for c in cards
        if c in facts.products
        and ((v := attr_number(facts.products[c], key)) is None or (v >= ref if less else v <= ref))
    ]
    return not bad, f"{bad} not {'below' if less else 'above'} {key} {ref:g} of the earlier list"


def extreme_id(before: list[str], spec: dict[str, Any], facts: Facts) -> str | None:
    """The product of `before` with the lowest (min) / highest (max) value of an attribute."""
    raw = {i: attr_number(facts.products[i], str(spec["attribute"])) for i in before if i in facts.products}
    vals = {i: v for i, v in raw.items() if v is not None}
    if not vals:
        return None
    pick = min if spec["direction"] == "min" else max
    return pick(vals, key=lambda i: vals[i])


def _contains(hay: str, needle: Any) -> bool:
    return any(str(n).lower() in hay for n in _list(needle))


def check_turn(exp: dict[str, Any], rec: TurnRecord, facts: Facts, ctx: ConvContext) -> TurnScore:
    """All checks of one turn. `ctx` must already include this turn (ctx.add(rec) first)."""
    sc = TurnScore()
    if rec.error:
        sc.checks.append(("engine", False, rec.error))
    _check_understanding(exp, rec, sc)
    spec = exp.get("products")
    if spec is not None:
        _check_products(spec, rec, facts, ctx, sc)
    _check_reply(exp, rec, facts, ctx, sc)
    _check_grounding(rec, facts, ctx, sc)
    return sc


def _check_understanding(exp: dict[str, Any], rec: TurnRecord, sc: TurnScore) -> None:
    """Intents, entities, the action taken and the tools called."""
    add = sc.checks.append
    primary = rec.intents[0] if rec.intents else ""
    if "intent" in exp:
        ok_set = _list(exp["intent"])
        sc.intent = (ok_set, primary)
        add(("intent", primary in ok_set, f"got {primary!r}, want {ok_set}"))
    if "intents" in exp:
        missing = [i for i in _list(exp["intents"]) if i not in rec.intents]
        add(("intents", not missing, f"missing {missing} in {rec.intents}"))
    if "entities" in exp:
        want = entity_pairs(exp["entities"], tuple(exp["entities"]))
        got = entity_pairs(rec.entities, tuple(exp["entities"]))
        lost = want - got
        add(("entities", not lost, f"missing {sorted(lost)}; got {sorted(got)}"))
        sc.entities = (entity_pairs(exp["entities"]), entity_pairs(rec.entities))
    if "action" in exp:
        ok_set = _list(exp["action"])
        add(("action", rec.action in ok_set, f"got {rec.action!r}, want {ok_set}"))
    for tool in _list(exp.get("tools")):
        add((f"tool {tool}", tool in rec.tools, f"tools called {rec.tools}"))
    for tool in _list(exp.get("tools_absent")):
        add((f"no tool {tool}", tool not in rec.tools, f"tools called {rec.tools}"))
    if exp.get("no_products"):
        add(("no products", not rec.cards, f"showed {rec.card_ids}"))


def _check_products(
    spec: dict[str, Any], rec: TurnRecord, facts: Facts, ctx: ConvContext, sc: TurnScore
) -> None:
    """The product cards shown: how many, each against the constraints, and their ranking (nDCG@5)."""
    add = sc.checks.append
    n = len(rec.cards)
    lo, hi = int(spec.get("min", 1)), spec.get("max")
    add(("product count", n >= lo and (hi is None or n <= int(hi)), f"{n} cards, want >= {lo}"))
    bad = []
    for c in rec.cards:
        ok, why = product_ok(facts.products.get(str(c.get("product_id"))), spec)
        sc.cards_checked += 1
        sc.cards_ok += int(ok)
        if not ok:
            bad.append(f"{c.get('product_id')} ({why})")
    add(("constraints", not bad, "violations: " + ", ".join(bad)))
    if spec.get("relative"):
        add(("relative", *relative_ok(rec.card_ids, ctx.prev_cards, spec["relative"], facts)))
    if spec.get("ids_any"):
        add(
            (
                "expected product",
                bool(set(_list(spec["ids_any"])) & set(rec.card_ids)),
                f"none of {spec['ids_any']} in {rec.card_ids}",
            )
        )
    rel = {p.id for p in facts.products.values() if product_ok(p, spec)[0]}
    if rel and not spec.get("ids_any"):
        from eval.metrics import ndcg_at_k

        sc.ndcg5 = ndcg_at_k(rec.card_ids, rel, 5)


def _check_reply(exp: dict[str, Any], rec: TurnRecord, facts: Facts, ctx: ConvContext, sc: TurnScore) -> None:
    """What the reply says and is about: required / forbidden words, the products it is about, its
    citations, and whether it hands off to a person."""
    add = sc.checks.append
    visible = (rec.text + "\n" + "\n".join(str(c.get("title", "")) for c in rec.cards)).lower()
    for item in _list(exp.get("must_include")):
        add(("must include", _contains(visible, item), f"{item!r} not in reply"))
    for item in _list(exp.get("must_not_include")):
        add(("must not include", not _contains(visible, item), f"{item!r} in reply"))
    about = exp.get("about")
    if about:
        add(_about(about, rec, facts, ctx))
    for want in _list(exp.get("cite")):
        found = any(_cites(c, want, facts) for c in rec.citations)
        add(("citation", found, f"want {want}, got {[(c.get('kind'), c.get('id')) for c in rec.citations]}"))
    want_h = exp.get("handoff", "handoff" in _list(exp.get("tools")) or "handoff" in _list(exp.get("action")))
    if want_h != "any":
        sc.handoff = (bool(want_h), rec.handoff)
        if "handoff" in exp:
            add(("handoff", bool(want_h) == rec.handoff, f"handoff={rec.handoff}, want {want_h}"))


def _about(about: dict[str, Any], rec: TurnRecord, facts: Facts, ctx: ConvContext) -> tuple[str, bool, str]:
    """The reply shows or cites the products the turn asks about (by id, list position or extreme)."""
    want_ids = [str(x) for x in _list(about.get("id"))]
    for n in _list(about.get("shown")):
        want_ids.append(
            ctx.prev_cards[int(n) - 1] if 0 < int(n) <= len(ctx.prev_cards) else f"<no #{n} shown>"
        )
    if about.get("extreme"):
        want_ids.append(extreme_id(ctx.prev_cards, about["extreme"], facts) or "<no earlier list>")
    seen = set(rec.card_ids) | {str(c.get("id")) for c in rec.citations if c.get("kind") == "product"}
    missing = [i for i in want_ids if i not in seen]
    return ("about", not missing, f"reply is not about {missing} (cards/citations {sorted(seen)})")


def _cites(c: dict[str, Any], want: dict[str, Any], facts: Facts) -> bool:
    """Does citation `c` match the wanted kind, and the wanted ids or policy topics when given?"""
    if c.get("kind") != want.get("kind"):
        return False
    cid = str(c.get("id"))
    topic = getattr(facts.policies.get(cid), "topic", None)
    ids = {str(x).lower() for x in _list(want.get("id"))}
    topics = {str(x) for x in _list(want.get("topic"))}
    return (not ids or cid.lower() in ids) and (not topics or topic in topics or cid in topics)


def _check_grounding(rec: TurnRecord, facts: Facts, ctx: ConvContext, sc: TurnScore) -> None:
    """Every product, price and rating the reply names was returned by a tool in this conversation."""
    # Products reached through an order or a review the tools returned count as returned too.
    returned = set(ctx.products)
    returned.update(
        it["product_id"] for o in ctx.orders if o in facts.orders for it in facts.orders[o]["items"]
    )
    returned.update(facts.reviews[r].product_id for r in ctx.reviews if r in facts.reviews)
    # A card's reason may name the product it was chosen after ("people who chose X also chose
    # this"): that name came from the recommender tool, so repeating it is grounded.
    returned.update(
        pid for reason in ctx.reasons for _, cands in product_mentions(reason, facts) for pid in cands
    )
    sc.claims = check_claims(
        rec.text, facts, returned, orders=ctx.orders, user_text=ctx.user_text, review_ids=ctx.reviews
    )
    sc.checks.append(
        (
            "grounding",
            not (sc.claims.unknown_products or sc.claims.wrong_prices or sc.claims.wrong_ratings),
            "; ".join(sc.claims.unknown_products + sc.claims.wrong_prices + sc.claims.wrong_ratings),
        )
    )
