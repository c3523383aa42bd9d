"""Entity-aware corrections to the intent classifier, for messages a sentence embedding misreads.

"noise cancelling headphones" embeds near "cancel my order", and "a yoga mat" near a product
question, because the classifier sees wording, not the catalog. The gazetteer knows better: when a
message is nothing but catalog terms, or names a product and carries no support cue outside those
terms, it is shopping.
"""

from __future__ import annotations

import re

from assistant.nlu.entities import Entities

SHOPPING = ("search", "recommend")
# Support intents that a product word alone can trigger by wording ("cancelling", "returns" in a name).
ORDER_SUPPORT = frozenset({"order_status", "cancel_order", "return_refund", "shipping", "payment"})
# Words that make a message about an order, money or after-sales even when it names a product.
SUPPORT_CUE = re.compile(
    r"\b(orders?|ordered|purchased?|bought|cancel\w*|refund\w*|return\w*|exchange\w*|send (?:it |them )?back|"
    r"ship\w*|deliver\w*|arriv\w*|track\w*|package|parcel|courier|charg(?:e|ed|es|ing)|pa(?:y|id|ying|yment)|"
    r"card|invoice|receipt|bill(?:ed|ing)?|money|price[- ]?match\w*|warrant\w*|guarantee\w*|broke|broken|damaged|"
    r"faulty|defective|account|where(?:'s| is)|when will)\b", re.I)
# Asking to see or buy something: with a product named and no support cue, a shopping request.
SHOPPING_CUE = re.compile(r"\b(sell|sells|stock|carry|have|got|find|show|looking for|look for|after|need|want|buy|"
                          r"shopping for|get me|recommend|suggest)\b", re.I)
# Words a bare product phrase may hold besides catalog terms ("a pair of", "for men", "size 10").
FILLER = frozenset(["a", "an", "the", "some", "any", "one", "pair", "pairs", "of", "for", "with", "and", "in", "on",
                    "size", "new", "good", "nice", "men", "mens", "women", "womens", "kid", "kids", "s", "please"])
# Words that make a message a question, comparison or request rather than a product phrase.
NOT_MODIFIER = frozenset(["is", "are", "does", "do", "can", "what", "which", "how", "why", "compare", "vs", "versus",
                          "or", "than", "better", "it", "this", "that", "not", "no", "hi", "hello", "thanks", "bye"])
_WORD = re.compile(r"[^\W_]+")
_CATALOG_KINDS = ("category", "brand", "attribute", "price")


def _outside_catalog(text: str, ents: Entities) -> str:
    """The text with every catalog-term and price span blanked out."""
    chars = list(text)
    for kind, s, e in ents.spans:
        if kind in _CATALOG_KINDS:
            chars[s:e] = " " * (e - s)
    return "".join(chars)


def shopping_override(text: str, intent: str, ents: Entities) -> bool:
    """True when ``intent`` should give way to a shopping intent given the catalog terms found: the
    message is a bare catalog phrase, or it asks to see or buy a named product with no support cue."""
    if intent in SHOPPING or not (ents.categories or ents.brands):
        return False
    if ents.references or ents.order_ids or ents.emails or ents.negated_brands or ents.negated_attributes:
        return False
    rest = _outside_catalog(text, ents)
    if intent != "compare" and _bare_phrase(text, rest):
        return True  # a bare catalog phrase: "a yoga mat", "noise cancelling headphones"
    return intent in ORDER_SUPPORT and SHOPPING_CUE.search(rest) is not None and SUPPORT_CUE.search(rest) is None


def _bare_phrase(text: str, rest: str) -> bool:
    """Only filler words, numbers and catalog terms, plus at most two modifiers placed right before a
    catalog term ("an external hard drive": the gazetteer knows "hard drive", not "external")."""
    modifiers = 0
    for m in _WORD.finditer(rest):
        w = m.group().lower()
        if w in FILLER or w.isdigit():
            continue
        nxt = re.match(r"[\s-]*", text[m.end():])
        after = m.end() + (nxt.end() if nxt else 0)
        if w in NOT_MODIFIER or SUPPORT_CUE.fullmatch(w) or after >= len(rest) or rest[after] != " " or modifiers >= 2:
            return False
        modifiers += 1  # followed directly by a blanked catalog term
    return True


# Words that make a message weigh products against each other, whatever it references.
COMPARATIVE = re.compile(r"\b(compar\w*|vs\.?|versus|better|best|worse|differ\w*|between|or|than|both|either|"
                         r"which|against|side by side|each other|\w+er than)\b", re.I)


def single_product_question(text: str, intent: str, ents: Entities) -> bool:
    """True when a "compare" reading names one shown product and asks nothing comparative:
    "tell me about the third one" is a question about that product."""
    refs = list(ents.references) + list(ents.product_mentions)
    return intent == "compare" and len(refs) == 1 and COMPARATIVE.search(text) is None
