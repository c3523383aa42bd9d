"""Constraints: the one shape of "what the shopper wants" used by every layer.

The dialogue state keeps one, the policy merges and scopes them, the tools filter the catalog with
them, the retriever turns them into metadata filters and the recommender takes the products that
match as its candidates. Values are catalog values (leaf category names, brand names, attribute
keys and values), already resolved by the understanding layer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from knowledge.records import Product

__all__ = ["Bound", "Constraints", "attr_number", "filter_products"]

_NUM = re.compile(r"(?<![\d.])-?\d+(?:\.\d+)?")  # "10-90": 10 and 90, not -90


@dataclass(frozen=True)
class Bound:
    """A closed numeric interval; either end may be open (None)."""

    min: float | None = None
    max: float | None = None

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        return (self.min is None or value >= self.min - 1e-9) and (
            self.max is None or value <= self.max + 1e-9
        )

    def overlaps(self, lo: float, hi: float) -> bool:
        """For range values ("10-90 lb", "2-6 players"): some value of [lo, hi] satisfies the bound."""
        return (self.min is None or hi >= self.min - 1e-9) and (self.max is None or lo <= self.max + 1e-9)

    @property
    def empty(self) -> bool:
        return self.min is None and self.max is None

    def to_dict(self) -> dict[str, float]:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}


Values = tuple[str, ...]


@dataclass(frozen=True)
class Constraints:
    categories: Values = ()  # leaf category names (any of)
    brands: Values = ()  # any of
    exclude_brands: Values = ()
    attributes: Mapping[str, Values] = field(default_factory=dict)  # key -> allowed values (any of)
    exclude_attributes: Mapping[str, Values] = field(default_factory=dict)  # key -> values ruled out
    bounds: Mapping[str, Bound] = field(default_factory=dict)  # numeric attribute key -> interval
    price: Bound = Bound()
    currency: str | None = None  # the currency the price bound was stated in
    min_rating: float | None = None
    in_stock: bool | None = None
    exclude_ids: Values = ()  # products turned down or already owned

    # --- algebra ------------------------------------------------------------------------------
    def is_empty(self) -> bool:
        return self == Constraints()

    def override(self, new: Constraints) -> Constraints:
        """``new`` on top of self: a slot the new constraints state replaces the old one (corrections);
        exclusions accumulate, and a value stated positively stops being excluded."""
        brands = new.brands or self.brands
        ex_brands = _union(tuple(b for b in self.exclude_brands if b not in new.brands), new.exclude_brands)
        attrs = {
            **{k: v for k, v in self.attributes.items() if k not in new.exclude_attributes},
            **new.attributes,
        }
        ex_attrs = {
            **{k: v for k, v in self.exclude_attributes.items() if k not in new.attributes},
            **new.exclude_attributes,
        }
        bounds = {**self.bounds, **{k: _merge_bound(self.bounds.get(k), b) for k, b in new.bounds.items()}}
        price, currency = self.price, self.currency
        if not new.price.empty:
            price, currency = _merge_bound(self.price, new.price), new.currency or self.currency
        return Constraints(
            categories=new.categories or self.categories,
            brands=tuple(b for b in brands if b not in ex_brands),
            exclude_brands=ex_brands,
            attributes=attrs,
            exclude_attributes=ex_attrs,
            bounds=bounds,
            price=price,
            currency=currency,
            min_rating=new.min_rating if new.min_rating is not None else self.min_rating,
            in_stock=new.in_stock if new.in_stock is not None else self.in_stock,
            exclude_ids=_union(self.exclude_ids, new.exclude_ids),
        )

    def drop(self, names: Iterable[str]) -> Constraints:
        """Without the named slots: "price", "brands", "attributes.colour", "bounds.weight_g", ..."""
        out = self
        for name in names:
            head, _, key = name.partition(".")
            if head == "attributes" and key:
                out = replace(out, attributes={k: v for k, v in out.attributes.items() if k != key})
            elif head == "exclude_attributes" and key:
                out = replace(
                    out, exclude_attributes={k: v for k, v in out.exclude_attributes.items() if k != key}
                )
            elif head == "bounds" and key:
                out = replace(out, bounds={k: v for k, v in out.bounds.items() if k != key})
            elif head == "price":
                out = replace(out, price=Bound(), currency=None)
            elif head in {f.name for f in fields(Constraints)}:
                out = replace(out, **{head: getattr(Constraints(), head)})
        return out

    # --- matching -----------------------------------------------------------------------------
    def matches(self, p: Product) -> bool:
        return not self.violations(p)

    def violations(self, p: Product) -> list[str]:
        """The slots ``p`` fails, in words (empty when it satisfies every constraint)."""
        bad: list[str] = []
        brand = (p.brand or "").lower()
        if p.id in self.exclude_ids:
            bad.append("excluded")
        if self.categories and not _in_category(p, self.categories):
            bad.append(f"category {p.leaf_category}")
        if self.brands and brand not in {b.lower() for b in self.brands}:
            bad.append(f"brand {p.brand}")
        if brand and brand in {b.lower() for b in self.exclude_brands}:
            bad.append(f"excluded brand {p.brand}")
        if not self.price.empty and not self.price.holds(p.price):
            bad.append(f"price {p.price}")
        if self.min_rating is not None and (p.rating is None or p.rating < self.min_rating - 1e-9):
            bad.append(f"rating {p.rating}")
        if self.in_stock and p.in_stock is False:
            bad.append("out of stock")
        for k, vals in self.attributes.items():
            if not _has_value(p, k, vals):
                bad.append(f"{k} {p.attributes.get(k)}")
        for k, vals in self.exclude_attributes.items():
            if k in p.attributes and _has_value(p, k, vals):
                bad.append(f"{k} {p.attributes.get(k)}")
        for k, b in self.bounds.items():
            if not _bound_ok(p, k, b):
                bad.append(f"{k} {p.attributes.get(k)}")
        return bad

    # --- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v in (None, (), {}) or (isinstance(v, Bound) and v.empty):
                continue
            if isinstance(v, Bound):
                v = v.to_dict()
            elif f.name == "bounds":
                v = {k: b.to_dict() for k, b in v.items()}
            elif isinstance(v, Mapping):
                v = {k: list(x) for k, x in v.items()}
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Constraints:
        """Inverse of ``to_dict``; unknown keys are an error that names the valid ones."""
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown constraint(s) {sorted(unknown)}: use {sorted(names)}")
        kw: dict[str, Any] = {}
        for k, v in d.items():
            if k in ("categories", "brands", "exclude_brands", "exclude_ids"):
                kw[k] = tuple(str(x) for x in v)
            elif k in ("attributes", "exclude_attributes"):
                kw[k] = {
                    str(a): tuple(str(x) for x in (vals if isinstance(vals, list | tuple) else [vals]))
                    for a, vals in v.items()
                }
            elif k == "bounds":
                kw[k] = {str(a): Bound(b.get("min"), b.get("max")) for a, b in v.items()}
            elif k == "price":
                kw[k] = Bound(v.get("min"), v.get("max"))
            else:
                kw[k] = v
        return cls(**kw)


def filter_products(products: Iterable[Product], c: Constraints) -> list[Product]:
    return [p for p in products if c.matches(p)]


def attr_number(p: Product, key: str) -> tuple[float, float] | None:
    """The numeric value of an attribute as an interval (a single value has lo == hi): "1 TB" -> (1, 1),
    "10-90" -> (10, 90); "price" and "rating" read the record's fields."""
    if key == "price":
        return None if p.price is None else (float(p.price), float(p.price))
    if key == "rating":
        return None if p.rating is None else (float(p.rating), float(p.rating))
    raw = str(p.attributes.get(key, "")).replace(",", "")
    nums = [float(x) for x in _NUM.findall(raw)]
    if not nums:
        return None
    if len(nums) >= 2 and re.search(r"\d\s*-\s*\d", raw):
        return (nums[0], nums[1])
    return (nums[0], nums[0])


def _bound_ok(p: Product, key: str, b: Bound) -> bool:
    val = attr_number(p, key)
    return val is not None and b.overlaps(*val)


def _has_value(p: Product, key: str, vals: Values) -> bool:
    if key == "title":  # a descriptive title word that is no attribute ("mechanical" keyboards)
        return any(re.search(rf"(?<![\w-]){re.escape(v.lower())}(?![\w-])", p.title.lower()) for v in vals)
    return str(p.attributes.get(key, "")).lower() in {v.lower() for v in vals}


def _in_category(p: Product, cats: Values) -> bool:
    parts = {s.strip().lower() for s in p.category.split(">")}
    return any(c.lower() in parts or c.lower() == p.category.lower() for c in cats)


def _union(a: Values, b: Values) -> Values:
    return tuple(dict.fromkeys((*a, *b)))


def _merge_bound(old: Bound | None, new: Bound) -> Bound:
    """A new bound replaces the old one's ends it states and keeps the other end while consistent."""
    if old is None:
        return new
    lo = new.min if new.min is not None else old.min
    hi = new.max if new.max is not None else old.max
    if new.max is not None and lo is not None and lo >= new.max:
        lo = None  # "actually under $50" after "over $80": the old floor no longer makes sense
    if new.min is not None and hi is not None and hi <= new.min:
        hi = None
    return Bound(lo, hi)
