"""Products of the demo shop, with the latent factors the shopper simulation draws on."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from knowledge.demo._catalog_specs import BUDGET_BRANDS, MODEL_NAMES, PREMIUM_BRANDS, SPECS, LeafSpec
from knowledge.records import Product

_UNITS = {"hours": "hours", "days": "days", "minutes": "minutes", "mm": "mm", "in": "inches", "g": "g",
          "kg": "kg", "lb": "lb", "ml": "ml", "l": "litres", "watts": "W", "hz": "Hz", "f": "°F", "gsm": "gsm",
          "mbps": "MB/s", "min": "minutes", "ft": "ft", "people": "people", "cm": "cm"}

# Hand-written sentence per attribute so descriptions read like a shop page, not a spec dump.
_SENTENCES = {
    "connectivity": "It connects {v}, so {conn_note}.",
    "noise_cancelling": "{nc}",
    "battery_life_hours": "Battery life is rated at {v} hours on a single charge.",
    "case_battery_hours": "The charging case adds up to {v} hours of total listening time.",
    "battery_life_days": "A full charge lasts about {v} day(s) with typical use.",
    "battery_life_minutes": "The battery runs for up to {v} minutes per charge.",
    "colour": "It comes in {v}.",
    "water_resistance": "Water resistance: {v}.",
    "weight_g": "It weighs {v} g.",
    "weight_kg": "Packed weight is {v} kg.",
    "material": "The main material is {v}.",
    "size": "This listing is for size {v}.",
    "capacity": "Capacity is {v}.",
}
_OPENERS = (
    "The {brand} {model} is a {adj} {noun} made for {use}.",
    "Meet the {brand} {model}, a {adj} {noun} that is at home with {use}.",
    "Built for {use}, the {brand} {model} is a {adj} {noun} with no fuss.",
)
_ADJ = {"budget": ("dependable", "no-frills", "great-value"), "mid": ("well-made", "versatile", "popular"),
        "premium": ("premium", "flagship", "beautifully finished")}
_CLOSERS = (
    "Every unit is covered by the Aisle 1-year limited warranty, and orders over $50 ship free.",
    "It is backed by our 1-year warranty and can be returned within 30 days of delivery.",
    "Like everything we sell, it comes with a 1-year limited warranty and 30-day returns.",
)
_FILLERS = (
    "Reviewers single out how easy it is to live with day to day.",
    "The packaging is plastic-free and fully recyclable.",
    "Setup takes a couple of minutes and the quick-start guide is clear.",
    "It is one of the most-compared items in its category in our shop.",
)


@dataclass(frozen=True)
class ProductLatent:
    quality: float  # shifts review ratings
    popularity: float  # log-popularity used by the shopper softmax
    price_z: float  # price position inside its leaf, -1 (cheap) .. 1 (expensive)
    tier: str  # budget | mid | premium


def _tier(brand: str) -> str:
    if brand in PREMIUM_BRANDS:
        return "premium"
    if brand in BUDGET_BRANDS:
        return "budget"
    return "mid"


def _price(rng: random.Random, spec: LeafSpec, tier: str) -> tuple[float, float]:
    lo, hi = spec.price
    # Tier picks a sub-band of the log-price range, with overlap so brands are not perfectly sorted.
    band = {"budget": (0.0, 0.5), "mid": (0.2, 0.8), "premium": (0.5, 1.0)}[tier]
    u = rng.uniform(*band)
    raw = math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    price = round(raw) - 0.01 if raw >= 10 else round(raw, 1) - 0.01
    return max(price, 4.99), 2 * u - 1


def _attr_sentence(key: str, value: str, spec: LeafSpec) -> str:
    if key == "connectivity":
        note = "there is a cable to keep track of" if value == "wired" else "there are no cables in the way"
        return _SENTENCES[key].format(v="over a cable" if value == "wired" else f"over {value}", conn_note=note)
    if key == "noise_cancelling":
        return ("Active noise cancelling quietens engines, traffic and office chatter." if value == "yes"
                else "It has no active noise cancelling; passive isolation keeps the sound natural.")
    if key in _SENTENCES:
        return _SENTENCES[key].format(v=value)
    head, _, unit = key.rpartition("_")
    if head and unit in _UNITS:
        return f"{head.replace('_', ' ').capitalize()}: {value} {_UNITS[unit]}."
    label = key.replace("_", " ")
    if value in ("yes", "no"):
        return f"{label.capitalize()}: {value}."
    return f"{label.capitalize()}: {value}."


def _attributes(rng: random.Random, spec: LeafSpec) -> dict[str, str]:
    attrs = {k: rng.choice(v) for k, v in spec.attrs.items()}
    if attrs.get("connectivity") == "wired":
        attrs.pop("battery_life_hours", None)  # a wired device has no battery
    if attrs.get("type") == "fixed pair":
        attrs["weight_range_lb"] = rng.choice(("10", "15", "20", "25"))  # a fixed pair has one weight
    return dict(sorted(attrs.items()))


def _title(brand: str, model: str, spec: LeafSpec, attrs: dict[str, str]) -> str:
    words: list[str] = []
    for key, mapping in spec.title_words.items():
        word = mapping.get(attrs.get(key, ""))
        if word and word not in words:
            words.append(word)
    return " ".join([brand, model, *words, spec.noun])


def _description(rng: random.Random, brand: str, model: str, spec: LeafSpec, attrs: dict[str, str],
                 tier: str) -> str:
    use = rng.choice(spec.uses)
    parts = [rng.choice(_OPENERS).format(brand=brand, model=model, adj=rng.choice(_ADJ[tier]),
                                         noun=spec.noun.lower(), use=use)]
    parts += [_attr_sentence(k, v, spec) for k, v in attrs.items()]
    parts.append(rng.choice(_CLOSERS))
    fillers = list(_FILLERS)
    rng.shuffle(fillers)
    while len(" ".join(parts).split()) < 45:
        parts.insert(-1, fillers.pop())
    return " ".join(parts)


def make_products(rng: random.Random) -> tuple[list[Product], dict[str, ProductLatent]]:
    """Products in catalog order (P0001..), with rating left empty until reviews exist."""
    products: list[Product] = []
    latents: dict[str, ProductLatent] = {}
    n = 0
    for spec in SPECS:
        models = rng.sample(MODEL_NAMES, spec.count)
        for i in range(spec.count):
            n += 1
            pid = f"P{n:04d}"
            brand = spec.brands[i % len(spec.brands)] if i < len(spec.brands) else rng.choice(spec.brands)
            tier = _tier(brand)
            model = f"{models[i]} {rng.choice(('', '2', '3', 'Pro', 'Lite', 'Max', 'S', '300', '500', 'X'))}".strip()
            attrs = _attributes(rng, spec)
            price, price_z = _price(rng, spec, tier)
            stock = 0 if rng.random() < 0.1 else rng.randint(1, 240)
            products.append(Product(
                id=pid, title=_title(brand, model, spec, attrs), category=spec.path, brand=brand,
                price=price, currency="USD", attributes=attrs,
                description=_description(rng, brand, model, spec, attrs, tier), stock=stock,
            ))
            latents[pid] = ProductLatent(quality=rng.gauss(0.0, 0.45), popularity=rng.gauss(0.0, 0.8),
                                         price_z=price_z, tier=tier)
    # About 3% of listings arrive from suppliers without a price: shown as unknown, never invented.
    for idx in sorted(rng.sample(range(len(products)), max(1, round(0.03 * len(products))))):
        p = products[idx]
        products[idx] = Product(**{**p.to_dict(), "price": None})
    return products, latents


def spec_for(product: Product) -> LeafSpec:
    return next(s for s in SPECS if s.path == product.category)
