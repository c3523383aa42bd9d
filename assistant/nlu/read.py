"""From a parse to typed commands: the network's command types and spans, resolved against the shop.

``to_commands(parse, resolver, context)`` is pure: the same parse and context give the same
commands. Spans that name something the shop does not have are kept in ``unknown`` so that the
validator can answer "we don't carry kettles" instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from assistant.nlu.budget import price_bound, quantity_bounds
from assistant.nlu.commands import (
    CONSTRAINT_TAGS,
    AskProduct,
    CancelOrder,
    CheckStock,
    ChitChat,
    Command,
    Compare,
    Complaint,
    FindProducts,
    Handoff,
    OrderCommand,
    OrderStatus,
    OutOfScope,
    PolicyQuestion,
    Privacy,
    ProvideDetails,
    Rank,
    Ref,
    Refine,
    Relative,
    ReturnItem,
    Sort,
)
from assistant.nlu.parser import Parse, Span
from assistant.nlu.resolve import Resolver
from assistant.nlu.vocab import norm
from assistant.pii import emails as find_emails
from knowledge.constraints import Constraints
from knowledge.money import NUMBER_WORDS

PRODUCT_TAGS = CONSTRAINT_TAGS
SOCIAL = ("ChitChat", "OutOfScope")


@dataclass(frozen=True)
class Context:
    """What the conversation gives the reading of a message: the product types being discussed,
    whether products are on screen, and whether we just asked for order details."""

    categories: tuple[str, ...] = ()
    currency: str = "USD"
    listed: bool = False
    asked: bool = False
    order: bool = False  # an order is under discussion
    policy: bool = False  # a store policy was just quoted

    @property
    def words(self) -> str:
        flags = (("list", self.listed), ("asked", self.asked), ("order", self.order), ("policy", self.policy))
        return " ".join(w for w, on in flags if on)


@dataclass
class _Slots:
    c: Constraints = field(default_factory=Constraints)
    unknown: list[str] = field(default_factory=list)


def to_commands(p: Parse, r: Resolver, ctx: Context, threshold: float = 0.5) -> list[Command]:
    sure = max(p.commands.values(), default=0.0) >= threshold
    if not sure and _support_follow_up(p, ctx, threshold):
        return [PolicyQuestion(p.text, "other", 1.0)]  # "other": it continues the policy under discussion
    types = _types(p, threshold) if sure else _unsure_types(p, ctx)
    out: list[Command] = []
    for t in types:
        parts = _product_parts(p, r.category) if t == "FindProducts" else [p]
        for part in parts:
            cmd = _command(t, part, r, ctx, product_slots(part, r, ctx))
            if cmd is not None:
                out.append(cmd)
    return out or [OutOfScope(text=p.text)]


def _product_parts(p: Parse, r_cat: Callable[[str], str | None] | None = None) -> list[Parse]:
    """ "a tent for 6 people and a sleeping bag that's not mummy shaped": one part per product type, each
    with the slots written after it (slots before the first type go with the first). Types joined by
    "or" ("headphones or earbuds") are one request."""
    cats = p.spans_of("CAT")
    if len(cats) < 2:
        return [p]
    groups: list[list[Span]] = [[cats[0]]]
    for prev, cur in zip(cats, cats[1:], strict=False):
        between = p.text[prev.end : cur.start].lower().split()
        if "or" in between or len(between) <= 1:
            groups[-1].append(cur)
        else:
            groups.append([cur])
    if len(groups) < 2:
        return [p]
    resolved = [g for g in groups if any(r_cat(s.text) for s in g)] if r_cat is not None else groups
    if len(resolved) < 2:
        return [p]  # a word the catalog does not know is no second request: "coffee machine ... lunchbox"
    starts = [g[0].start for g in groups] + [len(p.text) + 1]
    starts[0] = -1
    out = []
    for i in range(len(groups)):
        spans = tuple(
            s
            for s in p.spans
            if starts[i] <= s.start < starts[i + 1] or (s.tag not in PRODUCT_TAGS and s.tag != "CONT")
        )
        out.append(replace(p, spans=spans))
    return out


def _support_follow_up(p: Parse, ctx: Context, threshold: float) -> bool:
    """No command type is likely, an order or a policy is under discussion, and the message names no
    product and is not plainly off-topic: "so what happens now?" asks about the matter at hand."""
    if not (ctx.order or ctx.policy) or p.commands.get("OutOfScope", 0.0) >= threshold:
        return False
    return not p.spans_of(*PRODUCT_TAGS, "REL", "REJECT", "UNSET", "REF", "PRODUCT", "ASPECT")


def _unsure_types(p: Parse, ctx: Context) -> list[str]:
    """No command type is likely: the spans decide. Product words refine the list on screen (or start a
    search); a lone pointer asks about a product; anything else is out of scope."""
    if p.spans_of(*PRODUCT_TAGS, "REL", "REJECT", "UNSET"):
        return ["Refine" if ctx.listed and not p.spans_of("CAT") else "FindProducts"]
    if p.spans_of("REF", "PRODUCT", "ASPECT"):
        return ["AskProduct"]
    best = max(p.commands, key=lambda c: p.commands[c])
    return [best] if p.commands[best] >= 0.3 else ["OutOfScope"]


def _types(p: Parse, threshold: float) -> list[str]:
    types = p.chosen(threshold)
    if "FindProducts" in types and "Refine" in types:
        drop = "Refine" if p.spans_of("CAT") else "FindProducts"
        types.remove(drop)
    if len(types) > 1 and any(t not in SOCIAL for t in types):
        types = [t for t in types if t not in SOCIAL]  # "hi, do you have ..." is one request
    return types


def product_slots(p: Parse, r: Resolver, ctx: Context) -> _Slots:
    """All product constraints a message states, resolved against the catalog."""
    s = _Slots()
    cats = _categories(p, r, s.unknown)
    scope = tuple(cats) or ctx.categories
    brands, ex_brands = _brands(p.spans_of("BRAND"), r, s.unknown), _brands(p.spans_of("NOT_BRAND"), r, [])
    brands += [b for b in _brands_in_types(p, r, tuple(cats)) if b not in brands]
    attrs, ex_attrs = _values(p, r, scope, s.unknown)
    for key, val in _kind_words(p, r, tuple(cats)):
        attrs.setdefault(key, (val,))
    bounds, loose = quantity_bounds(p, r, scope, attrs, s.unknown)
    with_loose = (
        replace(p, spans=tuple(sorted(p.spans + tuple(loose), key=lambda x: x.start))) if loose else p
    )
    price, currency = price_bound(with_loose, r)
    ratings = [_number(sp.text) for sp in p.spans_of("RATING_MIN")]
    s.c = Constraints(
        categories=tuple(cats),
        brands=tuple(b for b in brands if b not in ex_brands),
        exclude_brands=tuple(ex_brands),
        attributes=attrs,
        exclude_attributes=ex_attrs,
        bounds=bounds,
        price=price,
        currency=currency,
        min_rating=max((x for x in ratings if x is not None and 0 < x <= 5), default=None),
        in_stock=True if p.spans_of("STOCK") else None,
    )
    return s


def _categories(p: Parse, r: Resolver, unknown: list[str]) -> list[str]:
    cats: list[str] = []
    missing: list[str] = []
    for sp in p.spans_of("CAT"):
        cat = r.category(sp.text)
        if cat is None:
            missing.append(sp.text)
        elif cat not in cats:
            cats.append(cat)
    if not cats:  # a stray noun beside a known product type is no request ("... taste like a lunchbox")
        unknown += missing
    return cats


def _brands_in_types(p: Parse, r: Resolver, cats: tuple[str, ...]) -> list[str]:
    """A brand named inside a product-type phrase ("LEGO sets", "a Dyson vacuum"): a filter, when the
    words are exactly one of the shop's brands and that brand sells one of the types."""
    out: list[str] = []
    for sp in p.spans_of("CAT"):
        words = norm(sp.text).split()
        grams = [" ".join(words[i : i + n]) for n in (2, 1) for i in range(len(words) - n + 1)]
        for b in (r.v.brands[g] for g in grams if g in r.v.brands):
            sells = any(x.brand == b and x.leaf_category in cats for x in r.v.products.values())
            if sells and b not in out:
                out.append(b)
    return out


Values = dict[str, tuple[str, ...]]


def _kind_words(p: Parse, r: Resolver, cats: tuple[str, ...]) -> list[tuple[str, str]]:
    """A product type named with one of its own values ("robot vacuum", "espresso machine", "trail
    shoes"): the word is a filter, not part of the type's name. Only a word that is exactly a value
    of that type counts."""
    out: list[tuple[str, str]] = []
    if not cats:
        return out
    for sp in p.spans_of("CAT"):
        for word in norm(sp.text).split():
            hits = r.v.value_index.get(word, [])
            out += [(k, v) for k, v in hits if not r.v.attrs[k].boolean and v in r.v.values_in(k, cats)]
    return out


def _values(p: Parse, r: Resolver, scope: tuple[str, ...], unknown: list[str]) -> tuple[Values, Values]:
    attrs: Values = {}
    ex_attrs: Values = {}
    for sp in p.spans_of("ATTR", "NOT_ATTR"):
        hits = r.values(sp.text, scope)
        if not hits:
            unknown.append(sp.text)
        for key, val in hits:
            neg = sp.tag == "NOT_ATTR"
            info = r.v.attrs.get(key)
            if info is not None and info.boolean:
                # "not one with fragrance" names the thing a *_free key is free of: the answer flips.
                inverted = key.endswith("_free") and "free" not in sp.text.lower()
                val, neg = _yes_no(info.values, (not neg) != inverted), False
            target = ex_attrs if neg else attrs
            target[key] = tuple(dict.fromkeys((*target.get(key, ()), val)))
    return attrs, ex_attrs


def _yes_no(values: set[str], yes: bool) -> str:
    want = "yes" if yes else "no"
    return next((v for v in values if v.lower() == want), want)


def _brands(spans: list[Span], r: Resolver, unknown: list[str]) -> list[str]:
    out: list[str] = []
    for sp in spans:
        b = r.brand(sp.text)
        if b is None:
            unknown.append(sp.text)
        elif b not in out:
            out.append(b)
    return out


def _number(text: str) -> float | None:
    for tok in text.replace("+", " ").split():
        try:
            return float(tok)
        except ValueError:
            if tok.lower() in NUMBER_WORDS and tok.lower() not in ("a", "an"):  # "four stars"
                return float(NUMBER_WORDS[tok.lower()])
    return None


def _refs(p: Parse, r: Resolver, ctx: Context) -> list[Ref]:
    out: list[Ref] = []
    for sp in sorted(p.spans_of("REF", "PRODUCT"), key=lambda s: s.start):
        pid = r.product(sp.text, ctx.categories) if sp.tag == "PRODUCT" else None
        for ref in [Ref(product=pid)] if pid else r.refs(sp.text, ctx.categories):
            if ref not in out:
                out.append(ref)
    return out


def _names_one_product(p: Parse, r: Resolver, ctx: Context, c: Constraints) -> bool:
    """The message names one product and states nothing to filter by but that product's own type."""
    named = [f.product for f in _refs(p, r, ctx) if f.product in r.v.products]
    if len(named) != 1 or c.brands or c.attributes or c.bounds or c.price.min or c.price.max:
        return False
    return set(c.categories) <= {r.v.products[named[0]].leaf_category}


def _command(t: str, p: Parse, r: Resolver, ctx: Context, s: _Slots) -> Command | None:
    text = p.text
    scope = s.c.categories or ctx.categories
    if t == "FindProducts" and _names_one_product(p, r, ctx, s.c):
        t = "AskProduct"  # "do you sell the Vitamix Aura Pro?": a request about that one product
    if t in ("FindProducts", "Refine"):
        return _search(t, p, r, scope, s)
    if t == "Rank":
        spans = p.spans_of("SUPER", "REL")
        near = " ".join(sp.text for sp in p.spans_of("ASPECT"))
        hit = r.ranking(" ".join(sp.text for sp in spans), scope, near=near) if spans else None
        words = " ".join(sp.text for sp in spans) or near
        return Rank(text, hit[0] if hit else None, hit[1] if hit else "max", words=words)
    refs = _refs(p, r, ctx)
    if t == "AskProduct":
        aspects = p.spans_of("ASPECT")
        ref = refs[0] if refs else Ref(focus=True)
        own = r.v.products[ref.product].leaf_category if ref.product in r.v.products else None
        aspect = r.aspect(" ".join(a.text for a in aspects), scope) if aspects else None
        if aspect is None or (aspect not in r.v.attrs and aspect != "price"):
            # no attribute named ("how big is the tube"): the question as a whole may still ask for
            # one; else the words stay a review topic ("comfort")
            aspect = r.asked_attribute(text, (own,) if own else scope) or aspect
        return AskProduct(text, ref, aspect)
    if t == "Compare":
        return Compare(text, tuple(refs))
    if t == "CheckStock":
        return CheckStock(text, refs[0] if refs else Ref(focus=True))
    return _support(t, p)


_ORDER_KINDS: dict[str, type[OrderStatus | CancelOrder | ReturnItem | ProvideDetails]] = {
    "OrderStatus": OrderStatus,
    "CancelOrder": CancelOrder,
    "ReturnItem": ReturnItem,
    "ProvideDetails": ProvideDetails,
}


def _search(t: str, p: Parse, r: Resolver, scope: tuple[str, ...], s: _Slots) -> Command:
    sort = _sort(p, r, scope)
    if t == "FindProducts":
        return FindProducts(
            p.text, s.c, carry=bool(p.spans_of("CONT")), sort=sort, unknown=_words_only(s.unknown)
        )
    # "they look heavy, something lighter": the last word about an attribute is the request
    last: dict[str, Relative] = {}
    for sp in p.spans_of("REL"):
        hit = r.ranking(sp.text, scope)
        if hit is not None:
            last.pop(hit[0], None)
            last[hit[0]] = Relative(hit[0], "less" if hit[1] == "min" else "more")
    unset = tuple(dict.fromkeys(r.unset(sp.text, scope) for sp in p.spans_of("UNSET")))
    return Refine(
        p.text,
        s.c,
        unset=unset,
        relative=tuple(last.values()),
        reject_shown=bool(p.spans_of("REJECT")),
        sort=sort,
        unknown=_words_only(s.unknown),
    )


_WORDLIKE = re.compile(r"[^\W_][\w\s'’&.+/-]{0,40}")


def _words_only(unknown: list[str]) -> tuple[str, ...]:
    """Unresolved words are quoted back to the shopper ("I couldn't find X"), so only word-like
    ones: markup or symbols in a message are no product name."""
    return tuple(w for w in unknown if _WORDLIKE.fullmatch(w.strip()))


def _support(t: str, p: Parse) -> Command:
    text = p.text
    if t in _ORDER_KINDS:
        return _order(_ORDER_KINDS[t], p)
    if t == "PolicyQuestion":
        topic, confidence = p.labels.get("topic", ("other", 0.0))
        return PolicyQuestion(text, topic, confidence)
    if t == "Privacy":
        return Privacy(text, p.labels.get("privacy", ("info", 0.0))[0])
    if t == "ChitChat":
        return ChitChat(text, p.labels.get("chat", ("other", 0.0))[0])
    if t == "Handoff":
        return Handoff(text, reason=text[:300])
    if t == "Complaint":
        return Complaint(text)
    return OutOfScope(text)


def _sort(p: Parse, r: Resolver, scope: tuple[str, ...]) -> Sort | None:
    for sp in p.spans_of("SUPER"):
        hit = r.ranking(sp.text, scope)
        if hit:
            return Sort(*hit)
    return None


def _order(kind: type[OrderCommand], p: Parse) -> OrderCommand:
    ids = [normalize_order_id(sp.text) for sp in p.spans_of("ORDER_ID")]
    emails = [sp.text.strip().strip(".,;").lower() for sp in p.spans_of("EMAIL") if "@" in sp.text]
    # An address has one fixed shape: where the tagger missed it, the shape alone finds it.
    emails = emails or find_emails(p.text)
    return replace(kind(p.text), order_id=ids[0] if ids else None, email=emails[0] if emails else None)


def normalize_order_id(text: str) -> str:
    """As written, upper case, without spaces or a leading '#': "ord 104110" -> "ORD104110"."""
    return "".join(text.split()).lstrip("#").upper().strip(".,;:!?")
