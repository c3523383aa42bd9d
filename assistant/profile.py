"""Long-term shopper profile: purchases, ratings, stated preferences, brand/aspect sentiment.

Read from the store's events and the customer's saved preferences. Customers who opted out
of personalization get an empty profile (no history is read at all); anonymous shoppers and
new customers are cold-start: the recommender falls back to constraints, content and popularity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from assistant.shopindex import ShopIndex

# How much each kind of event says about what a shopper likes (for the recommender's fold-in).
EVENT_WEIGHTS = {"purchase": 1.0, "cart": 0.6, "click": 0.4, "view": 0.25}


@dataclass
class Profile:
    customer_id: str | None
    personalized: bool  # False for anonymous shoppers and customers who opted out
    name: str = ""
    purchases: list[tuple[str, str]] = field(default_factory=list)  # (product_id, ISO ts), oldest first
    ratings: dict[str, float] = field(default_factory=dict)
    events: list[tuple[str, str]] = field(default_factory=list)  # (kind, product_id) views/carts/clicks
    brand_sentiment: dict[str, float] = field(default_factory=dict)  # >0 likes, <0 dislikes
    aspects: dict[str, str] = field(default_factory=dict)  # stated, e.g. {"colour": "black"}
    avoid_brands: list[str] = field(default_factory=list)

    def history(self) -> list[tuple[str, float]]:
        """(product_id, weight) for the recommender; badly rated items are left out."""
        if not self.personalized:
            return []
        w: dict[str, float] = defaultdict(float)
        for pid, _ in self.purchases:
            w[pid] += EVENT_WEIGHTS["purchase"]
        for kind, pid in self.events:
            w[pid] += EVENT_WEIGHTS.get(kind, 0.0)
        for pid, r in self.ratings.items():
            if r <= 2:
                w.pop(pid, None)
        return sorted(w.items(), key=lambda x: (-x[1], x[0]))

    def relevant_purchases(self, shop: ShopIndex, categories: set[str] | None) -> list[tuple[str, str]]:
        """Purchases in the same top-level categories as what is being discussed (all when None)."""
        out = [
            (pid, ts)
            for pid, ts in self.purchases
            if pid in shop.products and (categories is None or shop.products[pid].top_category in categories)
        ]
        return out[-2:]

    def signals(self, shop: ShopIndex, categories: set[str] | None = None, limit: int = 3) -> list[str]:
        """Personalization in plain words for the prompt, e.g. "bought the Sony Crest S in March"."""
        if not self.personalized:
            return []
        out: list[str] = []
        for pid, ts in reversed(self.relevant_purchases(shop, categories)):
            p = shop.products.get(pid)
            if p is not None:
                month = _month(ts)
                out.append(f"bought the {short_name(p.title)}" + (f" in {month}" if month else ""))
        # Brand feelings only matter where the brand sells what is being discussed.
        sold = {
            p.brand
            for p in shop.products.values()
            if p.brand and (categories is None or p.top_category in categories)
        }
        likes = [
            b for b, s in sorted(self.brand_sentiment.items(), key=lambda x: -x[1]) if s >= 1.0 and b in sold
        ][:2]
        if likes:
            out.append("likes " + " and ".join(likes))
        avoid = [b for b in self.avoid_brands if b in sold]
        if avoid:
            out.append("avoids " + ", ".join(avoid[:2]))
        out += [f"prefers {v}" for v in list(self.aspects.values())[:2]]
        return out[:limit]


def short_name(title: str) -> str:
    """'Sony Crest S Bluetooth Noise-Cancelling Headphones' -> 'Sony Crest S' (brand + model)."""
    toks = title.split()
    return " ".join(toks[:3]) if len(toks) > 3 else title


def _month(ts: str) -> str:
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).strftime("%B")
    except (ValueError, AttributeError):
        return ""


def build_profile(store: Any | None, customer_id: str | None, shop: ShopIndex) -> Profile:
    if customer_id is None or store is None:
        return Profile(customer_id, False)
    if not store.personalization_allowed(customer_id):
        return Profile(customer_id, False)  # opted out: do not even read the history
    cust = store.get_customer(customer_id) or {}
    prof = Profile(customer_id, True, name=str(cust.get("name") or ""))
    prefs: dict[str, Any] = cust.get("preferences") or {}
    brand_sent: dict[str, float] = defaultdict(float)
    for ev in store.events(customer_id=customer_id, kinds=["purchase", "rate", "cart", "view", "click"]):
        pid, kind = ev.get("product_id"), ev["kind"]
        if not pid or pid not in shop.products:
            continue
        brand = shop.products[pid].brand
        if kind == "purchase":
            prof.purchases.append((pid, str(ev.get("ts") or "")))
        elif kind == "rate" and ev.get("value") is not None:
            prof.ratings[pid] = float(ev["value"])
            if brand:
                brand_sent[brand] += 1.0 if ev["value"] >= 4 else (-1.0 if ev["value"] <= 2 else 0.0)
        else:
            prof.events.append((kind, pid))
    for b in prefs.get("liked_brands", []):
        brand_sent[b] += 2.0
    for b in prefs.get("avoid_brands", []):
        brand_sent[b] -= 2.0
    prof.brand_sentiment = dict(brand_sent)
    prof.avoid_brands = list(prefs.get("avoid_brands", []))
    prof.aspects = dict(prefs.get("aspects", {}))
    return prof


def stated_preferences(commands: list[Any], sentiment: str) -> dict[str, Any]:
    """What this message's product requests say the shopper likes or avoids, to remember across sessions."""
    prefs: dict[str, Any] = {}
    for c in commands:
        cons = getattr(c, "constraints", None) or getattr(c, "set", None)
        if cons is None:
            continue
        if cons.exclude_brands:
            prefs["avoid_brands"] = [*prefs.get("avoid_brands", []), *cons.exclude_brands]
        if cons.brands and sentiment == "positive":
            prefs["liked_brands"] = [*prefs.get("liked_brands", []), *cons.brands]
        aspects = {
            k: v[0] for k, v in cons.attributes.items() if k in ("colour", "color", "size", "material") and v
        }
        if aspects:
            prefs["aspects"] = {**prefs.get("aspects", {}), **aspects}
    return {k: v for k, v in prefs.items() if v}


def save_preferences(store: Any | None, profile: Profile, new: dict[str, Any]) -> bool:
    """Merge newly stated preferences into the stored ones (only with consent). Returns True if saved."""
    if store is None or not profile.personalized or profile.customer_id is None or not new:
        return False
    cust = store.get_customer(profile.customer_id) or {}
    old: dict[str, Any] = dict(cust.get("preferences") or {})
    merged = dict(old)
    for key in ("avoid_brands", "liked_brands"):
        if key in new:
            merged[key] = sorted(set(old.get(key, [])) | set(new[key]))
    if "aspects" in new:
        merged["aspects"] = {**old.get("aspects", {}), **new["aspects"]}
    if merged == old:
        return False
    store.set_preferences(profile.customer_id, merged)
    return True
