"""Money: amounts with a currency, read from how shoppers write them and written as a shop would.

Reading turns one amount phrase ("$1,499", "250$", "90 EUR", "Rs. 2,000", "1.5k", "fifty bucks",
"35,50 €") into a ``Money``; the parser decides which words form the phrase and whether it is a
ceiling or a floor. Writing uses Babel's locale data, so ₹1,499 / £24.99 / 24,99 € read as a local
shop would print them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

__all__ = ["Money", "currency_of", "format_money", "locale_for", "parse_money", "money_words"]
# The locale a shop in this currency most likely prints prices in, when it sets none.
_LOCALES = {
    "USD": "en_US",
    "GBP": "en_GB",
    "EUR": "en_IE",
    "INR": "en_IN",
    "SAR": "en_AE",
    "AUD": "en_AU",
    "CAD": "en_CA",
    "JPY": "ja_JP",
}


def locale_for(currency: str) -> str:
    return _LOCALES.get(currency.upper(), "en_US")


# Informal names Babel's locale data does not hold. Babel supplies the official symbols and names.
_SLANG = {
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "buck": "USD",
    "bucks": "USD",
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
    "₹": "INR",
    "rs": "INR",
    "rs.": "INR",
    "inr": "INR",
    "rupee": "INR",
    "rupees": "INR",
    "sar": "SAR",
    "sr": "SAR",
    "riyal": "SAR",
    "riyals": "SAR",
    "﷼": "SAR",
    "ر.س": "SAR",
    "¥": "JPY",
    "yen": "JPY",
    "cad": "CAD",
    "aud": "AUD",
    "chf": "CHF",
}
_SCALE = {
    "k": Decimal(1000),
    "grand": Decimal(1000),
    "thousand": Decimal(1000),
    "m": Decimal(1_000_000),
    "million": Decimal(1_000_000),
    "lakh": Decimal(100_000),
    "lakhs": Decimal(100_000),
}
NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "a": 1,
    "an": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_NUMBER = re.compile(r"\d[\d,.' \u202f]*\d|\d")


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str | None  # ISO 4217; None when the text named no currency

    def __float__(self) -> float:
        return float(self.amount)


@lru_cache(maxsize=1)
def _currency_table() -> dict[str, str]:
    """Every symbol and name (singular and plural) Babel's English data has, plus the slang above."""
    from babel import Locale

    table: dict[str, str] = {}
    for loc in ("en", "en_GB", "en_IN", "en_AU", "en_CA"):
        locale = Locale.parse(loc)
        for code, sym in locale.currency_symbols.items():
            table.setdefault(str(sym).lower(), str(code))
        for code, name in locale.currencies.items():
            table.setdefault(str(name).lower(), str(code))
            table.setdefault(str(code).lower(), str(code))
    table.update(_SLANG)
    return table


def currency_of(word: str) -> str | None:
    """The ISO code a currency word, code or symbol stands for ("quid" -> GBP, "Rs." -> INR)."""
    w = word.strip().lower()
    return _currency_table().get(w) or _currency_table().get(w.rstrip("."))


def _number(raw: str) -> Decimal | None:
    """ "1,499" / "1.499,50" / "35,50" / "1 499" / "2'000" -> Decimal, separators read as a shop would."""
    s = raw.replace(" ", "").replace("'", "").replace("\u202f", "")
    if "," in s and "." in s:  # the later one is the decimal mark
        s = s.replace(",", "") if s.rfind(".") > s.rfind(",") else s.replace(".", "").replace(",", ".")
    elif "," in s:
        head, _, tail = s.rpartition(",")
        # "35,50" is a decimal comma; "1,499" and "20,000" group thousands.
        s = s.replace(",", "") if len(tail) == 3 or head.count(",") else head.replace(",", "") + "." + tail
    elif s.count(".") > 1 or (len(s.rpartition(".")[2]) == 3 and s[0] != "0"):
        s = s.replace(".", "")  # "1.499.000" and "€1.200": a dot before three digits groups thousands
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def _words_number(words: list[str]) -> Decimal | None:
    """ "two hundred and fifty" -> 250; None when the words are not a number."""
    total, cur, seen = 0, 0, False
    for w in words:
        if w in ("and", "-"):
            continue
        if w in NUMBER_WORDS:
            cur += NUMBER_WORDS[w]
            seen = True
        elif w == "hundred":
            cur = max(cur, 1) * 100
            seen = True
        elif w in ("thousand", "grand", "k"):
            total += max(cur, 1) * 1000
            cur, seen = 0, True
        else:
            return None
    return Decimal(total + cur) if seen else None


_TOKEN = re.compile(
    r"\d{1,3}(?:[ \u202f]\d{3})+(?![\d,.])|\d[\d,.'\u202f]*\d|\d|[^\W\d_]+\.?|[^\w\s]", re.UNICODE
)


def parse_money(text: str, default_currency: str | None = None) -> Money | None:
    """One amount phrase -> Money, or None when it holds no amount.

    The currency may come before or after the number, as a symbol, a code or a word; "k", "grand"
    and "lakh" scale it; number words count ("fifty bucks"). ``default_currency`` fills in a missing
    currency (pass None to learn whether the text stated one)."""
    toks = _TOKEN.findall(text.replace("\u00a0", " "))
    currency: str | None = None
    amount: Decimal | None = None
    scale = Decimal(1)
    words: list[str] = []
    for i, tok in enumerate(toks):
        low = tok.lower()
        if amount is None and _NUMBER.fullmatch(tok):
            amount = _number(tok)
            continue
        if low == "hundred" and amount is not None:  # "3 hundred dollars"; "two hundred" counts as words
            scale = Decimal(100)
            continue
        if low in _SCALE and (amount is not None or words) and not (low == "m" and _is_metre(toks, i)):
            scale = _SCALE[low]
            continue
        code = currency_of(low)
        if code is not None and currency is None and not (low in ("a", "an") and amount is None):
            currency = code
            continue
        if amount is None and (low in NUMBER_WORDS or low in ("hundred", "and", "-")):
            words.append(low)
    if amount is None and words:
        amount = _words_number(words)
    if amount is None:
        return None
    return Money(amount * scale, currency or default_currency)


def _is_metre(toks: list[str], i: int) -> bool:
    return i + 1 < len(toks) and toks[i + 1].isalpha()


def format_money(
    amount: float | Decimal, currency: str, locale: str = "en_US", digits: int | None = None
) -> str:
    """₹1,499 / £24.99 / 24,99 € — whole amounts without decimals unless ``digits`` asks for them."""
    from babel.numbers import format_currency, get_decimal_symbol

    value = Decimal(str(amount))
    if digits is None:
        digits = 0 if value == value.to_integral_value() else 2
    try:
        out = format_currency(value, currency, locale=locale)
        if digits == 0:  # the locale's own pattern, without the cents: "₹1,499", "25 €"
            out = re.sub(re.escape(get_decimal_symbol(locale)) + r"0+(?!\d)", "", out)
    except (ValueError, KeyError, LookupError):  # an unknown locale or code still reads fine as "1,499 XYZ"
        out = f"{value:,.{digits}f} {currency}"
    out = out.replace("\u00a0", " ").replace("\u200f", "").strip()
    return re.sub(r"^([A-Z]{2,3})(?=\d)", r"\1 ", out)  # "SAR1,499" -> "SAR 1,499"


def money_words(amount: float, currency: str, locale: str | None = None) -> str:
    """The shortest form for wording a budget ("under $150", "under ₹1,500"); cents only when stated."""
    digits = 0 if float(amount).is_integer() else 2
    return format_money(amount, currency, locale or locale_for(currency), digits=digits)
