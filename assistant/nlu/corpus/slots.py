"""Slot phrases drawn from a shop's vocabulary: product types, brands, attribute values, budgets,
numeric bounds, rankings and references, each returned as tagged parts."""

from __future__ import annotations

import random
import re
from typing import Any

from assistant.nlu.corpus.builder import (
    Part,
    fill,
    join,
    nice_amount,
    phrases,
    render_money,
    render_number,
    tag,
)
from assistant.nlu.vocab import AttrInfo, ShopVocab, lexicon, norm, singular_phrase

OTHER_CURRENCIES = ("USD", "GBP", "EUR", "INR", "SAR")


def plural(word: str) -> str:
    w = word.rstrip()
    if w.endswith("s"):
        return w
    if w.endswith("y") and w[-2:-1] not in "aeiou":
        return w[:-1] + "ies"
    if w.endswith(("ch", "sh", "x")):
        return w + "es"
    return w + "s"


class SlotMaker:
    """Random slot phrases for one shop. All randomness comes from the injected ``rng``."""

    def __init__(self, vocab: ShopVocab, rng: random.Random) -> None:
        self.v, self.rng, self.ph = vocab, rng, phrases()
        self.cats = sorted(vocab.categories)
        self.surfaces: dict[str, list[str]] = {}
        for surface, leaf in sorted(
            vocab.category_surfaces.items()
        ):  # sorted: the same corpus in every process
            self.surfaces.setdefault(leaf, []).append(surface)
        known = set(vocab.category_surfaces)
        self.foreign_types = [t for t in self.ph["foreign_types"] if norm(t) not in known]
        self.foreign_brands = [b for b in self.ph["foreign_brands"] if norm(b) not in vocab.brands]
        self.brands_by_cat: dict[str, list[str]] = {}
        for p in vocab.products.values():
            if p.brand:
                self.brands_by_cat.setdefault(p.leaf_category, []).append(p.brand)

    def pick(self, items: list[Any]) -> Any:
        return self.rng.choice(items)

    # --- product types and brands ------------------------------------------------------------------
    def category(self, cat: str | None, number: str = "any") -> list[Part]:
        """A word for the category (or a product type the shop lacks when cat is None)."""
        word = self.pick(self.surfaces.get(cat, [cat.lower()])) if cat else self.pick(self.foreign_types)
        if number == "sg":
            word = singular_phrase(word) or word
        elif number == "pl":
            word = plural(word)
        if self.rng.random() < 0.08:
            word = word.title()
        return tag(word, "CAT")

    def brand(self, cat: str | None, foreign: bool = False) -> str:
        if foreign or not cat or cat not in self.brands_by_cat:
            return str(self.pick(self.foreign_brands or ["Acme"]))
        b = str(self.pick(self.brands_by_cat[cat]))
        r = self.rng.random()
        return b.lower() if r < 0.45 else b.upper() if r < 0.5 else b

    # --- attributes ---------------------------------------------------------------------------------
    def attrs(self, cat: str) -> list[AttrInfo]:
        """Attributes a shopper names by a value or a yes/no word (numbers are bounds, not values)."""
        return [a for a in self.v.attrs_of([cat]) if not a.numeric]

    def numeric_attrs(self, cat: str) -> list[AttrInfo]:
        return [a for a in self.v.attrs_of([cat]) if a.numeric and a.units.get(cat)]

    def value_phrase(self, a: AttrInfo, cat: str, negate: bool = False) -> tuple[list[Part], bool]:
        """(parts, premodifier ok): "wireless", "noise cancelling", "stainless steel"."""
        if a.boolean:
            words = a.words
            if a.key.endswith("_free"):
                words = words.replace(" ", "-")
            return tag(words, "NOT_ATTR" if negate else "ATTR"), True
        vals = sorted(
            v
            for v in self.v.values_in(a.key, [cat])
            if v.lower() not in ("none", "standard", "n/a") and not re.fullmatch(r"[\d.\s]+", v)
        )
        if not vals:
            return [], False
        v = self.pick(vals)
        v = v.lower() if self.rng.random() < 0.8 else v
        if "-" in v and self.rng.random() < 0.3:
            v = v.replace("-", " ")
        return tag(v, "NOT_ATTR" if negate else "ATTR"), len(v.split()) <= 2

    def bound_phrase(self, a: AttrInfo, cat: str) -> list[Part]:
        """ "at least 30 hours of battery life", "under 300 g", "for 4 people"."""
        unit = a.units.get(cat)
        vals = [float(x) for v in sorted(self.v.values_in(a.key, [cat])) for x in _numbers(v)]
        if not unit or not vals:
            return []
        kind = self.pick(["NUM_MIN", "NUM_MIN", "NUM_MAX", "NUM_EQ"])
        n = self.pick(vals)
        if self.rng.random() < 0.4:
            n = round(n * self.rng.uniform(0.6, 1.4), 0 if n >= 10 else 1)
        surface = self.unit_surface(unit)
        if unit in ("people", "players") and kind != "NUM_MAX":
            num = tag(render_number(self.rng, n, surface), "NUM_MIN")
            return fill(self.pick(self.ph["people_min"]), {"n": num})
        num = tag(render_number(self.rng, n, surface), kind)
        from assistant.nlu.vocab import unit_dimension

        dim = unit_dimension(unit)
        verbs = self.ph["num_verbs"].get(dim[0] if dim else "", {})
        side = "min" if kind == "NUM_MIN" else "max"
        if kind != "NUM_EQ" and verbs.get(side) and self.rng.random() < 0.35:
            return fill(self.pick(verbs[side]), {"n": num})
        kw = tag(self.pick([a.words, a.words, a.words.split()[-1]]), "ASPECT")
        key = {"NUM_MIN": "num_min", "NUM_MAX": "num_max", "NUM_EQ": "num_eq"}[kind]
        tpl = self.pick(self.ph[key])
        return fill(tpl, {"n": num, "kw": kw})

    def unit_surface(self, unit: str) -> str:
        for table in lexicon()["units"].values():
            if unit in table:
                same = [u for u, f in table.items() if f == table[unit]]
                return str(self.pick(same + [unit, unit]))
        return unit

    # --- money --------------------------------------------------------------------------------------
    def money(
        self,
        cat: str | None,
        lo_q: float = 0.2,
        hi_q: float = 0.9,
        cur: str | None = None,
        bare: float = 0.25,
    ) -> tuple[str, float]:
        lo, hi = self.v.price_range(cat)
        span = hi - lo
        amount = nice_amount(self.rng, lo + lo_q * span, lo + hi_q * span)
        if cur is None:
            cur = self.v.currency if self.rng.random() < 0.8 else self.pick(list(OTHER_CURRENCIES))
        return render_money(self.rng, amount, cur, bare=bare), amount

    def price_phrase(self, cat: str | None) -> list[Part]:
        r = self.rng.random()  # ceilings are commonest, but every kind is seen often
        if self.rng.random() < 0.5 and r < 0.82:
            kind = "PRICE_MAX" if r < 0.45 else "PRICE_MIN" if r < 0.67 else "PRICE_ABOUT"
            m, _ = self.money(cat, 0.05 if kind == "PRICE_MIN" else 0.2, 0.6 if kind == "PRICE_MIN" else 0.9)
            return fill(self.pick(self.ph["price_core"][kind]), {"m": tag(m, kind)})
        if r < 0.3:
            m, _ = self.money(cat)
            return fill(self.pick(self.ph["price_max"]), {"m": tag(m, "PRICE_MAX")})
        if r < 0.45:
            m, _ = self.money(cat)
            return fill(self.pick(self.ph["price_max_clause"]), {"m": tag(m, "PRICE_MAX")})
        if r < 0.67:
            m, _ = self.money(cat, 0.05, 0.6)
            return fill(self.pick(self.ph["price_min"]), {"m": tag(m, "PRICE_MIN")})
        if r < 0.82:
            m, _ = self.money(cat)
            return fill(self.pick(self.ph["price_about"]), {"m": tag(m, "PRICE_ABOUT")})
        cur = self.v.currency if self.rng.random() < 0.8 else self.pick(list(OTHER_CURRENCIES))
        once = self.rng.random() < 0.35  # "INR 2500 to 4000", "40-60 quid": the currency written once
        (m1, a1), (m2, a2) = (
            self.money(cat, 0.05, 0.5, cur, 1.0 if once else 0.15),
            self.money(cat, 0.5, 1.0, cur, 1.0 if once else 0.15),
        )
        if a1 > a2:
            m1, m2 = m2, m1
        lo_p, hi_p = tag(m1, "PRICE_MIN"), tag(m2, "PRICE_MAX")
        if once:
            from assistant.nlu.corpus.builder import currency_word

            word = currency_word(self.rng, cur)
            if self.rng.random() < 0.5:
                lo_p = tag(f"{word} {m1}" if len(word) > 1 else f"{word}{m1}", "PRICE_MIN")
            else:
                hi_p = tag(f"{m2} {word}", "PRICE_MAX")
        return fill(self.pick(self.ph["price_range"]), {"m1": lo_p, "m2": hi_p})

    def rating_phrase(self) -> list[Part]:
        r = self.pick(["4", "4.5", "3", "3.5", "four", "4.0", "5"])
        return fill(self.pick(self.ph["rating_min"]), {"r": tag(r, "RATING_MIN")})

    # --- rankings -----------------------------------------------------------------------------------
    def dimensions(self, cat: str | None) -> list[str]:
        dims = lexicon()["dimensions"]
        return [d for d in dims if d in ("price", "rating") or (cat and self.v.dimension_keys(d, [cat]))]

    def ranking_word(self, cat: str | None, t: str, side: str | None = None) -> list[Part]:
        """ "lightest", "more powerful", or a polarity word with an attribute: "more buttons",
        "fewest pieces"."""
        numeric = self.numeric_attrs(cat) if cat else []
        if numeric and self.rng.random() < 0.35:
            a = self.pick(numeric)
            polar = self.ph["super_polar" if t == "SUPER" else "rel_polar"][
                side or self.pick(["more", "less"])
            ]
            return tag(f"{self.pick(polar)} {self.pick([a.words, a.words.split()[-1]])}", t)
        dim = self.pick(self.dimensions(cat))
        spec = lexicon()["dimensions"][dim]
        side = side or self.pick(["less", "more"])
        words = spec.get(side) or spec.get("more") or spec.get("less")
        return tag(str(self.pick(words)), t)

    # --- references ---------------------------------------------------------------------------------
    def ref(self, cat: str | None = None) -> list[Part]:
        r = self.rng.random()
        if r < 0.4:
            pos = self.pick(list(self.ph["ref_positions"]))
            return tag(self.pick(self.ph["ref_positions"][pos]), "REF")
        if r < 0.48 and cat and self.attrs(cat):  # "the hardback one", "the black one"
            val, _ = self.value_phrase(self.pick(self.attrs(cat)), cat)
            if val:
                return tag(self.pick(self.ph["ref_value"]).format(v=val[0][0]), "REF")
        if r < 0.58:
            return tag(self.pick(self.ph["ref_focus"]), "REF")
        if r < 0.66:
            return tag(self.pick(self.ph["ref_other"]), "REF")
        if r < 0.78:
            b = self.brand(cat or self.pick(self.cats))
            return tag(self.pick(self.ph["ref_brand"]).format(b=b), "REF")
        if r < 0.86:
            word = self.ranking_word(cat, "REF")[0][0]
            return tag(f"the {word} one", "REF")
        name = self.pick(sorted(self.v.product_names))
        if self.rng.random() < 0.5:
            name = " ".join(name.split()[: self.rng.randint(2, max(2, len(name.split())))])
        return join(tag("the", None) if self.rng.random() < 0.5 else [], tag(name, "PRODUCT"))


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text.replace(",", ""))
