"""Write ``demo_queries.jsonl``: hand-written shopper queries with graded relevance judged from the catalog.

Each query below is written by hand together with what the shopper means (target leaf categories,
attribute conditions, description keywords, related categories, known items, and the structured
constraints the NLU would pass as Filters). The grades are then computed from the catalog:

  3  in a target leaf and every condition holds (and all filters hold)
  2  in a target leaf, all filters hold, at most one condition misses (needs >= 2 conditions)
  1  in a target leaf with more misses, or in a related leaf with every condition holding
  0  otherwise (any filter violated -> 0)

Known-item queries give the named product 3 and the rest of its leaf 1. ``MANUAL`` holds grades
changed after reading the judged lists by hand. Every third query (by position) is in the
validation part, used to choose the fusion weights; the rest are the test part.

Run: python -m knowledge.bench_data.make_demo_queries
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from knowledge.records import Product

HERE = Path(__file__).resolve().parent
A = dict  # attribute conditions: {"attr": "value" | ["any", "of"] | ">=N" | "<=N"}


def Q(
    query: str,
    leaves: str,
    attrs: dict[str, Any] | None = None,
    filters: dict[str, Any] | None = None,
    text: list[str] | None = None,
    related: str = "",
    brand: str | None = None,
    ids: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "query": query,
        "leaves": [x for x in leaves.split("|") if x],
        "attrs": attrs or {},
        "filters": filters or {},
        "text": text or [],
        "related": [x for x in related.split("|") if x],
        "brand": brand,
        "ids": ids or [],
    }


AUDIO = "Headphones|Earbuds"
QUERIES: list[dict[str, Any]] = [
    # ---- vague
    Q("something to listen to music on my commute", AUDIO, related="Speakers"),
    Q("I need new headphones", "Headphones", related="Earbuds"),
    Q("earbuds", "Earbuds", related="Headphones"),
    Q("a speaker for my living room", "Speakers"),
    Q("gift for a coffee lover", "Coffee Makers"),
    Q("stuff for a camping trip", "Tents|Sleeping Bags", related="Water Bottles|Backpacks"),
    Q(
        "something to keep me warm outside in winter",
        "Jackets",
        {"material": ["down", "fleece"]},
        related="Sleeping Bags",
    ),
    Q("home workout equipment", "Dumbbells|Yoga Mats"),
    Q("my back hurts after sitting all day at my desk", "Chairs", {"lumbar_support": "adjustable"}),
    Q("better lighting for my desk", "Lamps"),
    Q("something to write in", "Notebooks"),
    Q("a present for a 6 year old", "Building Sets|Board Games", {"age_range": ["4+", "6+"]}),
    Q("game for family night", "Board Games", {"type": ["family", "party"]}),
    Q("keep my drinks cold on a hike", "Water Bottles", {"insulated": "yes"}),
    Q("smoothies every morning", "Blenders"),
    Q("clean my floors without effort", "Vacuums", {"type": "robot"}),
    Q("dry my hair faster", "Hair Dryers", {"power_watts": ">=1875"}),
    Q("face cream", "Moisturizers"),
    Q("a nice smelling perfume for evenings", "Perfume"),
    Q("back up my photos", "External Drives"),
    Q("bigger screen for working from home", "Monitors"),
    Q("something to track my runs", "Smartwatches", {"gps": "yes"}),
    Q("new running shoes", "Shoes"),
    Q("bag for carrying my laptop to work", "Backpacks"),
    Q("basic tee", "T-Shirts"),
    Q("charge my phone and laptop with one plug", "Chargers", {"ports": ["2 USB-C", "2 USB-C + 1 USB-A"]}),
    Q("pan for frying eggs", "Cookware", {"material": "ceramic nonstick"}),
    Q("typing all day, want something comfortable", "Keyboards"),
    Q("mouse for my laptop", "Mice"),
    Q("sleeping outside in the mountains", "Sleeping Bags|Tents", {"temperature_rating_f": "<=15"}),
    # ---- specific attributes
    Q(
        "noise cancelling over-ear headphones",
        "Headphones",
        {"noise_cancelling": "yes", "form_factor": "over-ear"},
        related="Earbuds",
    ),
    Q("wired headphones", "Headphones", {"connectivity": "wired"}),
    Q(
        "on-ear wireless headphones",
        "Headphones",
        {"form_factor": "on-ear", "connectivity": ["wireless", "bluetooth"]},
    ),
    Q("headphones with really long battery life", "Headphones", {"battery_life_hours": ">=50"}),
    Q("headphones for long flights", "Headphones", {"noise_cancelling": "yes"}, related="Earbuds"),
    Q(
        "true wireless earbuds with noise cancelling",
        "Earbuds",
        {"noise_cancelling": "yes"},
        related="Headphones",
    ),
    Q("waterproof earbuds for running", "Earbuds", {"water_resistance": ["IPX5", "IP55", "IPX4"]}),
    Q("earbuds with a long lasting case", "Earbuds", {"case_battery_hours": ">=24"}),
    Q(
        "portable bluetooth speaker for the beach",
        "Speakers",
        {"connectivity": "bluetooth", "water_resistance": ["IP67", "IPX7"]},
    ),
    Q("smart speaker with wifi", "Speakers", {"connectivity": "wi-fi and bluetooth"}),
    Q("loud speaker for parties", "Speakers", {"output_watts": ">=60"}),
    Q("waterproof speaker", "Speakers", {"water_resistance": ["IP67", "IPX7"]}),
    Q("smartwatch with gps and long battery", "Smartwatches", {"gps": "yes", "battery_life_days": ">=14"}),
    Q("rose gold smartwatch", "Smartwatches", {"colour": "rose gold"}),
    Q("gan charger 65w", "Chargers", {"technology": "GaN", "output_watts": ">=65"}),
    Q("small usb-c charger for iphone", "Chargers", {"ports": "1 USB-C"}),
    Q("100w laptop charger", "Chargers", {"output_watts": ">=100"}),
    Q("mechanical keyboard with brown switches", "Keyboards", {"switch_type": "brown tactile"}),
    Q("clicky mechanical keyboard", "Keyboards", {"switch_type": "blue clicky"}),
    Q(
        "wireless tenkeyless keyboard",
        "Keyboards",
        {"layout": "tenkeyless", "connectivity": ["wireless", "bluetooth"]},
    ),
    Q("rgb gaming keyboard", "Keyboards", {"backlight": "RGB"}),
    Q("full size bluetooth keyboard", "Keyboards", {"layout": "full-size", "connectivity": "bluetooth"}),
    Q(
        "ergonomic wireless mouse",
        "Mice",
        {"grip": "right-handed ergonomic", "connectivity": ["wireless", "bluetooth"]},
    ),
    Q("high dpi gaming mouse", "Mice", {"dpi": [">=8000"]}),
    Q("ambidextrous mouse", "Mice", {"grip": "ambidextrous"}),
    Q("wired mouse", "Mice", {"connectivity": "wired"}),
    Q("4k monitor", "Monitors", {"resolution": "3840x2160"}),
    Q("144hz gaming monitor", "Monitors", {"refresh_rate_hz": ">=144"}),
    Q("monitor with usb-c", "Monitors", {"usb_c": "yes"}),
    Q("ultrawide 34 inch monitor", "Monitors", {"screen_size_in": "34"}),
    Q("27 inch 1440p monitor", "Monitors", {"screen_size_in": "27", "resolution": "2560x1440"}),
    Q("fast portable ssd thunderbolt", "External Drives", {"interface": "Thunderbolt 3"}),
    Q("4tb external drive", "External Drives", {"capacity": "4 TB"}),
    Q("2tb portable ssd", "External Drives", {"capacity": "2 TB"}),
    Q("espresso machine", "Coffee Makers", {"type": "espresso"}),
    Q("programmable coffee maker with a timer", "Coffee Makers", {"programmable": "yes"}),
    Q("pod coffee machine single serve", "Coffee Makers", {"type": "single-serve pod"}),
    Q("pour over coffee", "Coffee Makers", {"type": "pour-over"}),
    Q("blender with glass jar", "Blenders", {"jar_material": "glass"}),
    Q("powerful blender 1500 watts", "Blenders", {"power_watts": ">=1500"}),
    Q("small personal blender", "Blenders", {"capacity": "24 oz"}),
    Q("induction compatible frying pan", "Cookware", {"induction_compatible": "yes"}),
    Q("stainless steel skillet 12 inch", "Cookware", {"material": "stainless steel", "size": "12 in"}),
    Q("oven safe pan for searing steak", "Cookware", {"oven_safe_f": ">=500"}),
    Q("cordless stick vacuum", "Vacuums", {"type": "cordless stick"}),
    Q("vacuum with hepa filter for allergies", "Vacuums", {"filter": "HEPA"}),
    Q("robot vacuum", "Vacuums", {"type": "robot"}),
    Q("upright vacuum cleaner", "Vacuums", {"type": "upright"}),
    Q("dimmable desk lamp", "Lamps", {"dimmable": "yes"}),
    Q("desk lamp with usb charging port", "Lamps", {"usb_charging_port": "yes"}),
    Q("lamp with adjustable color temperature", "Lamps", {"colour_temperature": "2700-6500 K adjustable"}),
    Q("mesh office chair", "Chairs", {"material": "mesh"}),
    Q("leather desk chair", "Chairs", {"material": "leather"}),
    Q("office chair with 4d armrests", "Chairs", {"armrests": "4D"}),
    Q("chair for a heavy person", "Chairs", {"max_load_lb": ">=350"}),
    Q("dotted notebook for bullet journaling", "Notebooks", {"ruling": "dotted"}),
    Q("a5 lined notebook", "Notebooks", {"size": "A5", "ruling": "lined"}),
    Q("pocket notebook", "Notebooks", {"size": "pocket"}),
    Q("notebook with thick paper for fountain pens", "Notebooks", {"paper_gsm": ">=120"}),
    Q("trail running shoes", "Shoes", {"terrain": "trail"}),
    Q("wide road running shoes", "Shoes", {"terrain": "road", "width": "wide"}),
    Q("low drop running shoes", "Shoes", {"drop_mm": "<=4"}),
    Q("lightweight running shoes", "Shoes", {"weight_g": "<=230"}),
    Q("cork yoga mat", "Yoga Mats", {"material": "cork"}),
    Q("thick yoga mat", "Yoga Mats", {"thickness_mm": ">=6"}),
    Q("tpe eco yoga mat", "Yoga Mats", {"material": "TPE"}),
    Q("adjustable dumbbells", "Dumbbells", {"type": "adjustable"}),
    Q("cast iron dumbbell pair", "Dumbbells", {"material": "cast iron", "type": "fixed pair"}),
    Q("waterproof down jacket", "Jackets", {"waterproof": "yes", "material": "down"}),
    Q("fleece jacket", "Jackets", {"material": "fleece"}),
    Q("rain jacket", "Jackets", {"waterproof": "yes"}),
    Q("merino wool t-shirt", "T-Shirts", {"material": "merino wool"}),
    Q("organic cotton tee", "T-Shirts", {"material": "organic cotton"}),
    Q("oversized t shirt", "T-Shirts", {"fit": "oversized"}),
    Q("water resistant backpack", "Backpacks", {"water_resistant": "yes"}),
    Q("backpack with 16 inch laptop sleeve", "Backpacks", {"laptop_sleeve_in": ">=16"}),
    Q("big backpack for travel", "Backpacks", {"capacity_l": ">=30"}),
    Q("moisturizer with spf 50", "Moisturizers", {"spf": "50"}),
    Q(
        "fragrance free moisturizer for sensitive skin",
        "Moisturizers",
        {"fragrance_free": "yes", "skin_type": "sensitive"},
    ),
    Q("cream for dry skin", "Moisturizers", {"skin_type": "dry"}),
    Q("ionic hair dryer", "Hair Dryers", {"ionic": "yes"}),
    Q("woody perfume", "Perfume", {"scent_family": "woody"}),
    Q("floral eau de parfum", "Perfume", {"scent_family": "floral", "concentration": "eau de parfum"}),
    Q("4 person tent", "Tents", {"capacity_people": "4"}),
    Q("4 season tent for winter camping", "Tents", {"season": "4-season"}),
    Q("ultralight tent", "Tents", {"weight_kg": "<=1.1"}),
    Q("down mummy sleeping bag", "Sleeping Bags", {"fill": "down", "shape": "mummy"}),
    Q("summer sleeping bag", "Sleeping Bags", {"temperature_rating_f": ">=40"}),
    Q("insulated water bottle 24 oz", "Water Bottles", {"insulated": "yes", "capacity": "24 oz"}),
    Q("dishwasher safe bottle", "Water Bottles", {"dishwasher_safe": "yes"}),
    Q("castle building set", "Building Sets", {"theme": "castle"}),
    Q("space lego", "Building Sets", {"theme": "space"}),
    Q(
        "building set for adults with lots of pieces",
        "Building Sets",
        {"age_range": "18+", "pieces": ">=1500"},
    ),
    Q("strategy board game", "Board Games", {"type": "strategy"}),
    Q("two player game", "Board Games", {"players": "2"}),
    Q("party game for a big group", "Board Games", {"players": ["3-8", "2-6"], "type": "party"}),
    # ---- brands
    Q("sony headphones", "Headphones", brand="Sony", related="Earbuds"),
    Q("bose", "Headphones|Speakers", brand="Bose"),
    Q("apple earbuds", "Earbuds", brand="Apple"),
    Q("jbl speaker", "Speakers", brand="JBL"),
    Q("garmin watch", "Smartwatches", brand="Garmin"),
    Q("anker charger", "Chargers", brand="Anker"),
    Q("logitech keyboard", "Keyboards", brand="Logitech"),
    Q("samsung monitor", "Monitors", brand="Samsung"),
    Q("dyson", "Vacuums|Hair Dryers", brand="Dyson"),
    Q("breville coffee", "Coffee Makers", brand="Breville"),
    Q("ninja blender", "Blenders", brand="Ninja"),
    Q("herman miller chair", "Chairs", brand="Herman Miller"),
    Q("moleskine notebook", "Notebooks", brand="Moleskine"),
    Q("hoka running shoes", "Shoes", brand="Hoka"),
    Q("patagonia", "Jackets|T-Shirts", brand="Patagonia"),
    Q("lego", "Building Sets", brand="LEGO"),
    Q("cerave moisturizer", "Moisturizers", brand="CeraVe"),
    Q("yeti bottle", "Water Bottles", brand="YETI"),
    Q("herschel backpack", "Backpacks", brand="Herschel"),
    Q("le creuset pan", "Cookware", brand="Le Creuset"),
    # ---- constraints (passed as Filters, as the engine does after NLU)
    Q("headphones under $50", "Headphones", filters={"price_max": 50}, related="Earbuds"),
    Q("cheap earbuds under 30 dollars", "Earbuds", filters={"price_max": 30}),
    Q(
        "noise cancelling headphones under $100",
        "Headphones",
        {"noise_cancelling": "yes"},
        {"price_max": 100},
    ),
    Q("bluetooth speaker under $75", "Speakers", filters={"price_max": 75}),
    Q("smartwatch under $200", "Smartwatches", filters={"price_max": 200}),
    Q("running shoes under 100 that are in stock", "Shoes", filters={"price_max": 100, "in_stock": True}),
    Q("coffee maker under $100", "Coffee Makers", filters={"price_max": 100}),
    Q("blender between 80 and 150 dollars", "Blenders", filters={"price_min": 80, "price_max": 150}),
    Q("office chair under 300", "Chairs", filters={"price_max": 300}),
    Q("monitor under $400 with good reviews", "Monitors", filters={"price_max": 400, "min_rating": 4.0}),
    Q(
        "highly rated mechanical keyboard",
        "Keyboards",
        {"switch_type": ["brown tactile", "blue clicky", "red linear"]},
        {"min_rating": 4.5},
    ),
    Q("wireless mouse under $30", "Mice", {"connectivity": ["wireless", "bluetooth"]}, {"price_max": 30}),
    Q("yoga mat in stock", "Yoga Mats", filters={"in_stock": True}),
    Q("tent under $150 rated 4 stars or more", "Tents", filters={"price_max": 150, "min_rating": 4.0}),
    Q(
        "jacket under $150 but not patagonia",
        "Jackets",
        filters={"price_max": 150, "exclude_brands": ["Patagonia"]},
    ),
    Q("earbuds not apple", "Earbuds", filters={"exclude_brands": ["Apple"]}),
    Q("robot vacuum under 300", "Vacuums", {"type": "robot"}, {"price_max": 300}),
    Q("t-shirt under $20", "T-Shirts", filters={"price_max": 20}),
    Q("moisturizer under 20 dollars", "Moisturizers", filters={"price_max": 20}),
    Q("board game under $30 for 2 players", "Board Games", {"players": "2"}, {"price_max": 30}),
    Q("gan charger under 25", "Chargers", {"technology": "GaN"}, {"price_max": 25}),
    Q("portable ssd in stock under $130", "External Drives", filters={"price_max": 130, "in_stock": True}),
    Q("desk lamp under $40", "Lamps", filters={"price_max": 40}),
    Q("backpack under $100", "Backpacks", filters={"price_max": 100}),
    Q("perfume over $80", "Perfume", filters={"price_min": 80}),
    # ---- misspelled
    Q("wireles hedphones", "Headphones", {"connectivity": ["wireless", "bluetooth"]}, related="Earbuds"),
    Q("noise canceling earbuds", "Earbuds", {"noise_cancelling": "yes"}, related="Headphones"),
    Q("expresso machine", "Coffee Makers", {"type": "espresso"}),
    Q("robot vacum", "Vacuums", {"type": "robot"}),
    Q("mechanicl keyboard", "Keyboards", {"switch_type": ["brown tactile", "blue clicky", "red linear"]}),
    Q("moisturiser for sensitve skin", "Moisturizers", {"skin_type": "sensitive"}),
    Q("blendr", "Blenders"),
    Q("sleping bag", "Sleeping Bags"),
    Q("excercise mat", "Yoga Mats"),
    Q("trail runing shoes", "Shoes", {"terrain": "trail"}),
    Q("bluetooh speeker", "Speakers", {"connectivity": "bluetooth"}),
    Q("smart watch", "Smartwatches"),
    Q("labtop backpack", "Backpacks"),
    Q("ergonomic chiar", "Chairs"),
    Q("dumbells", "Dumbbells"),
    Q("hairdryer", "Hair Dryers"),
    Q("parfum", "Perfume"),
    Q("lego sets for kids", "Building Sets", {"age_range": ["4+", "6+"]}),
    Q("boardgame for 2", "Board Games", {"players": "2"}),
    Q("extrnal hard drive", "External Drives"),
    # ---- known items
    Q("Sony Crest S headphones", "Headphones", ids=["P0001"]),
    Q("bose quill 500", "Headphones", ids=["P0016"]),
    Q("Herman Miller Zephyr", "Chairs", ids=["P0133"]),
    Q("vitamix aura pro", "Blenders", ids=["P0101"]),
    Q("marshall tempo speaker", "Speakers", ids=["P0033"]),
    Q("keychron halo pro", "Keyboards", ids=["P0064"]),
    Q("garmin summit 2", "Smartwatches", ids=["P0041"]),
    Q("hoka scout 2 road shoes", "Shoes", ids=["P0152"]),
    Q("Dyson Crest 300 hair dryer", "Hair Dryers", ids=["P0207"]),
    Q("roborock breeze 500", "Vacuums", ids=["P0122"]),
    # ---- uses / description words
    Q("headphones for the gym", "Headphones", text=["gym"], related="Earbuds"),
    Q("keyboard for competitive gaming", "Keyboards|Mice", text=["gaming"]),
    Q("mat for hot yoga", "Yoga Mats", text=["hot yoga"]),
    Q("shoes for daily training runs", "Shoes", text=["training runs"]),
    Q("pan for everyday eggs and stir fries", "Cookware", text=["eggs"]),
]

# Grades changed after reading the judged lists by hand (query index -> {product id: grade}).
MANUAL: dict[int, dict[str, int]] = {}


def _leaf(p: Product) -> str:
    return p.category.split(">")[-1].strip()


def _attr_ok(p: Product, key: str, want: Any) -> bool:
    have = p.attributes.get(key)
    if have is None:
        return False
    for w in want if isinstance(want, list) else [want]:
        w = str(w)
        if w.startswith((">=", "<=")):
            try:
                x, t = float(have.split()[0]), float(w[2:])
            except ValueError:
                continue
            if (x >= t) if w.startswith(">=") else (x <= t):
                return True
        elif have.lower() == w.lower():
            return True
    return False


def filters_ok(p: Product, f: dict[str, Any]) -> bool:
    if "price_max" in f and (p.price is None or p.price > f["price_max"]):
        return False
    if "price_min" in f and (p.price is None or p.price < f["price_min"]):
        return False
    if "min_rating" in f and (p.rating is None or p.rating < f["min_rating"]):
        return False
    if f.get("in_stock") and not (p.stock or 0) > 0:
        return False
    return not (p.brand and p.brand in f.get("exclude_brands", []))


def grade(p: Product, q: dict[str, Any]) -> int:
    if not filters_ok(p, q["filters"]):
        return 0
    leaf = _leaf(p)
    in_leaf, in_related = leaf in q["leaves"], leaf in q["related"]
    if q["ids"]:
        return 3 if p.id in q["ids"] else int(in_leaf)
    checks = [_attr_ok(p, k, v) for k, v in q["attrs"].items()]
    checks += [t.lower() in (p.description + " " + p.title).lower() for t in q["text"]]
    if q["brand"]:
        checks.append((p.brand or "").lower() == q["brand"].lower())
    misses = checks.count(False)
    if in_leaf:
        if misses == 0:
            return 3
        return 2 if misses == 1 and len(checks) >= 2 else 1
    return 1 if in_related and misses == 0 else 0


def judge(products: list[Product]) -> list[dict[str, Any]]:
    out = []
    for n, q in enumerate(QUERIES):
        rel = {p.id: g for p in products if (g := grade(p, q))}
        rel.update(MANUAL.get(n, {}))
        rel = {k: v for k, v in rel.items() if v}
        out.append(
            {
                "qid": f"q{n:03d}",
                "split": "valid" if n % 3 == 0 else "test",
                "query": q["query"],
                "filters": q["filters"],
                "relevance": rel,
            }
        )
    return out


def main() -> None:
    from knowledge.demo import load_demo

    rows = judge(load_demo().products)
    empty = [r["qid"] for r in rows if not any(v == 3 for v in r["relevance"].values())]
    if empty:
        raise SystemExit(f"queries without a fully relevant product: {empty}")
    with (HERE / "demo_queries.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, sort_keys=True) + "\n")
    print(f"wrote {len(rows)} queries ({sum(r['split'] == 'valid' for r in rows)} valid)")


if __name__ == "__main__":
    main()
