"""Building blocks of generated training messages: tagged parts, templates, money and numbers as
people type them, and typing noise."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

Part = tuple[str, str | None]  # (text, span tag or None)
Slots = dict[str, "list[Part] | str"]


@dataclass
class Example:
    """One training message: its text, tagged character spans and the labels of its sequence heads."""

    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    commands: tuple[str, ...] = ()
    topic: str | None = None
    privacy: str | None = None
    chat: str | None = None
    source: str = "generated"
    tagged: bool = True  # False: only the sequence labels are known (token loss masked)
    context: str = ""  # what the conversation shows the parser: "list" (products on screen), "asked"

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "spans": [list(s) for s in self.spans],
            "commands": list(self.commands),
            "topic": self.topic,
            "privacy": self.privacy,
            "chat": self.chat,
            "source": self.source,
            "tagged": self.tagged,
            "context": self.context,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Example:
        return cls(
            d["text"],
            [(int(a), int(b), str(t)) for a, b, t in d.get("spans", [])],
            tuple(d.get("commands", ())),
            d.get("topic"),
            d.get("privacy"),
            d.get("chat"),
            d.get("source", "generated"),
            bool(d.get("tagged", True)),
            str(d.get("context", "")),
        )


@lru_cache(maxsize=1)
def phrases() -> dict[str, Any]:
    text = resources.files("assistant.nlu.corpus").joinpath("phrases.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, slots: Slots) -> list[Part]:
    """Template text with {slot}s replaced by their parts; a missing slot is an error naming it."""
    out: list[Part] = []
    pos = 0
    for m in _SLOT.finditer(template):
        if m.start() > pos:
            out.append((template[pos : m.start()], None))
        val = slots[m.group(1)]
        out.extend([(val, None)] if isinstance(val, str) else val)
        pos = m.end()
    if pos < len(template):
        out.append((template[pos:], None))
    return out


def tag(text: str, t: str | None) -> list[Part]:
    return [(text, t)]


def join(*items: list[Part], sep: str = " ") -> list[Part]:
    """Concatenate part lists with a separator between non-empty ones."""
    out: list[Part] = []
    for it in items:
        if not it or not "".join(p for p, _ in it).strip():
            continue
        if out:
            out.append((sep, None))
        out.extend(it)
    return out


def assemble(parts: list[Part]) -> tuple[str, list[tuple[int, int, str]]]:
    """Parts -> (text, spans). Spaces are collapsed; a tagged span never includes outer spaces."""
    text, spans = "", []
    for piece, t in parts:
        if not piece:
            continue
        if text.endswith(" ") and piece.startswith(" "):
            piece = piece.lstrip(" ")
        start = len(text) + (len(piece) - len(piece.lstrip()))
        text += piece
        end = len(text) - (len(piece) - len(piece.rstrip()))
        if t is not None and end > start:
            spans.append((start, end, t))
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    spans = [(s - lead, e - lead, t) for s, e, t in spans]
    return text, spans


# --- money and numbers as typed ---------------------------------------------------------------
_SYMBOLS = {
    "USD": ["$"],
    "GBP": ["£"],
    "EUR": ["€"],
    "INR": ["₹", "Rs.", "Rs "],
    "SAR": ["SR ", "SAR "],
    "JPY": ["¥"],
}
_WORDS = {
    "USD": ["dollars", "bucks", "usd", "USD", "dollar"],
    "GBP": ["quid", "pounds", "gbp", "GBP"],
    "EUR": ["euros", "EUR", "eur", "euro"],
    "INR": ["rupees", "INR", "rs"],
    "SAR": ["SAR", "riyals", "SR", "riyal"],
    "JPY": ["yen", "JPY"],
}
_NUMBER_WORDS = {
    10: "ten",
    15: "fifteen",
    20: "twenty",
    25: "twenty-five",
    30: "thirty",
    35: "thirty-five",
    40: "forty",
    45: "forty five",
    50: "fifty",
    60: "sixty",
    70: "seventy",
    75: "seventy-five",
    80: "eighty",
    90: "ninety",
    100: "a hundred",
    150: "a hundred and fifty",
    200: "two hundred",
    250: "two hundred and fifty",
    300: "three hundred",
    400: "four hundred",
    500: "five hundred",
    1000: "a thousand",
    2000: "two grand",
    3000: "three thousand",
}


def nice_amount(rng: random.Random, lo: float, hi: float) -> float:
    """A budget a person would name between lo and hi: round numbers, sometimes x9.99."""
    x = rng.uniform(lo, hi)
    step = 5 if x < 100 else 10 if x < 300 else 50 if x < 2000 else 100 if x < 10000 else 1000
    v = max(step, round(x / step) * step)
    if rng.random() < 0.12:
        return v - 0.01
    return float(v)


def currency_word(rng: random.Random, currency: str) -> str:
    return rng.choice(_SYMBOLS.get(currency, [currency]) + _WORDS.get(currency, [currency])).strip()


def render_money(rng: random.Random, amount: float, currency: str, bare: float = 0.25) -> str:
    """One way of writing an amount: "$150", "150$", "150 bucks", "USD 150", "₹1,499", "1.5k",
    "fifty quid"."""
    whole = float(amount).is_integer()
    num = (
        f"{amount:,.0f}" if whole and rng.random() < 0.6 else (f"{amount:.0f}" if whole else f"{amount:.2f}")
    )
    if whole and amount >= 1000 and amount % 100 == 0 and rng.random() < 0.25:
        num = f"{amount / 1000:g}k"
    if whole and int(amount) in _NUMBER_WORDS and rng.random() < 0.2:
        num = _NUMBER_WORDS[int(amount)]
    syms, words = _SYMBOLS.get(currency, [currency + " "]), _WORDS.get(currency, [currency])
    if rng.random() < bare:
        return num
    r = rng.random()
    if num[0].isalpha():  # number words take a currency word: "fifty bucks"
        return f"{num} {rng.choice(words)}"
    if r < 0.45:
        return rng.choice(syms) + ("" if rng.random() < 0.85 else " ") + num
    if r < 0.6:
        return num + rng.choice(syms).strip()
    if r < 0.9:
        return f"{num} {rng.choice(words)}"
    return f"{rng.choice(words).upper()} {num}"


def render_number(rng: random.Random, value: float, unit: str) -> str:
    num = f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"
    if rng.random() < 0.3:
        num = num.replace(",", "")
    sep = "" if rng.random() < 0.35 and len(unit) <= 3 else " "
    return f"{num}{sep}{unit}"


# --- typing noise -------------------------------------------------------------------------------
def typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.35:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind < 0.7:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def noisy(parts: list[Part], rng: random.Random, rate: float = 0.03) -> list[Part]:
    """Typos in some words, lower case or sentence case, dropped apostrophes and end punctuation."""
    lower = rng.random() < 0.55
    out: list[Part] = []
    for text, t in parts:
        words = re.split(r"(\s+)", text)
        p = rate * (0.6 if t in ("ORDER_ID", "EMAIL", "PRICE_MAX", "PRICE_MIN", "PRICE_ABOUT") else 1.0)
        if t in ("ORDER_ID", "EMAIL"):
            p = 0.0
        words = [typo(w, rng) if rng.random() < p else w for w in words]
        text = "".join(words)
        if lower and t not in ("ORDER_ID",):
            text = text.lower()
        if rng.random() < 0.15:
            text = text.replace("'", "")
        out.append((text, t))
    if out and not lower and out[0][0][:1].isalpha():
        out[0] = (out[0][0][:1].upper() + out[0][0][1:], out[0][1])
    if out and out[-1][1] is None and rng.random() < 0.3:
        out[-1] = (out[-1][0].rstrip("?!. "), None)
    return out
