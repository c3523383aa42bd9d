"""Output guard: what a model may never say, whatever the prompt or a poisoned review told it.

Checked on the growing text while it streams (so a leak stops within a few words) and on the
final answer: no run of words from the system prompt's rules, no email / phone / card number the
shopper did not type themselves, no markup a browser could run. A hit makes the generator drop
the model's answer for the deterministic template.
"""

from __future__ import annotations

import re

from assistant.pii import pii_spans

__all__ = ["OutputGuard", "UnsafeOutput"]

MARKUP = re.compile(r"<\s*/?\s*(script|img|iframe|svg|object|embed|style|link|meta|form|input)\b|javascript\s*:"
                    r"|\bon[a-z]+\s*=", re.I)
_WORD = re.compile(r"[^a-z0-9$]+")


class UnsafeOutput(Exception):
    """The model's text broke a rule of the output guard."""


def _words(text: str) -> list[str]:
    return _WORD.sub(" ", text.lower()).split()


class OutputGuard:
    def __init__(self, system_prompt: str, n: int = 7) -> None:
        # Only the rules: the worked example's phrasing ("If you want to spend less") is fair to copy.
        rules = re.split(r"(?m)^\s*Example:", system_prompt)[0]
        w = _words(rules)
        self.n = n
        self._shingles = {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}

    def problems(self, text: str, allowed: str = "") -> list[str]:
        out = []
        w = _words(text)
        if any(" ".join(w[i:i + self.n]) in self._shingles for i in range(len(w) - self.n + 1)):
            out.append("prompt_leak")
        low = allowed.lower()
        if any(kind != "address" and value.lower() not in low for kind, value in pii_spans(text)):
            out.append("pii")
        if MARKUP.search(text):
            out.append("markup")
        return out
