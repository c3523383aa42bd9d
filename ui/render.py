"""HTML fragments for the Gradio app. Every value from the shop or a user goes through ``esc``:
product names, reviews and messages are data and must never become markup or script."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

PALETTE = ("#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626")


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def price_text(price: float | None, currency: str = "USD") -> str:
    from assistant.events import price_text as shop_price

    return shop_price(price, currency)  # as the shop prints it: "SAR 1,499", "$91.99", "₹1,499"


def rating_text(rating: float | None) -> str:
    return "no ratings yet" if rating is None else f"★ {rating:.1f} / 5"


def product_svg(product_id: str, title: str) -> str:
    """A placeholder picture (the demo shop has no photos): initials on a colour from the id."""
    colour = PALETTE[int(hashlib.sha1(product_id.encode()).hexdigest(), 16) % len(PALETTE)]
    initials = "".join(w[0] for w in title.split()[:2] if w[:1].isalnum()).upper() or "?"
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96" role="img">'
        f'<title>{esc(title)}</title><rect width="96" height="96" rx="12" fill="{colour}"/>'
        f'<text x="48" y="58" font-family="sans-serif" font-size="32" fill="#fff" text-anchor="middle">'
        f"{esc(initials)}</text></svg>"
    )


def card_html(card: Mapping[str, Any], actions: bool = True) -> str:
    pid, title = str(card.get("product_id") or card.get("id") or ""), str(card.get("title") or "")
    return (
        f'<article class="aisle-card" role="listitem" data-pid="{esc(pid)}" data-title="{esc(title)}">'
        f'<img src="/api/products/{esc(quote(pid, safe=""))}/image.svg"'
        f' alt="{esc(title)}" width="64" height="64">'
        '<div class="aisle-card-body">'
        f'<div class="aisle-card-title" role="heading" aria-level="4">{esc(title)}</div>'
        '<div class="aisle-card-meta"><span class="aisle-price">'
        f"{esc(price_text(card.get('price'), card.get('currency') or 'USD'))}</span>"
        f' · <span class="aisle-rating">{esc(rating_text(card.get("rating")))}</span></div>'
        f'<p class="aisle-reason">{esc(card.get("reason") or "")}</p>'
        + (_actions(title) if actions else "")
        + "</div></article>"
    )


def _actions(title: str) -> str:
    return (
        '<div class="aisle-actions">'
        f'<button type="button" data-action="more" aria-label="More like {esc(title)}">'
        "More like this</button>"
        f'<button type="button" data-action="up" aria-label="Thumbs up for {esc(title)}">Like</button>'
        f'<button type="button" data-action="down" aria-label="Thumbs down for {esc(title)}">Dislike</button>'
        f'<button type="button" data-action="cart" aria-label="Add {esc(title)} to cart">Add to cart</button>'
        "</div>"
    )


def cards_html(cards: Iterable[Mapping[str, Any]], actions: bool = True) -> str:
    items = "".join(card_html(c, actions) for c in cards)
    if not items:
        return '<div class="aisle-cards aisle-empty">Products I suggest will appear here.</div>'
    # No session or customer id in the page: clicks are attributed server-side (ui.app.card_event).
    return f'<div class="aisle-cards" role="list" aria-label="Suggested products">{items}</div>'


def transcript_html(messages: Iterable[Mapping[str, Any]]) -> str:
    rows = []
    for m in messages:
        role = str(m.get("role", ""))
        rows.append(
            f'<div class="aisle-msg aisle-{esc(role)}"><b>{esc(role)}</b>'
            f" <small>{esc(str(m.get('created_at', ''))[:19])}</small><br>{esc(m.get('text', ''))}</div>"
        )
    return '<div class="aisle-transcript">' + ("".join(rows) or "<i>no messages yet</i>") + "</div>"


def passages_html(passages: Iterable[Any]) -> str:
    rows = []
    for p in passages:
        d = p if isinstance(p, Mapping) else getattr(p, "__dict__", {"text": str(p)})
        title = d.get("title") or (d.get("metadata") or {}).get("title") or d.get("id", "")
        rows.append(f"<li><b>{esc(title)}</b>: {esc(str(d.get('text', ''))[:400])}</li>")
    return '<ul class="aisle-passages">' + ("".join(rows) or "<li><i>none</i></li>") + "</ul>"


CSS = """
.aisle-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}
.aisle-card{display:flex;gap:10px;border:1px solid #d0d5dd;border-radius:10px;padding:10px;
  background:var(--background-fill-primary)}
.aisle-card img{border-radius:8px;flex:none}
.aisle-card-title{margin:0 0 4px;font-size:15px;font-weight:600}
.aisle-reason{margin:4px 0;font-size:13px;opacity:.85}
.aisle-actions button{margin:2px 4px 2px 0;padding:3px 8px;font-size:13px;font-weight:400;
  border:1px solid #98a2b3;border-radius:6px;background:transparent;cursor:pointer}
.aisle-actions button[aria-pressed=true]{background:#dbeafe}
.aisle-card button:focus-visible,#aisle-send:focus-visible,#aisle-input textarea:focus-visible{
  outline:3px solid #f59e0b;outline-offset:2px}
.aisle-msg{padding:4px 0;border-bottom:1px solid #eaecf0;white-space:pre-wrap}
.aisle-agent b{color:#7c3aed}
.aisle-hidden{display:none !important}
"""

# Card buttons hand the click to a hidden Gradio event (ui.app.card_event), so it is recorded with the
# tab's server-side identity; one delegated listener survives Gradio re-rendering.
HEAD_JS = """
<script>
document.addEventListener('click', function (e) {
  var btn = e.target.closest && e.target.closest('.aisle-card button[data-action]');
  if (!btn) return;
  var card = btn.closest('.aisle-card');
  var act = btn.getAttribute('data-action');
  var box = document.querySelector('#aisle-event textarea'), go = document.getElementById('aisle-event-send');
  if (box && go) {
    box.value = JSON.stringify({action: act, product_id: card.getAttribute('data-pid'), n: Date.now()});
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(function () { go.click(); }, 30);
  }
  btn.setAttribute('aria-pressed', 'true');
  if (act === 'more') {
    var ta = document.querySelector('#aisle-input textarea');
    if (ta) {
      ta.value = 'More like ' + card.getAttribute('data-title');
      ta.dispatchEvent(new Event('input', {bubbles: true}));
      setTimeout(function () { var s = document.getElementById('aisle-send'); if (s) s.click(); }, 80);
    }
  }
});
</script>
"""
