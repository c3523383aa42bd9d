"""Generated product messages: FindProducts, Refine, Rank, AskProduct, Compare, CheckStock."""

from __future__ import annotations

from assistant.nlu.corpus.builder import Example, Part, assemble, fill, join, noisy, tag
from assistant.nlu.corpus.slots import SlotMaker
from assistant.nlu.vocab import AttrInfo

# How many constraints a request states, and how often.
_N_CONSTRAINTS = (0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4)


def _example(parts: list[Part], commands: tuple[str, ...], sm: SlotMaker, source: str) -> Example:
    text, spans = assemble(noisy(parts, sm.rng))
    return Example(text, spans, commands, source=source)


# The kind of each constraint, drawn once per constraint (repeats weight the draw).
_KINDS = [
    "attr",
    "attr",
    "not_attr",
    "bound",
    "brand",
    "not_brand",
    "price",
    "price",
    "price",
    "rating",
    "stock",
    "use",
    "foreign_brand",
]
_DET_SG = ["a", "a", "an", "one", "a good", "a new", "a decent", "a cheap-ish"]
_DET_PL = ["", "", "some", "any", "good", "a few", "a pair of"]


def noun_phrase(sm: SlotMaker, cat: str | None, number: str) -> list[Part]:
    """A product noun phrase with 0-4 constraints, pre- and post-modifiers in random order."""
    rng = sm.rng
    pre: list[list[Part]] = []
    post: list[list[Part]] = []
    attrs = [] if cat is None else sm.attrs(cat)
    numeric = [] if cat is None else sm.numeric_attrs(cat)
    priced = False
    for _ in range(rng.choice(_N_CONSTRAINTS)):
        kind = rng.choice(_KINDS)
        priced = _add_constraint(sm, kind, cat, (attrs, numeric), (pre, post), priced)
    rng.shuffle(post)
    det, number = _determiner(sm, number)
    core = join(det, *pre, sm.category(cat, number))
    seps = [", ", " ", " and ", ", ", " - "]
    out = core
    for p in post:
        out = join(out, p, sep=rng.choice(seps))
    return out


def _add_constraint(
    sm: SlotMaker,
    kind: str,
    cat: str | None,
    keys: tuple[list[AttrInfo], list[AttrInfo]],
    mods: tuple[list[list[Part]], list[list[Part]]],
    priced: bool,
) -> bool:
    """One constraint of ``kind`` appended to the pre- or post-modifiers ``mods``, drawn from the
    category's value and numeric attributes ``keys``; returns whether a price is now stated. A ``cat``
    of None is a product type the shop does not carry: no attributes, a foreign brand."""
    rng = sm.rng
    foreign = cat is None
    attrs, numeric = keys
    pre, post = mods
    if kind in ("attr", "not_attr") and attrs:
        a = rng.choice(attrs)
        val, premod = sm.value_phrase(a, cat or "", negate=kind == "not_attr")
        if not val:
            return priced
        if kind == "attr" and premod and rng.random() < 0.6:
            pre.append(val)
        elif kind == "attr":
            post.append(fill(rng.choice(sm.ph["attr_with" if a.boolean else "attr_post"]), {"v": val}))
        else:
            post.append(fill(rng.choice(sm.ph["not_attr_with" if a.boolean else "not_attr"]), {"v": val}))
    elif kind == "bound" and numeric:
        post.append(sm.bound_phrase(rng.choice(numeric), cat or ""))
    elif kind in ("brand", "foreign_brand"):
        b = tag(sm.brand(cat, foreign=kind == "foreign_brand" or foreign), "BRAND")
        if rng.random() < 0.55:
            pre.insert(0, b)
        else:
            post.append(fill(rng.choice(sm.ph["brand_post"]), {"b": b}))
    elif kind == "not_brand":
        post.append(fill(rng.choice(sm.ph["not_brand"]), {"b": tag(sm.brand(cat), "NOT_BRAND")}))
    elif kind == "price" and not priced:
        post.append(sm.price_phrase(cat))
        return True
    elif kind == "rating":
        post.append(sm.rating_phrase())
    elif kind == "stock":
        post.append(tag(rng.choice(sm.ph["stock"]), "STOCK"))
    elif kind == "use":
        post.append([(rng.choice(sm.ph["uses"]), None)])
    return priced


def _determiner(sm: SlotMaker, number: str) -> tuple[list[Part], str]:
    """The article or quantifier before the noun, and the grammatical number ("any" picks one)."""
    rng = sm.rng
    if number == "sg" or (number == "any" and rng.random() < 0.4):
        return [(rng.choice(_DET_SG), None)], "sg"
    if number == "any":
        return ([(rng.choice(_DET_PL), None)] if rng.random() < 0.4 else []), "pl"
    return [], number


def find(sm: SlotMaker) -> Example:
    rng = sm.rng
    r = rng.random()
    cat = None if r < 0.08 else rng.choice(sm.cats)
    if r > 0.93:  # a need without a product type: "something for my desk under $50"
        parts = fill(
            rng.choice(sm.ph["need_only"]),
            {"use": rng.choice(sm.ph["uses"]), "person": rng.choice(sm.ph["people"])},
        )
        if rng.random() < 0.4:
            parts = join(parts, sm.price_phrase(None), sep=rng.choice([", ", " "]))
        return _example(
            join([(rng.choice(sm.ph["openers"]), None)], parts), ("FindProducts",), sm, "find-need"
        )
    if rng.random() < 0.06:
        sort = fill(
            rng.choice(sm.ph["sort"]), {"s": sm.ranking_word(cat, "SUPER"), "cat": sm.category(cat, "sg")}
        )
        return _example(sort, ("FindProducts",), sm, "find-sort")
    tpl = rng.choice(sm.ph["find"])
    slots = {
        "np": noun_phrase(sm, cat, "any"),
        "np_sg": noun_phrase(sm, cat, "sg"),
        "np_pl": noun_phrase(sm, cat, "pl"),
        "person": rng.choice(sm.ph["people"]),
    }
    body = fill(tpl, slots)
    if rng.random() < 0.08:  # continuation: "also ...", "... instead", "same budget, ..."
        cue = tag(rng.choice(sm.ph["cont"]), "CONT")
        body = join(cue, body) if rng.random() < 0.5 else join(body, cue)
    if rng.random() < 0.15 and not any(t and t.startswith("PRICE") for _, t in body):
        body = join(body, sm.price_phrase(cat), sep=rng.choice([", ", ". ", " - "]))
    parts = join([(rng.choice(sm.ph["openers"]), None)], body, [(rng.choice(sm.ph["closers"]), None)])
    return _example(parts, ("FindProducts",), sm, "find")


def budget(sm: SlotMaker) -> Example:
    """A budget on its own ("under 80", "between £40 and £60 please", "nothing over 1.5k"): it refines
    the list on screen, or starts a search when there is none (see corpus.with_context)."""
    rng = sm.rng
    cat = rng.choice(sm.cats)
    body = sm.price_phrase(cat)
    if rng.random() < 0.25:  # sometimes with a product type or a use beside it
        extra: list[tuple[str, str | None]] = (
            sm.category(cat, "any") if rng.random() < 0.6 else [(rng.choice(sm.ph["uses"]), None)]
        )
        body = join(extra, body, sep=rng.choice([" ", ", "])) if rng.random() < 0.5 else join(body, extra)
    parts = join([(rng.choice(sm.ph["openers"]), None)], body, [(rng.choice(sm.ph["closers"]), None)])
    kind = "FindProducts" if any(t == "CAT" for _, t in body) else "Refine"
    return _example(parts, (kind,), sm, "budget")


def refine(sm: SlotMaker) -> Example:
    rng = sm.rng
    cat = rng.choice(sm.cats)
    attrs = sm.attrs(cat)
    tpl = rng.choice(sm.ph["refine"])
    field = rng.choice(list(sm.ph["unset_fields"]))
    slots: dict[str, list[Part] | str] = {
        "price": sm.price_phrase(cat),
        "rel": sm.ranking_word(cat, "REL"),
        "brand": tag(sm.brand(cat, foreign=rng.random() < 0.1), "BRAND"),
        "attr": sm.value_phrase(rng.choice(attrs), cat)[0] if attrs else tag("black", "ATTR"),
        "not_brand": fill(rng.choice(sm.ph["not_brand"]), {"b": tag(sm.brand(cat), "NOT_BRAND")}),
        "not_attr": _not_attr(sm, cat),
        "num": _bound(sm, cat),
        "rating": sm.rating_phrase(),
        "stock": tag(rng.choice(sm.ph["stock"]), "STOCK"),
        "unset": fill(
            rng.choice(sm.ph["unset"]), {"field": tag(rng.choice(sm.ph["unset_fields"][field]), "UNSET")}
        ),
        "reject": tag(rng.choice(sm.ph["reject"]), "REJECT"),
    }
    if not slots["attr"]:
        slots["attr"] = tag("black", "ATTR")
    parts = join(
        [(rng.choice(sm.ph["openers"]), None)], fill(tpl, slots), [(rng.choice(sm.ph["closers"]), None)]
    )
    return _example(parts, ("Refine",), sm, "refine")


def _not_attr(sm: SlotMaker, cat: str) -> list[Part]:
    attrs = sm.attrs(cat)
    if not attrs:
        return tag("plastic", "NOT_ATTR")
    a = sm.rng.choice(attrs)
    val, _ = sm.value_phrase(a, cat, negate=True)
    if not val:
        return tag("plastic", "NOT_ATTR")
    return fill(sm.rng.choice(sm.ph["not_attr_with" if a.boolean else "not_attr"]), {"v": val})


def _bound(sm: SlotMaker, cat: str) -> list[Part]:
    numeric = sm.numeric_attrs(cat)
    return sm.bound_phrase(sm.rng.choice(numeric), cat) if numeric else sm.price_phrase(cat)


def rank(sm: SlotMaker) -> Example:
    rng = sm.rng
    cat = rng.choice(sm.cats)
    tpl = rng.choice(sm.ph["rank"] + sm.ph["rank_which"])
    number = "sg" if rng.random() < 0.5 else "pl"
    parts = fill(tpl, {"s": sm.ranking_word(cat, "SUPER"), "cat": sm.category(cat, number)})
    parts = join([(rng.choice(sm.ph["openers"]), None)], parts, [(rng.choice(["", "", "?", "please"]), None)])
    return _example(parts, ("Rank",), sm, "rank-which" if tpl in sm.ph["rank_which"] else "rank")


def ask(sm: SlotMaker) -> Example:
    rng = sm.rng
    cat = rng.choice(sm.cats)
    attrs = sm.attrs(cat)
    a = rng.choice(attrs) if attrs else None
    aspect = a.words if a is not None and rng.random() < 0.7 else rng.choice(sm.ph["review_aspects"])
    if aspect == "colour" and rng.random() < 0.4:
        aspect = "color"
    bools = [x for x in attrs if x.boolean]
    value = sm.value_phrase(a, cat)[0] if a is not None and not a.boolean else []
    slots = {
        "ref": sm.ref(cat),
        "aspect": tag(aspect, "ASPECT"),
        "aspect_bool": tag(rng.choice(bools).words if bools else "bluetooth", "ASPECT"),
        "value": [(t, "ASPECT") for t, _ in value] or tag("waterproof", "ASPECT"),
        "colour": tag(rng.choice(["black", "white", "blue", "red", "green", "grey", "navy"]), "ASPECT"),
        "use_short": rng.choice(sm.ph["use_short"]),
    }
    parts = join([(rng.choice(sm.ph["openers"]), None)], fill(rng.choice(sm.ph["ask"]), slots))
    return _example(parts, ("AskProduct",), sm, "ask")


def compare(sm: SlotMaker) -> Example:
    cat = sm.rng.choice(sm.cats)
    parts = fill(sm.rng.choice(sm.ph["compare"]), {"ref": sm.ref(cat), "ref2": sm.ref(cat)})
    return _example(join([(sm.rng.choice(sm.ph["openers"]), None)], parts), ("Compare",), sm, "compare")


def stock(sm: SlotMaker) -> Example:
    parts = fill(sm.rng.choice(sm.ph["stock_q"]), {"ref": sm.ref(sm.rng.choice(sm.cats))})
    return _example(join([(sm.rng.choice(sm.ph["openers"]), None)], parts), ("CheckStock",), sm, "stock")
