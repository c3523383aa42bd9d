"""Resolving the parser's spans against one shop's catalog: words -> catalog values.

"hairdryer" -> Hair Dryers, "delonghi" -> De'Longhi, "not plastic" -> material plastic, "20,000 mAh"
-> a bound on the key measured in mAh, "lightest" -> (weight_g, min), "the Sony one" -> a reference.
Exact matches first, then close spellings, then (for product types) the sentence embedder's nearest
category. What cannot be resolved is returned as unknown so the validator can say so.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from assistant.nlu.commands import Direction, Ref
from assistant.nlu.matching import (
    FILLER,
    LESS,
    MORE,
    dimension_of,
    overlap,
    stem,
    strip_affixes,
    unit_hit,
)
from assistant.nlu.matching import quantity as quantity  # re-exported: callers and tests import it here
from assistant.nlu.vocab import ShopVocab, lexicon, norm, singular, singular_phrase, unit_dimension
from knowledge.constraints import Bound
from knowledge.money import Money, parse_money

Embed = Callable[[list[str]], np.ndarray]
_ORDINALS = {
    "first": 0,
    "1st": 0,
    "one": 0,
    "second": 1,
    "2nd": 1,
    "two": 1,
    "third": 2,
    "3rd": 2,
    "three": 2,
    "fourth": 3,
    "4th": 3,
    "four": 3,
    "fifth": 4,
    "5th": 4,
    "five": 4,
    "last": -1,
    "bottom": -1,
    "top": 0,
    "middle": 1,
}


@dataclass(frozen=True)
class BoundHit:
    key: str
    bound: Bound
    exact_value: str | None = None  # "2 TB" when the key's values carry their unit and one equals the number


class Resolver:
    def __init__(self, vocab: ShopVocab, embed: Embed | None = None, min_similarity: float = 0.7) -> None:
        self.v = vocab
        self.embed = embed
        self._aspect_vecs: dict[tuple[str, ...], np.ndarray] = {}
        self.min_similarity = min_similarity
        self._cat_vecs: tuple[list[str], np.ndarray] | None = None

    # --- product types and brands ------------------------------------------------------------------
    def category(self, text: str) -> str | None:
        t = norm(text)
        for cand in (t, singular_phrase(t), t.replace("-", " "), t.replace(" ", ""), t.replace(" ", "-")):
            if cand in self.v.category_surfaces:
                return self.v.category_surfaces[cand]
        words = t.split()
        for n in range(len(words) - 1, 0, -1):  # "cheap yoga mat thing" -> "yoga mat"
            for i in range(len(words) - n + 1):
                sub = " ".join(words[i : i + n])
                hit = self.v.category_surfaces.get(sub) or self.v.category_surfaces.get(singular_phrase(sub))
                if hit and len(sub) >= 4:
                    return hit
        close = difflib.get_close_matches(t, list(self.v.category_surfaces), n=1, cutoff=0.84)
        if close:
            return self.v.category_surfaces[close[0]]
        return self._nearest_category(t)

    def _nearest_category(self, text: str) -> str | None:
        if self.embed is None or not text:
            return None
        if self._cat_vecs is None:
            names = sorted(self.v.category_surfaces)
            vecs = self.embed(names)
            self._cat_vecs = (names, vecs / np.linalg.norm(vecs, axis=1, keepdims=True))
        names, vecs = self._cat_vecs
        q = self.embed([text])[0]
        sims = vecs @ (q / np.linalg.norm(q))
        i = int(sims.argmax())
        return self.v.category_surfaces[names[i]] if sims[i] >= self.min_similarity else None

    def suggest(self, word: str, k: int = 3) -> list[str]:
        """The shop's categories nearest to a product type it does not carry (embedding similarity)."""
        leaves = sorted(self.v.categories)
        if self.embed is None or not leaves or not word:
            return leaves[:k]
        vecs = self.embed(leaves)
        vecs = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
        q = self.embed([word])[0]
        sims = vecs @ (q / np.linalg.norm(q))
        return [leaves[i] for i in np.argsort(-sims)[:k]]

    def brand(self, text: str) -> str | None:
        t = strip_affixes(norm(text))
        t = re.sub(r"^(the|from|by)\s+", "", t)
        if t in self.v.brands:
            return self.v.brands[t]
        squashed = {re.sub(r"[^a-z0-9]", "", k): b for k, b in self.v.brands.items()}
        key = re.sub(r"[^a-z0-9]", "", t)
        if key in squashed:
            return squashed[key]
        close = difflib.get_close_matches(key, list(squashed), n=1, cutoff=0.85) if len(key) >= 4 else []
        return squashed[close[0]] if close else None

    # --- attribute values ---------------------------------------------------------------------------
    def values(self, text: str, cats: Iterable[str]) -> list[tuple[str, str]]:
        """(key, catalog value) pairs a value phrase names, preferring keys of the given categories."""
        cats = set(cats)
        t = strip_affixes(norm(text))
        t = str(lexicon().get("value_synonyms", {}).get(t, t))
        hits = self._value_hits(t)
        if not hits:
            t2 = t.replace(" ", "-") if " " in t else t.replace("-", " ")
            hits = self._value_hits(t2)
        if not hits:
            close = difflib.get_close_matches(t, list(self.v.value_index), n=1, cutoff=0.85)
            hits = self.v.value_index.get(close[0], []) if close else []
        if not hits:
            hits = self._covering(t, cats)
        if cats:
            inside = [
                (k, v)
                for k, v in hits
                if v in self.v.values_in(k, cats)
                or (self.v.attrs[k].boolean and cats & self.v.attrs[k].categories)
            ]
            if inside:
                hits = inside
            elif hits:
                return []  # a value of other categories only: no filter here
            elif (title := self._title_word(t, cats)) is not None:
                return [("title", title)]
        return list(dict.fromkeys(hits))

    def _value_hits(self, t: str) -> list[tuple[str, str]]:
        hits = list(self.v.value_index.get(t, [])) or list(self.v.value_index.get(singular_phrase(t), []))
        if not hits:  # a longer catalog value that contains the word ("nonstick" -> "ceramic nonstick")
            hits = [
                kv
                for val, kvs in self.v.value_index.items()
                if len(t) >= 4 and re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", val)
                for kv in kvs
            ]
        return hits

    def _covering(self, t: str, cats: set[str]) -> list[tuple[str, str]]:
        """A value whose words and key words cover every word of the phrase: "plastic jar" -> jar_material
        "BPA-free plastic", "mains powered" -> power "mains", "hard cover" -> cover "hardcover"."""
        said = {stem(w) for w in re.findall(r"[a-z0-9]+", t) if w not in FILLER}
        if not said:
            return []
        out = []
        for a in self.v.attrs_of(cats):
            key_words = {stem(w) for w in a.words.split()}
            for v in self.v.values_in(a.key, cats) if cats else a.values:
                words = {stem(w) for w in re.findall(r"[a-z0-9]+", v.lower())} | {
                    stem(v.lower().replace(" ", ""))
                }
                if said & words and said <= words | key_words | {stem(t.replace(" ", ""))}:
                    out.append((a.key, v))
        return out if len(out) <= 2 else []

    def _title_word(self, t: str, cats: set[str]) -> str | None:
        """A descriptive word in some (not all) product titles of the categories: "mechanical" keyboards."""
        titles = [norm(p.title) for p in self.v.products.values() if p.leaf_category in cats]
        n = sum(1 for title in titles if re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", title))
        return t if 0 < n < len(titles) and len(t) >= 4 else None

    # --- numbers --------------------------------------------------------------------------------------
    def bound(self, text: str, kind: str, cats: Iterable[str], near: str = "") -> BoundHit | None:
        """A stated quantity -> a bound on the attribute it measures. ``near`` holds the words around
        it ("battery", "weight"), which pick the key when several share the unit's dimension."""
        num, unit = quantity(text)
        if num is None:
            return None
        cats = set(cats)
        stated = unit_dimension(unit) if unit else None
        best: tuple[float, str, float] | None = None
        for a in self.v.attrs_of(cats):
            if not a.numeric:
                continue
            for cat in (cats & a.categories) or a.categories:
                kunit = a.units.get(cat)
                kdim = unit_dimension(kunit) if kunit else None
                if stated is not None and (kdim is None or kdim[0] != stated[0]):
                    continue
                value = num * stated[1] / kdim[1] if stated and kdim else num
                score = (
                    overlap(near + " " + text, a.words)
                    + (1.0 if stated else 0.0)
                    + (0.5 if unit and kunit and unit.rstrip("s") == kunit.rstrip("s") else 0.0)
                )
                if best is None or score > best[0]:
                    best = (score, a.key, value)
        if best is None or (stated is None and best[0] <= 0):
            return None
        _, key, value = best
        value = round(value, 3)
        if kind == "NUM_MAX":
            return BoundHit(key, Bound(None, value))
        if kind == "NUM_EQ":
            exact = next((v for v in self.v.values_in(key, cats) if quantity(v)[0] == value), None)
            return BoundHit(key, Bound(value, value), exact)
        return BoundHit(key, Bound(value, None))

    def money(self, text: str) -> Money | None:
        return parse_money(text, None)

    # --- rankings -------------------------------------------------------------------------------------
    def ranking(self, text: str, cats: Iterable[str], near: str = "") -> tuple[str, Direction] | None:
        """ "lightest" -> (weight_g, min); "longest battery" -> (battery_life_hours, max)."""
        t = norm(text)
        dim, side = dimension_of(t)
        keys = self.v.dimension_keys(dim, cats) if dim else []
        if not keys:
            return self._polar(t, near, cats)
        spec = lexicon()["dimensions"][dim]
        key = max(keys, key=lambda k: overlap(t + " " + near, k.replace("_", " ")))
        want_max = side == "more"
        if spec.get("invert"):
            want_max = not want_max
        return key, "max" if want_max else "min"

    def _polar(self, t: str, near: str, cats: Iterable[str]) -> tuple[str, Direction] | None:
        """ "more buttons", "fewest pieces", "highest refresh rate": a polarity word and a numeric
        key's words."""
        words = set(t.split())
        more = words & MORE
        less = words & LESS
        if not (more or less) or (more and less):
            return None
        best = max(
            (
                (overlap(t, a.words) + 0.5 * overlap(near, a.words) + unit_hit(t, a.units.values()), a.key)
                for a in self.v.attrs_of(cats)
                if a.numeric
            ),
            default=(0.0, ""),
        )
        if best[0] < 1.0:
            return None
        return best[1], "max" if more else "min"

    # --- references -----------------------------------------------------------------------------------
    def refs(self, text: str, cats: Iterable[str] = ()) -> list[Ref]:
        """Several products in one phrase: "the first two" -> #1, #2; "all three" -> #1..#3."""
        t = norm(text)
        m = re.search(r"\b(?:first|top)\s+(two|three|2|3)\b|\b(?:all|both)\s*(two|three|2|3)?\b", t)
        if m:
            n = {"two": 2, "three": 3, "2": 2, "3": 3}.get(
                m.group(1) or m.group(2) or "", 2 if "both" in t else 3
            )
            return [Ref(index=i) for i in range(n)]
        if re.fullmatch(r"(the\s+)?(three|two|3|2)", t):
            return [
                Ref(index=i) for i in range(int({"two": 2, "three": 3}.get(t.split()[-1], t.split()[-1])))
            ]
        return [self.ref(text, cats)]

    def ref(self, text: str, cats: Iterable[str] = ()) -> Ref:
        t = norm(text)
        words = t.replace("#", " ").replace("no.", " ").split()
        if re.search(r"\bother\b", t):
            return Ref(other=True)
        for w in words:
            if w.isdigit() and 1 <= int(w) <= 20:
                return Ref(index=int(w) - 1)
        for w in words:
            if w in _ORDINALS and w not in ("one", "two", "three", "four", "five"):
                return Ref(index=_ORDINALS[w])
        core = " ".join(
            w for w in words if w not in ("the", "one", "model", "option", "pair", "product", "'s")
        )
        brand = self.brand(core) if core else None
        if brand:
            return Ref(brand=brand)
        if core and (rank := self.ranking(core, cats)) is not None:
            return Ref(extreme=rank)
        vals = self.values(core, cats) if core and cats else []
        if len(vals) == 1 and vals[0][0] != "title":
            return Ref(value=vals[0])
        pid = self.product(t, cats)
        if pid:
            return Ref(product=pid)
        return Ref(focus=True)

    def product(self, text: str, cats: Iterable[str] = ()) -> str | None:
        """A product named by (part of) its title: "the kitchara pulse 300 coffee machines", "echo max".
        Names inside the categories being discussed win over the same words elsewhere in the shop."""
        words = re.sub(r"\s+(one|model|pair)$", "", re.sub(r"^the\s+", "", norm(text))).split()
        cats = set(cats)
        for n in range(len(words), 1, -1):  # the longest prefix that names a product: extra words trail
            t = " ".join(words[:n])
            hits = self._named(t, cats)
            if len(hits) == 1:
                return hits[0]
        t = " ".join(words)
        close = difflib.get_close_matches(t, list(self.v.product_names), n=1, cutoff=0.82)
        return self.v.product_names[close[0]] if close else None

    def _named(self, t: str, cats: set[str]) -> list[str]:
        if len(t) < 4:
            return []
        ids = sorted(
            {
                pid
                for pid, p in self.v.products.items()
                if (title := norm(p.title)) == t or title.startswith(t + " ") or f" {t} " in f" {title} "
            }
        )
        inside = [pid for pid in ids if self.v.products[pid].leaf_category in cats]
        return inside if len(inside) == 1 else ids

    # --- aspects and dropped constraints --------------------------------------------------------------
    def aspect(self, text: str, cats: Iterable[str]) -> str:
        """The attribute key a question names ("battery life", "how heavy", "black" -> colour), or the
        words themselves for review topics ("comfort")."""
        t = norm(text)
        attrs = self.v.attrs_of(cats)
        scored = [
            (
                overlap(t, a.words)
                + 0.5 * overlap(t, a.key.replace("_", " "))
                + unit_hit(t, a.units.values()),
                a.key,
            )
            for a in attrs
        ]
        best = max(scored, default=(0.0, ""))
        if best[0] >= 1.0:
            return best[1]
        vals = self.values(t, cats)
        if vals:
            return vals[0][0]
        rank = self.ranking(t, cats)
        return rank[0] if rank else t

    def asked_attribute(self, question: str, cats: Iterable[str], min_similarity: float = 0.3) -> str | None:
        """The attribute a product question asks about when the parser marked no aspect words ("how
        much is it" -> price, "what does it weigh" -> weight_g): the question's sentence embedding
        against each attribute's name. None without an embedder or below the threshold (a review
        question such as "is it comfy" then goes to the reviews)."""
        keys = sorted({a.key for a in self.v.attrs_of(cats)})
        if self.embed is None or not keys or not question.strip():
            return None
        names = [self.v.describe(k) for k in keys] + ["price, cost, how much"]
        key_of = [*keys, "price"]
        cache = self._aspect_vecs.get(tuple(keys))
        if cache is None:
            vecs = self.embed(names)
            cache = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
            self._aspect_vecs[tuple(keys)] = cache
        q = self.embed([question])[0]
        sims = cache @ (q / max(float(np.linalg.norm(q)), 1e-9))
        i = int(sims.argmax())
        return key_of[i] if sims[i] >= min_similarity else None

    def unset(self, text: str, cats: Iterable[str]) -> str:
        t = singular(norm(text).split()[-1]) if norm(text) else ""
        if t in ("price", "budget", "cost", "limit", "money"):
            return "price"
        if t in ("brand", "make", "label"):
            return "brands"
        key = self.aspect(t, cats)
        return (
            f"attributes.{key}"
            if key in self.v.attrs
            else ("attributes.colour" if t in ("color", "colour") else t)
        )
