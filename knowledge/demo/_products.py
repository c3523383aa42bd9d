"""Products of the demo shop, with the latent factors the shopper simulation draws on."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from knowledge.demo._catalog_specs import BUDGET_BRANDS, MODEL_NAMES, PREMIUM_BRANDS, SPECS, LeafSpec
from knowledge.records import Product

_UNITS = {
    "hours": "hours",
    "days": "days",
    "minutes": "minutes",
    "mm": "mm",
    "in": "inches",
    "g": "g",
    "kg": "kg",
    "lb": "lb",
    "ml": "ml",
    "l": "litres",
    "watts": "W",
    "hz": "Hz",
    "f": "°F",
    "gsm": "gsm",
    "mbps": "MB/s",
    "min": "minutes",
    "ft": "ft",
    "people": "people",
    "cm": "cm",
}

# Hand-written sentence per attribute so descriptions read like a shop page, not a spec dump.
_SENTENCES = {
    "connectivity": "It connects {v}, so {conn_note}.",
    "battery_life_hours": "Battery life is rated at {v} hours on a single charge.",
    "case_battery_hours": "The charging case brings the total to {v} hours of listening.",
    "battery_life_days": "A full charge lasts about {v} days with typical use.",
    "battery_life_minutes": "The battery runs for up to {v} minutes per charge.",
    "colour": "It comes in {v}.",
    "water_resistance": "It is rated {v} for water resistance.",
    "weight_g": "It weighs {v} g.",
    "weight_kg": "Packed weight is {v} kg.",
    "material": "It is made from {v}.",
    "size": "This listing is for size {v}.",
    "capacity": "Capacity is {v}.",
    "capacity_l": "It holds {v} litres.",
    "capacity_people": "It sleeps {v} people.",
    "age_range": "Recommended for ages {v}.",
    "armrests": "The armrests are {v} adjustable.",
    "backlight": "Backlighting: {v}.",
    "bin_capacity_l": "The dust bin holds {v} litres.",
    "buttons": "It has {v} programmable buttons.",
    "case_size_mm": "The case measures {v} mm.",
    "colour_temperature": "Colour temperature is {v}.",
    "concentration": "This is an {v}.",
    "cord_length_ft": "The cord is {v} ft long.",
    "cover": "It has a {v} cover.",
    "display": "The display is {v}.",
    "dpi": "The sensor goes up to {v} DPI.",
    "drop_mm": "Heel-to-toe drop is {v} mm.",
    "fill": "It is filled with {v} insulation.",
    "filter": "It uses a {v} filter.",
    "fit": "The cut is a {v} fit.",
    "form_factor": "The design is {v}.",
    "grip": "The shape is {v}.",
    "heat_settings": "There are {v} heat settings.",
    "interface": "It connects over {v}.",
    "jar_material": "The jar is {v}.",
    "laptop_sleeve_in": "Laptop sleeve: {v} inch.",
    "layout": "The layout is {v}.",
    "length_cm": "It is {v} cm long.",
    "lumbar_support": "Lumbar support is {v}.",
    "max_load_lb": "It supports up to {v} lb.",
    "oven_safe_f": "It is oven safe to {v} °F.",
    "pages": "It has {v} pages.",
    "panel": "It uses an {v} panel.",
    "paper_gsm": "The paper is {v} gsm.",
    "pieces": "The set has {v} pieces.",
    "play_time_min": "A game takes about {v} minutes.",
    "players": "It is for {v} players.",
    "ports": "Ports: {v}.",
    "power": "It is powered by {v}.",
    "power_watts": "It runs at {v} W.",
    "output_watts": "Output is {v} W.",
    "read_speed_mbps": "Read speeds reach {v} MB/s.",
    "refresh_rate_hz": "The refresh rate is {v} Hz.",
    "resolution": "Resolution is {v}.",
    "ruling": "The pages are {v}.",
    "scent_family": "The scent is {v}.",
    "screen_size_in": "The screen is {v} inches.",
    "season": "It is a {v} design.",
    "shape": "It has a {v} shape.",
    "size_ml": "The bottle holds {v} ml.",
    "skin_type": "It is formulated for {v} skin.",
    "spf": "SPF: {v}.",
    "switch_type": "It uses {v} switches.",
    "technology": "It uses {v} charging technology.",
    "temperature_rating_f": "It is rated to {v} °F.",
    "terrain": "It is built for {v} running.",
    "theme": "The theme is {v}.",
    "thickness_mm": "It is {v} mm thick.",
    "type": "Type: {v}.",
    "waterproof_rating_mm": "The fly has a {v} mm waterproof rating.",
    "weight_range_lb": "Weight: {v} lb.",
    "width": "It comes in a {v} width.",
}
# Yes/no attributes read as a sentence each way.
_FLAGS = {
    "noise_cancelling": (
        "Active noise cancelling quietens engines, traffic and office chatter.",
        "It has no active noise cancelling; passive isolation keeps the sound natural.",
    ),
    "gps": ("Built-in GPS tracks runs without a phone.", "There is no built-in GPS; it uses your phone's."),
    "usb_c": ("A single USB-C cable carries video, data and charging.", "It has no USB-C input."),
    "fragrance_free": ("It is fragrance-free.", "It has a light fragrance."),
    "dimmable": ("It is dimmable.", "It is not dimmable."),
    "usb_charging_port": (
        "A USB charging port in the base tops up your phone.",
        "It has no USB charging port.",
    ),
    "insulated": (
        "Double-wall vacuum insulation keeps drinks cold or hot for hours.",
        "It is not insulated.",
    ),
    "dishwasher_safe": ("It is dishwasher safe.", "Hand wash only; it is not dishwasher safe."),
    "waterproof": (
        "It is fully waterproof with taped seams.",
        "It is not waterproof, so pair it with a shell.",
    ),
    "water_resistant": ("The fabric is water-resistant.", "It is not water-resistant."),
    "programmable": (
        "A programmable timer can start it before you wake up.",
        "It has no programmable timer.",
    ),
    "induction_compatible": ("It works on induction hobs.", "It is not induction compatible."),
    "ionic": ("Ionic technology cuts frizz.", "It has no ionic mode."),
}
_OPENERS = (
    "The {brand} {model} is a {adj} {noun} made for {use}.",
    "Meet the {brand} {model}, a {adj} {noun} that is at home with {use}.",
    "Built for {use}, the {brand} {model} is a {adj} {noun} with no fuss.",
)
_ADJ = {
    "budget": ("dependable", "no-frills", "great-value"),
    "mid": ("well-made", "versatile", "popular"),
    "premium": ("premium", "flagship", "beautifully finished"),
}
_CLOSERS = (
    "Every unit is covered by the Aisle 1-year limited warranty, and orders over $50 ship free.",
    "It is backed by our 1-year warranty and can be returned within 30 days of delivery.",
    "Like everything we sell, it comes with a 1-year limited warranty and 30-day returns.",
)
_FILLERS = (
    "Reviewers single out how easy it is to live with day to day.",
    "The packaging is plastic-free and fully recyclable.",
    "Compare it with similar items using the attributes above.",
    "It is one of the most-compared items in its category in our shop.",
)


@dataclass(frozen=True)
class ProductLatent:
    quality: float  # shifts review ratings
    popularity: float  # log-popularity used by the shopper softmax
    price_z: float  # price position inside its leaf, -1 (cheap) .. 1 (expensive)
    tier: str  # budget | mid | premium


def _quality(rng: random.Random) -> float:
    # A few lemons per catalog give the strongly negative reviews something to be about.
    return -1.6 if rng.random() < 0.05 else rng.gauss(0.0, 0.4)


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


def _attr_sentence(key: str, value: str) -> str:
    if key == "connectivity":
        how = {
            "wired": "with a cable",
            "wireless": "wirelessly",
            "bluetooth": "over Bluetooth",
            "wi-fi and bluetooth": "over Wi-Fi and Bluetooth",
        }.get(value, f"over {value}")
        note = "there is a cable to keep track of" if value == "wired" else "there are no cables in the way"
        return _SENTENCES[key].format(v=how, conn_note=note)
    if key in _FLAGS and value in ("yes", "no"):
        return _FLAGS[key][0 if value == "yes" else 1]
    if key in _SENTENCES:
        return _SENTENCES[key].format(v=value)
    head, _, unit = key.rpartition("_")
    if head and unit in _UNITS:
        return f"{head.replace('_', ' ').capitalize()}: {value} {_UNITS[unit]}."
    return f"{key.replace('_', ' ').capitalize()}: {value}."


def _attributes(rng: random.Random, spec: LeafSpec) -> dict[str, str]:
    attrs = {k: rng.choice(v) for k, v in spec.attrs.items()}
    if attrs.get("connectivity") == "wired":
        attrs.pop("battery_life_hours", None)  # a wired device has no battery
    if attrs.get("type") == "fixed pair":
        attrs["weight_range_lb"] = rng.choice(("10", "15", "20", "25"))  # a fixed pair has one weight
    # Attributes drawn independently can contradict each other; these rules keep listings believable.
    if attrs.get("type") == "upright":
        attrs.pop("battery_life_minutes", None)  # uprights are corded
    if attrs.get("type") == "robot":
        attrs["battery_life_minutes"] = "180"
    if spec.noun == "Coffee Maker":
        attrs["capacity"] = {
            "drip": "12 cups",
            "espresso": "2 cups",
            "single-serve pod": "1 cup",
            "pour-over": "5 cups",
        }[attrs["type"]]
    if attrs.get("type") == "party":
        attrs["players"], attrs["play_time_min"] = "3-8", "20"
    if "capacity_people" in attrs:
        attrs["weight_kg"] = {"1": "1.1", "2": "1.8", "4": "3.2", "6": "6.5"}[attrs["capacity_people"]]
    if attrs.get("insulated") == "yes":
        attrs["material"] = "stainless steel"
    return dict(sorted(attrs.items()))


def _title(brand: str, model: str, spec: LeafSpec, attrs: dict[str, str]) -> str:
    words: list[str] = []
    for key, mapping in spec.title_words.items():
        word = mapping.get(attrs.get(key, ""))
        if word and word not in words:
            words.append(word)
    return " ".join([brand, model, *words, spec.noun])


def _description(
    rng: random.Random, brand: str, model: str, spec: LeafSpec, attrs: dict[str, str], tier: str
) -> str:
    use = rng.choice(spec.uses)
    noun = f"pair of {spec.noun.lower()}" if spec.plural else spec.noun.lower()
    parts = [
        rng.choice(_OPENERS).format(brand=brand, model=model, adj=rng.choice(_ADJ[tier]), noun=noun, use=use)
    ]
    parts += [_attr_sentence(k, v) for k, v in attrs.items()]
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
            suffix = rng.choice(("", "2", "3", "Pro", "Lite", "Max", "S", "300", "500", "X"))
            model = f"{models[i]} {suffix}".strip()
            attrs = _attributes(rng, spec)
            price, price_z = _price(rng, spec, tier)
            stock = 0 if rng.random() < 0.1 else rng.randint(1, 240)
            products.append(
                Product(
                    id=pid,
                    title=_title(brand, model, spec, attrs),
                    category=spec.path,
                    brand=brand,
                    price=price,
                    currency="USD",
                    attributes=attrs,
                    description=_description(rng, brand, model, spec, attrs, tier),
                    stock=stock,
                )
            )
            latents[pid] = ProductLatent(
                quality=_quality(rng), popularity=rng.gauss(0.0, 0.8), price_z=price_z, tier=tier
            )
    # About 3% of listings arrive from suppliers without a price: shown as unknown, never invented.
    for idx in sorted(rng.sample(range(len(products)), max(1, round(0.03 * len(products))))):
        p = products[idx]
        products[idx] = Product(**{**p.to_dict(), "price": None})
    return products, latents


def spec_for(product: Product) -> LeafSpec:
    return next(s for s in SPECS if s.path == product.category)
