"""Topic scoping: which constraints a product request searches with.

A request for a new product type starts a fresh topic unless the shopper signals continuation
("also", "instead", "same budget"); a refinement changes the topic in place. When the merged
constraints match nothing, the ones carried over from earlier turns are relaxed (never the ones the
shopper just stated), so "anything from Bose?" after a $100 headphone list finds Bose products
instead of answering "nothing matches". What was carried and what was relaxed is reported, so the
reply can say it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from assistant.nlu.commands import FindProducts, Refine, Relative
from assistant.state import DialogueState
from knowledge.constraints import Bound, Constraints

Count = Callable[[Constraints], int]
ValueOf = Callable[[str, str], float | None]  # (product id, "price" | attribute key) -> number
# Carried slots are relaxed in this order: details first, the product type last.
RELAX_ORDER = (
    "attributes",
    "exclude_attributes",
    "bounds",
    "min_rating",
    "in_stock",
    "brands",
    "exclude_brands",
    "price",
    "categories",
)


@dataclass(frozen=True)
class Scoped:
    constraints: Constraints
    carried: tuple[str, ...] = ()  # slots kept from earlier turns
    relaxed: tuple[str, ...] = ()  # carried slots dropped because nothing matched
    fresh: bool = False  # a new topic


def scope_find(cmd: FindProducts, state: DialogueState, count: Count) -> Scoped:
    new, topic = cmd.constraints, state.topic
    switch = bool(new.categories) and bool(topic.categories) and set(new.categories) != set(topic.categories)
    if topic.is_empty() or (switch and not cmd.carry):
        return _relaxed(Scoped(_clean(new), fresh=True), new, count)
    base = topic.drop(["attributes", "exclude_attributes", "bounds"]) if switch else topic
    merged = base.override(new)
    return _relaxed(Scoped(_clean(merged), carried=_carried(base, new)), new, count)


def scope_refine(cmd: Refine, state: DialogueState, count: Count, value_of: ValueOf) -> Scoped:
    new = cmd.set
    merged = state.topic.override(new).drop(cmd.unset)
    for rel in cmd.relative:
        merged = _relative(merged, rel, state, value_of)
    if cmd.reject_shown:
        merged = replace(merged, exclude_ids=tuple(dict.fromkeys((*merged.exclude_ids, *state.shown_ids))))
    stated = replace(new, exclude_ids=merged.exclude_ids)
    if cmd.relative:  # the bound "cheaper" set is the shopper's own word, not a carried one
        stated = replace(stated, price=merged.price, bounds=merged.bounds)
    carried = tuple(s for s in _carried(state.topic.drop(cmd.unset), new) if s not in _relative_slots(cmd))
    return _relaxed(Scoped(_clean(merged), carried=carried), stated, count)


def _relative_slots(cmd: Refine) -> set[str]:
    return {"price" if r.attribute == "price" else "bounds" for r in cmd.relative}


def _relative(c: Constraints, rel: Relative, state: DialogueState, value_of: ValueOf) -> Constraints:
    """ "cheaper" / "lighter" / "bigger": beyond the product in focus, else the top of the last list."""
    ref = state.focus or (state.shown_ids[0] if state.shown else None)
    value = value_of(ref, rel.attribute) if ref else None
    if value is None:
        return c
    step = 0.01 if rel.attribute == "price" else 1e-6
    lo, hi = (None, value - step) if rel.direction == "less" else (value + step, None)
    if rel.attribute == "price":
        return replace(
            c, price=Bound(c.price.min if lo is None else lo, hi if hi is not None else c.price.max)
        )
    old = c.bounds.get(rel.attribute, Bound())
    bound = Bound(old.min if lo is None else lo, old.max if hi is None else hi)
    return replace(c, bounds={**c.bounds, rel.attribute: bound})


def _carried(base: Constraints, new: Constraints) -> tuple[str, ...]:
    """Slots the base sets that the new constraints do not restate."""
    out = []
    for slot in RELAX_ORDER:
        old, mine = _slot(base, slot), _slot(new, slot)
        if old not in (None, (), {}, Bound()) and mine in (None, (), {}, Bound()):
            out.append(slot)
    return tuple(out)


def _slot(c: Constraints, slot: str) -> object:
    return getattr(c, slot)


def _relaxed(s: Scoped, stated: Constraints, count: Count) -> Scoped:
    if count(s.constraints) > 0 or not s.carried:
        return s
    c, dropped = s.constraints, []
    for slot in RELAX_ORDER:
        if slot not in s.carried:
            continue
        c = c.drop([slot])
        dropped.append(slot)
        if count(c) > 0:
            break
    if count(c) == 0:
        return s  # the shopper's own words match nothing: say so rather than drop them
    return Scoped(c, tuple(x for x in s.carried if x not in dropped), tuple(dropped), s.fresh)


def _clean(c: Constraints) -> Constraints:
    """Brands asked for are never also excluded; nothing else to tidy."""
    return replace(c, brands=tuple(b for b in c.brands if b not in c.exclude_brands))
