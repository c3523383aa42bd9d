"""Output guards. ``OutputGuard``: what a model may never say, whatever the prompt or a poisoned
review told it. ``RenderGuard``: what no renderer may be handed, whoever wrote the text.

Checked on the growing text while it streams (so a leak stops within a few words) and on the
final answer: no run of words from the system prompt's rules, no email / phone / card number the
shopper did not type themselves, no markup a browser could run. A hit makes the generator drop
the model's answer for the deterministic template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from assistant.pii import pii_spans

__all__ = ["OutputGuard", "RenderGuard", "StreamGuard", "UnsafeOutput", "guard_events", "guard_record"]

MARKUP = re.compile(
    r"<\s*/?\s*(script|img|iframe|svg|object|embed|style|link|meta|form|input)\b|javascript\s*:"
    r"|\bon[a-z]+\s*=",
    re.I,
)
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
        self._shingles = {" ".join(w[i : i + n]) for i in range(len(w) - n + 1)}

    def problems(self, text: str, allowed: str = "") -> list[str]:
        out = []
        w = _words(text)
        if any(" ".join(w[i : i + self.n]) in self._shingles for i in range(len(w) - self.n + 1)):
            out.append("prompt_leak")
        low = allowed.lower()
        if any(kind != "address" and value.lower() not in low for kind, value in pii_spans(text)):
            out.append("pii")
        if MARKUP.search(text):
            out.append("markup")
        return out


# --- the render guard: untrusted text on its way to any renderer -----------------------------------
# Reviews, catalog text, template text that quotes them, model text and transcripts all pass
# ``RenderGuard.clean`` before the Gradio Markdown, the widget or an API client shows them: no
# Markdown image (a browser would fetch it: a tracking pixel in every shopper's page), no link except
# to the shop's own hosts, no bare URL or e-mail a renderer could turn into a link.
_LINK_BODY = (
    r"\(\s*(<[^<>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)"
)
_TEXT = r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"  # link text may hold balanced brackets, one level deep
_IMAGE = re.compile(r"!" + _TEXT + r"(?:" + _LINK_BODY + r"|\[[^\[\]]*\])")
_LINK = re.compile(_TEXT + _LINK_BODY)
_REF_DEF = re.compile(r"(?m)^[ \t]{0,3}\[[^\[\]]+\]:[ \t]*\S+.*$")
_URL = re.compile(
    r"(?i)(?:(?:https?|ftp|file)://|\b(?:data|javascript|vbscript|mailto):|www\.)[^\s<>\"'`\[\]]+"
)
_PLAIN_URL = re.compile(r"^https?://[a-z0-9.-]+(?::\d{1,5})?(?:[/?#][\w\-.~/?#%&=+,;:]*)?$")
_INNER_SCHEME = re.compile(r"(?i)(https?|ftp|file|data|javascript|vbscript|mailto):")
_EMAIL_DOMAIN = re.compile(r"(?i)@((?:[a-z0-9-]+\.)+[a-z]{2,})")
_TRAILING = ".,;:!?)]}'\""


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url if "://" in url else "//" + url)
    except ValueError:
        return ""
    return (parts.hostname or "").lower().rstrip(".")


def defang(text: str) -> str:
    """A URL's or e-mail domain's dots as ``[.]``: still readable, no longer something to link."""
    return text.replace(".", "[.]")


class RenderGuard:
    """One guard for every text a renderer shows; ``clean`` is idempotent."""

    def __init__(self, shop_hosts: list[str] | tuple[str, ...] = ()) -> None:
        self.hosts = frozenset(h.lower().rstrip(".") for h in shop_hosts)

    def allowed(self, url: str) -> bool:
        low = url.strip().lower()
        # Plain characters only: no userinfo (@), no nested URL (an open redirect), no brackets that
        # could end the link early and leave the rest to a renderer.
        if not _PLAIN_URL.match(low) or "://" in low.split("://", 1)[1]:
            return False
        host = _host(low)
        return bool(host) and any(host == h or host.endswith("." + h) for h in self.hosts)

    def clean(self, text: str) -> str:
        if not text or not any(c in text for c in "[]:@.<"):
            return text
        out = text
        for _ in range(4):  # nested constructs ([![img](a)](b)) unwrap one level per pass
            before = out
            out = _IMAGE.sub(lambda m: m.group(1), out)
            out = _LINK.sub(
                lambda m: m.group(0) if self.allowed((m.group(2) or "").strip("<>")) else m.group(1), out
            )
            if out == before:
                break
        out = _REF_DEF.sub("", out)
        out = self._bare_urls(out)
        # An e-mail is linked for its domain's dots (GFM autolinks): defang every @domain.
        return _EMAIL_DOMAIN.sub(lambda m: "@" + defang(m.group(1)), out)

    def _bare_urls(self, text: str) -> str:
        # Explicit links that survived are to shop hosts; their URLs must stay intact.
        spans = [m.span(2) for m in _LINK.finditer(text)]
        pieces, last, pos = [], 0, 0
        while (m := _URL.search(text, pos)) is not None:
            a = m.start()
            inside = next((e for s, e in spans if s <= a < e), None)
            if inside is not None:  # scan on after the kept link, not over it
                pos = inside
                continue
            url = m.group().rstrip(_TRAILING)
            pieces += [text[last:a], url if self.allowed(url) else self._neutral(url)]
            last = pos = a + max(len(url), 1)
        pieces.append(text[last:])
        return "".join(pieces)

    @staticmethod
    def _neutral(url: str) -> str:
        # Every dot, path included: a URL nested in the path must not become linkable either.
        rest = re.sub(r"(?i)^(?:[a-z]+:(?://)?)", "", url)
        return _INNER_SCHEME.sub(r"\1[:]", defang(rest))

    def stream(self) -> StreamGuard:
        return StreamGuard(self)


class StreamGuard:
    """Guards streamed text: a construct split across deltas (``![x](ht`` + ``tp://…)``) is held back
    until it is complete, so what was already sent never needs taking back. The final answer (the
    Done event's text) is always cleaned whole."""

    def __init__(self, guard: RenderGuard) -> None:
        self._guard = guard
        self._raw = ""
        self._sent = ""

    def feed(self, delta: str) -> str:
        self._raw += delta
        return self._advance(self._guard.clean(self._raw[: _safe_cut(self._raw)]))

    def flush(self) -> str:
        return self._advance(self._guard.clean(self._raw))

    def _advance(self, safe: str) -> str:
        if not safe.startswith(self._sent):
            return ""  # cleaning rewrote earlier text: the final answer carries the whole of it
        out, self._sent = safe[len(self._sent) :], safe
        return out


def _safe_cut(text: str) -> int:
    """Where the text can be cut without splitting a word, URL, or an open ``[``/``(`` construct."""
    cut = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t")) + 1
    depth_at = [i for i, c in enumerate(text[:cut]) if c == "["]
    for i in depth_at:
        tail = text[i:cut]
        if "]" not in tail or ("](" in tail and ")" not in tail.split("](", 1)[1]):
            return min(cut, i - 1 if i > 0 and text[i - 1] == "!" else i)
    return cut


CARD_TEXT = ("title", "reason", "brand", "category")
RECORD_TEXT = ("title", "description", "brand", "category", "reason", "text", "snippet", "summary", "name")


def guard_record(record: dict[str, Any], guard: RenderGuard) -> dict[str, Any]:
    """A product / hit / passage dict with its display text cleaned (ids and numbers untouched)."""
    return {k: guard.clean(v) if k in RECORD_TEXT and isinstance(v, str) else v for k, v in record.items()}


def _guard_card(card: Any, guard: RenderGuard) -> Any:
    text: dict[str, Any] = {
        f: guard.clean(getattr(card, f)) for f in CARD_TEXT if isinstance(getattr(card, f, None), str)
    }
    return replace(card, **text)


def guard_events(events: Iterable[Any], guard: RenderGuard) -> Iterator[Any]:
    """The engine's events with every text a renderer will show cleaned: cards, streamed text, the
    final answer and its citation snippets. Closing this closes the engine's stream too."""
    from assistant.events import Done, Products, TextDelta

    sg = guard.stream()
    try:
        for ev in events:
            if isinstance(ev, TextDelta):
                text = sg.feed(ev.text)
                if text:
                    yield replace(ev, text=text)
            elif isinstance(ev, Products):
                yield replace(ev, cards=[_guard_card(c, guard) for c in ev.cards])
            elif isinstance(ev, Done):
                rest = sg.flush()
                if rest:
                    yield TextDelta(rest)
                yield replace(
                    ev,
                    text=guard.clean(ev.text),
                    citations=[replace(c, snippet=guard.clean(c.snippet)) for c in ev.citations],
                )
            else:
                yield ev
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()
