"""Customers and their interaction histories, simulated from latent tastes.

Each customer has a preference over top-level categories, a couple of favourite brands and a price
level; each product has popularity, quality and a price position. Sessions pick products from a
softmax of affinity, so purchases concentrate where tastes are: the collaborative signal the
recommender learns from.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from knowledge.demo._products import ProductLatent
from knowledge.records import Product

START = datetime(2025, 5, 1, tzinfo=UTC)
END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)  # "now" for the demo shop

FIRST = (
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "James",
    "Isabella",
    "Lucas",
    "Mia",
    "Mateo",
    "Amelia",
    "Benjamin",
    "Harper",
    "Henry",
    "Evelyn",
    "Theo",
    "Abigail",
    "Jack",
    "Emily",
    "Samuel",
    "Ella",
    "Daniel",
    "Grace",
    "Owen",
    "Chloe",
    "Leo",
    "Priya",
    "Arjun",
    "Mei",
    "Wei",
    "Sofia",
    "Diego",
    "Fatima",
    "Omar",
    "Aisha",
    "Yusuf",
    "Hana",
    "Kenji",
    "Nora",
    "Ethan",
    "Zoe",
    "Caleb",
    "Lily",
    "Ruby",
    "Isaac",
    "Maya",
    "Gabriel",
    "Layla",
    "Julian",
    "Aria",
    "Felix",
    "Ivy",
    "Hugo",
    "Clara",
    "Ravi",
    "Anika",
    "Tomas",
    "Elena",
    "Marcus",
    "Naomi",
    "Kofi",
    "Amara",
    "Sven",
    "Ingrid",
    "Luca",
    "Giulia",
)
LAST = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Patel",
    "Shah",
    "Kim",
    "Chen",
    "Wang",
    "Singh",
    "Okafor",
    "Mensah",
    "Rossi",
    "Novak",
    "Larsen",
    "Fischer",
    "Murphy",
    "O'Brien",
    "Kowalski",
    "Haddad",
    "Tanaka",
    "Sato",
    "Silva",
)


@dataclass(frozen=True)
class Taste:
    top_weights: dict[str, float]  # top-level category -> affinity bonus
    brands: tuple[str, ...]  # favourite brands
    price_level: float  # -1 cheap .. 1 expensive
    activity: int  # number of shopping sessions


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_customers(
    rng: random.Random, n: int, products: list[Product]
) -> tuple[list[dict[str, Any]], dict[str, Taste]]:
    tops = sorted({p.top_category for p in products})
    brands_by_top: dict[str, list[str]] = {}
    for p in products:
        brands_by_top.setdefault(p.top_category, [])
        if p.brand and p.brand not in brands_by_top[p.top_category]:
            brands_by_top[p.top_category].append(p.brand)
    customers, tastes, emails = [], {}, set()
    for i in range(1, n + 1):
        cid = f"C{i:04d}"
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{first}.{last}".lower().replace("'", "")
        email, k = f"{local}@example.com", 2
        while email in emails:
            email, k = f"{local}{k}@example.com", k + 1
        emails.add(email)
        created = START - timedelta(days=330) + timedelta(seconds=rng.randint(0, 3600 * 24 * 820))
        favs = rng.sample(tops, 3)
        top_weights = {favs[0]: 2.6, favs[1]: 1.6, favs[2]: 0.8}
        fav_brands = tuple(rng.choice(brands_by_top[t]) for t in favs[:2])
        price_level = max(-1.0, min(1.0, rng.gauss(0.0, 0.55)))
        activity = max(2, min(40, round(math.exp(rng.gauss(2.0, 0.55)))))
        recent = created > END - timedelta(days=90)
        segment = (
            "new"
            if recent
            else ("premium" if price_level > 0.4 else "value" if price_level < -0.4 else "mainstream")
        )
        customers.append(
            {
                "id": cid,
                "name": f"{first} {last}",
                "email": email,
                "created_at": iso(created),
                "segment": segment,
            }
        )
        tastes[cid] = Taste(top_weights, fav_brands, price_level, activity)
    return customers, tastes


def affinity(taste: Taste, product: Product, lat: ProductLatent) -> float:
    a = taste.top_weights.get(product.top_category, 0.0)
    a += 1.2 if product.brand in taste.brands else 0.0
    a -= 1.1 * abs(taste.price_level - lat.price_z)
    return a + 0.6 * lat.popularity


def rating_for(rng: random.Random, taste: Taste, product: Product, lat: ProductLatent) -> int:
    # Satisfaction -> stars with uneven cut-offs: real review counts are J-shaped (many 5s, a tail of 1s).
    s = 0.3 + lat.quality + 0.25 * (taste.top_weights.get(product.top_category, 0.0) - 1.0)
    s -= 0.4 * abs(taste.price_level - lat.price_z) - 0.2
    s += rng.gauss(0.0, 0.9)
    return 5 if s > 0.3 else 4 if s > -0.5 else 3 if s > -1.1 else 2 if s > -1.5 else 1


def _session(
    rng: random.Random,
    cid: str,
    taste: Taste,
    t0: datetime,
    products: list[Product],
    weights: list[float],
    latents: dict[str, ProductLatent],
    by_leaf: dict[str, list[int]],
) -> list[dict[str, Any]]:
    anchor = rng.choices(range(len(products)), weights=weights)[0]
    siblings = by_leaf[products[anchor].category]
    viewed = [anchor]
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        j = rng.choices(siblings, weights=[weights[s] for s in siblings])[0]
        if j not in viewed:
            viewed.append(j)
    t, events = t0, []
    for j in viewed:
        events.append(_event(cid, products[j].id, "view", t))
        t += timedelta(seconds=rng.randint(20, 400))
    choice = max(viewed, key=lambda j: weights[j] * rng.random())
    product = products[choice]
    if product.price is None or rng.random() > 0.5:
        return events
    events.append(_event(cid, product.id, "cart", t))
    t += timedelta(seconds=rng.randint(30, 1800))
    if rng.random() > 0.72:
        return events
    events += purchase_and_rate(rng, cid, taste, product, latents[product.id], t)
    return events


def purchase_and_rate(
    rng: random.Random, cid: str, taste: Taste, product: Product, lat: ProductLatent, t: datetime
) -> list[dict[str, Any]]:
    events = [_event(cid, product.id, "purchase", t)]
    rated_at = t + timedelta(days=rng.randint(4, 24), seconds=rng.randint(0, 80000))
    if rng.random() < 0.85 and rated_at < END:
        events.append(
            {**_event(cid, product.id, "rate", rated_at), "rating": rating_for(rng, taste, product, lat)}
        )
    return events


def _parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _event(cid: str, pid: str, kind: str, ts: datetime) -> dict[str, Any]:
    return {"customer_id": cid, "product_id": pid, "event": kind, "rating": None, "ts": iso(ts)}


def make_interactions(
    rng: random.Random,
    customers: list[dict[str, Any]],
    tastes: dict[str, Taste],
    products: list[Product],
    latents: dict[str, ProductLatent],
) -> list[dict[str, Any]]:
    by_leaf: dict[str, list[int]] = {}
    for j, p in enumerate(products):
        by_leaf.setdefault(p.category, []).append(j)
    events: list[dict[str, Any]] = []
    for c in customers:
        taste = tastes[c["id"]]
        weights = [math.exp(affinity(taste, p, latents[p.id])) for p in products]
        first = max(START, _parse(c["created_at"]))
        span = int((END - first).total_seconds()) - 3600
        starts = sorted(first + timedelta(seconds=rng.randint(0, span)) for _ in range(taste.activity))
        for t0 in starts:
            events += _session(rng, c["id"], taste, t0, products, weights, latents, by_leaf)
    return events


def top_up_reviews(
    rng: random.Random,
    events: list[dict[str, Any]],
    customers: list[dict[str, Any]],
    tastes: dict[str, Taste],
    products: list[Product],
    latents: dict[str, ProductLatent],
    minimum: int = 2,
) -> list[dict[str, Any]]:
    """Give every priced product at least `minimum` ratings, bought by the customers who like it most."""
    rated: dict[str, int] = {}
    for e in events:
        if e["event"] == "rate":
            rated[e["product_id"]] = rated.get(e["product_id"], 0) + 1
    extra: list[dict[str, Any]] = []
    for p in products:
        need = minimum - rated.get(p.id, 0)
        if p.price is None or need <= 0:
            continue
        fans = sorted(customers, key=lambda c: -affinity(tastes[c["id"]], p, latents[p.id]))[: 4 * minimum]
        for c in rng.sample(fans, need):
            first = max(START, _parse(c["created_at"])) + timedelta(days=1)
            t = first + timedelta(seconds=rng.randint(0, int((END - first).total_seconds()) - 40 * 86400))
            taste = tastes[c["id"]]
            extra += [
                _event(c["id"], p.id, "view", t),
                _event(c["id"], p.id, "cart", t + timedelta(minutes=3)),
            ]
            bought = purchase_and_rate(rng, c["id"], taste, p, latents[p.id], t + timedelta(minutes=9))
            if len(bought) == 1:  # the shopper must rate it: add the rating a week later
                bought.append(
                    {
                        **_event(c["id"], p.id, "rate", t + timedelta(days=7)),
                        "rating": rating_for(rng, taste, p, latents[p.id]),
                    }
                )
            extra += bought
    return events + extra
