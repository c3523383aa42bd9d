"""Input guard: size limits, control characters, prompt-injection flags, PII spotting.

Small on purpose: it cleans and flags; the engine decides. PII is spotted so logs and the
store can keep a redacted copy; the live turn still sees the original (an order lookup
needs the email).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_INJECTION = [
    (
        re.compile(
            r"\b(ignore|disregard|forget)\b.{0,40}\b(previous|prior|above|all|earlier)\b.{0,20}"
            r"\b(instructions?|prompts?|rules?|messages?)",
            re.I | re.S,
        ),
        "ignore_instructions",
    ),
    (re.compile(r"\b(system prompt|developer message|jailbreak|DAN mode)\b", re.I), "prompt_probe"),
    (re.compile(r"\byou are now\b|\bact as (an?|the) (?!shopper)", re.I), "role_override"),
    (re.compile(r"<\|?(im_start|im_end|system|endoftext)\|?>|\[/?INST\]", re.I), "special_tokens"),
    # Shapes seen in poisoned reviews that the rules above missed.
    (
        re.compile(
            r"\b(ignore|disregard|forget|override|bypass)\b.{0,30}\b(instructions?|prompts?|rules|polic(y|ies)|"
            r"guidelines|catalog|guardrails?)\b",
            re.I | re.S,
        ),
        "ignore_instructions",
    ),
    (re.compile(r"</?\s*(review|system|instructions?|context|facts|user|assistant)\s*>", re.I), "fake_tag"),
    (re.compile(r"\b(new|updated|hidden|secret)\s+(instructions?|rules?|task)\s*:", re.I), "new_instruction"),
    (
        re.compile(
            r"\b(note|message|instructions?)\s+(to|for)\s+(the\s+)?(ai|assistant|model|llm|bot|chatbot)\b",
            re.I,
        ),
        "addresses_model",
    ),
    (re.compile(r"(^|[\n.!?]\s*)(system|assistant|developer)\s*:", re.I), "role_marker"),
]
_PII = {
    "email": re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"),
    "card": re.compile(r"\b(?:\d[ -]?){13,19}\b"),
    "phone": re.compile(r"(?<!\w)\+?\d[\d ()-]{8,}\d\b"),
}


@dataclass(frozen=True)
class Guarded:
    text: str  # cleaned text for the live turn
    redacted: str  # what logs and the store keep
    flags: list[str] = field(default_factory=list)  # injection flags
    pii: list[str] = field(default_factory=list)  # kinds of PII spotted


def injection_flags(text: str) -> list[str]:
    return list(dict.fromkeys(name for rx, name in _INJECTION if rx.search(text)))


def redact(text: str) -> tuple[str, list[str]]:
    # assistant.pii adds Luhn-checked cards (order and tracking numbers survive) and street addresses.
    from assistant.pii import redact as pii_redact

    return pii_redact(text)


def check(text: str, max_chars: int = 4000) -> Guarded:
    # The web layer refuses longer messages (ui.admission); any other caller's is cut here.
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFKC", text or "")).strip()[:max_chars]
    redacted, pii = redact(cleaned)
    return Guarded(cleaned, redacted, injection_flags(cleaned), pii)
