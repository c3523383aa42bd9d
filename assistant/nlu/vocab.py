"""A shop's vocabulary: its categories, brands, attributes and products, joined with general English
shopping words (data/lexicon.yaml).

Two users: the corpus generator draws the parser's training messages from it, and the resolver
maps the spans the parser finds ("hairdryer", "not plastic", "20,000 mAh", "lightest") to catalog
values. Built from the catalog alone, so a new shop needs no code.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from knowledge.records import Product

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_NUM = re.compile(r"\d+(?:\.\d+)?")
YES_NO = frozenset({"yes", "no"})


def norm(text: str) -> str:
    """Lower case, curly quotes straightened, punctuation other than -'./ dropped, spaces collapsed."""
    t = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(re.sub(r"[^\w\s\-'./+%&]", " ", t).split())


def singular(word: str) -> str:
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def singular_phrase(text: str) -> str:
    words = norm(text).split()
    return " ".join([*words[:-1], singular(words[-1])]) if words else ""


@lru_cache(maxsize=1)
def lexicon() -> dict[str, Any]:
    text = resources.files("assistant.nlu").joinpath("data/lexicon.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@dataclass
class AttrInfo:
    """One attribute key of the catalog."""

    key: str
    values: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)  # leaf categories whose products have it
    units: dict[str, str] = field(default_factory=dict)  # leaf category -> the unit its numbers are in

    @property
    def boolean(self) -> bool:
        return {v.lower() for v in self.values} <= YES_NO

    @property
    def numeric(self) -> bool:
        """Values are numbers ("30", "4.5 kg"), apart from a "none" for products without the feature."""
        real = [v for v in self.values if v.lower() not in ("none", "n/a", "-")]
        return not self.boolean and bool(real) and all(_NUM.search(v) for v in real)

    @property
    def words(self) -> str:
        """The key in plain words, without its unit suffix: battery_life_hours -> "battery life"."""
        parts = self.key.split("_")
        if len(parts) > 1 and parts[-1] in lexicon()["key_units"]:
            parts = parts[:-1]
        return " ".join(parts)


class ShopVocab:
    """Everything the parser's corpus and resolver need to know about one shop's catalog."""

    def __init__(self, products: Iterable[Product], locale: str = "en_US") -> None:
        self.products: dict[str, Product] = {p.id: p for p in products}
        self.locale = locale
        ps = list(self.products.values())
        self.currency = Counter(p.currency for p in ps).most_common(1)[0][0] if ps else "USD"
        self.categories: dict[str, str] = {p.leaf_category: p.category for p in ps if p.category}
        self.brands: dict[str, str] = {norm(p.brand): p.brand for p in ps if p.brand}
        self.attrs: dict[str, AttrInfo] = {}
        self.prices: dict[str, list[float]] = defaultdict(list)
        for p in ps:
            if p.price is not None:
                self.prices[p.leaf_category].append(float(p.price))
            for k, v in p.attributes.items():
                info = self.attrs.setdefault(k, AttrInfo(k))
                info.values.add(str(v))
                info.categories.add(p.leaf_category)
        for info in self.attrs.values():
            for cat in info.categories:
                unit = _key_unit(info.key, self.values_in(info.key, [cat]))
                if unit is not None:
                    info.units[cat] = unit
        self.category_surfaces = _category_surfaces(self.categories)
        self.value_index = _value_index(self.attrs)
        self.product_names = _product_names(ps)

    # --- per-category views ----------------------------------------------------------------------
    def attrs_of(self, categories: Iterable[str] = ()) -> list[AttrInfo]:
        cats = set(categories)
        return [a for a in self.attrs.values() if not cats or a.categories & cats]

    def values_in(self, key: str, categories: Iterable[str] = ()) -> set[str]:
        cats = set(categories)
        if not cats:
            return set(self.attrs[key].values) if key in self.attrs else set()
        return {
            str(p.attributes[key])
            for p in self.products.values()
            if key in p.attributes and p.leaf_category in cats
        }

    def price_range(self, category: str | None = None) -> tuple[float, float]:
        vals = (
            self.prices.get(category or "", [])
            or [v for vs in self.prices.values() for v in vs]
            or [1.0, 100.0]
        )
        return min(vals), max(vals)

    def describe(self, key: str) -> str:
        """An attribute in words, for matching a question to it: the key's own words, then the words
        that rank along it in the lexicon ("size ml: bigger, larger, smaller, ...": "how big is it?")."""
        dims = [d for d in lexicon()["dimensions"] if key in self.dimension_keys(d)]
        words = [
            str(w)
            for d in dims
            for side in ("more", "less")
            for w in lexicon()["dimensions"][d].get(side, [])[:3]
        ]
        name = key.replace("_", " ")
        return f"{name}: {', '.join(words)}" if words else name

    def dimension_keys(self, dimension: str, categories: Iterable[str] = ()) -> list[str]:
        """Attribute keys (or "price"/"rating") that a ranking dimension names, for these categories."""
        spec = lexicon()["dimensions"].get(dimension) or {}
        words = [str(w) for w in spec.get("keys", [])]
        if any(w in ("price", "rating") for w in words):
            return [w for w in words if w in ("price", "rating")]
        out = [
            a.key
            for a in self.attrs_of(categories)
            if (a.numeric or a.key == "capacity")
            and any(
                a.key == w or a.key.startswith(w + "_") or a.key.endswith("_" + w) or f"_{w}_" in f"_{a.key}_"
                for w in words
            )
        ]
        return out


def _key_unit(key: str, values: set[str]) -> str | None:
    """The unit of a key's numbers in one category: from the key's suffix (weight_g), else from the
    values ("1 TB", "12 cups"); None for unitless or non-numeric keys."""
    suffix = key.rsplit("_", 1)[-1] if "_" in key else key
    unit: str | None = lexicon()["key_units"].get(suffix)
    if unit is None:
        tails = Counter(m.group(1).lower() for v in values if (m := re.search(r"\d\s*([A-Za-z\"°]+)\s*$", v)))
        unit = tails.most_common(1)[0][0] if tails else None
    return unit


def unit_dimension(unit: str) -> tuple[str, float] | None:
    """(dimension, factor to the dimension's base unit) of a unit word: "kg" -> ("mass", 1000)."""
    u = unit.lower().strip().rstrip(".")
    for dim, table in lexicon()["units"].items():
        if u in table:
            return str(dim), float(table[u])
    return None


def _category_surfaces(categories: dict[str, str]) -> dict[str, str]:
    """Words a shopper may use for each leaf category -> the leaf: its name, singular, the parts of
    "Tables & desks", and the lexicon's other words for the product type."""
    types: dict[str, list[str]] = lexicon()["product_types"]
    out: dict[str, str] = {}
    for leaf in sorted(categories):
        parts = [p for p in re.split(r"\s*(?:&|,| and )\s*", norm(leaf)) if p]
        names = {norm(leaf), *parts, *(singular_phrase(p) for p in parts)}
        for name in list(names):
            last = singular(name.split()[-1]) if name.split() else ""
            for key, alts in types.items():
                # "External Drives" takes the words for "drive"; "Desk Lamps" those for "lamp".
                if name == key or singular_phrase(name) == key or last == key:
                    names.update(norm(a) for a in alts)
        for n in names:
            out.setdefault(n, leaf)
    return out


def _value_index(attrs: dict[str, AttrInfo]) -> dict[str, list[tuple[str, str]]]:
    """Lower-case attribute value (and a yes/no key's words) -> [(key, catalog value)]."""
    idx: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a in attrs.values():
        if a.boolean:
            yes = next((v for v in a.values if v.lower() == "yes"), "yes")
            idx[norm(a.words)].append((a.key, yes))
            continue
        if a.numeric:
            continue
        for v in a.values:
            if v.lower() not in ("none", "n/a", "other", "standard"):
                idx[norm(v)].append((a.key, v))
    return dict(idx)


def _product_names(products: list[Product]) -> dict[str, str]:
    """Names a shopper may use for one product -> its id: the title, brand + model, the model alone
    when it is distinctive (two capitalised words after the brand), case-folded."""
    names: dict[str, set[str]] = defaultdict(set)
    for p in products:
        title = norm(p.title)
        names[title].add(p.id)
        words = title.split()
        brand = norm(p.brand or "").split()
        model = words[len(brand) : len(brand) + 2] if brand and words[: len(brand)] == brand else []
        if len(model) == 2:
            names[" ".join(brand + model)].add(p.id)
            names[" ".join(model)].add(p.id)
    return {n: next(iter(ids)) for n, ids in names.items() if len(ids) == 1}
