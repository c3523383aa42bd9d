"""Orders for recent purchases, with carriers, tracking numbers and tracking events.

The order system keeps the last ORDER_WINDOW_DAYS of orders (older ones are archived), which keeps
the committed file small while every order still matches a purchase in interactions.jsonl.
"""

from __future__ import annotations

import random
import string
from datetime import datetime, timedelta
from typing import Any

from knowledge.demo._shoppers import END, iso
from knowledge.records import Product

ORDER_WINDOW_DAYS = 110
WAREHOUSES = ("Reno, NV", "Columbus, OH", "Allentown, PA")
HUBS = {
    "UPS": ("Louisville, KY", "Dallas, TX", "Chicago, IL"),
    "FedEx": ("Memphis, TN", "Indianapolis, IN"),
    "USPS": ("Denver, CO", "Atlanta, GA", "Kansas City, MO"),
    "DHL": ("Cincinnati, OH", "Los Angeles, CA"),
}
CITIES = (
    "Austin, TX",
    "Seattle, WA",
    "Portland, OR",
    "Denver, CO",
    "Chicago, IL",
    "Boston, MA",
    "Brooklyn, NY",
    "Atlanta, GA",
    "Miami, FL",
    "Phoenix, AZ",
    "San Diego, CA",
    "Minneapolis, MN",
    "Nashville, TN",
    "Raleigh, NC",
    "Salt Lake City, UT",
    "Pittsburgh, PA",
    "Madison, WI",
    "Sacramento, CA",
    "Columbus, OH",
    "Baltimore, MD",
)


def _tracking_number(rng: random.Random, carrier: str) -> str:
    if carrier == "UPS":
        return "1Z" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    if carrier == "USPS":
        return "9400" + "".join(rng.choice(string.digits) for _ in range(18))
    if carrier == "FedEx":
        return "".join(rng.choice(string.digits) for _ in range(12))
    return "".join(rng.choice(string.digits) for _ in range(10))


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _track(
    rng: random.Random, placed: datetime, carrier: str, city: str, outcome: str
) -> tuple[str, list[dict[str, Any]]]:
    """(status, tracking events) for an order placed at `placed` as seen at END."""
    wh = rng.choice(WAREHOUSES)
    steps = [(placed, "Order placed", "Online")]
    if outcome == "cancelled":
        steps.append((placed + timedelta(minutes=rng.randint(5, 600)), "Cancelled", "Online"))
        return "cancelled", _fmt(steps)
    label = placed + timedelta(hours=rng.uniform(2, 20))
    pickup = label + timedelta(hours=rng.uniform(3, 18))
    hub = pickup + timedelta(hours=rng.uniform(10, 40))
    out = hub + timedelta(hours=rng.uniform(12, 72))
    delivered = out + timedelta(hours=rng.uniform(2, 9))
    plan = [
        (label, "Label created", wh),
        (pickup, "Picked up", wh),
        (hub, "In transit", rng.choice(HUBS[carrier])),
        (out, "Out for delivery", city),
        (delivered, "Delivered", city),
    ]
    steps += [s for s in plan if s[0] <= END]
    if delivered > END:
        return ("shipped" if pickup <= END else "processing"), _fmt(steps)
    if outcome == "returned":
        started = delivered + timedelta(days=rng.randint(2, 20), hours=rng.uniform(0, 10))
        received = started + timedelta(days=rng.randint(3, 7))
        if received <= END:
            steps += [(started, "Return started", city), (received, "Return received", wh)]
            return "returned", _fmt(steps)
    return "delivered", _fmt(steps)


def _fmt(steps: list[tuple[datetime, str, str]]) -> list[dict[str, Any]]:
    return [{"ts": iso(t), "status": s, "location": loc} for t, s, loc in steps]


def make_orders(
    rng: random.Random,
    interactions: list[dict[str, Any]],
    customers: list[dict[str, Any]],
    products: dict[str, Product],
) -> list[dict[str, Any]]:
    """One order per purchase event in the window, in time order, ids ORD-<6 digits> increasing."""
    emails = {c["id"]: c["email"] for c in customers}
    cities = {c["id"]: rng.choice(CITIES) for c in customers}
    ratings = {(e["customer_id"], e["product_id"]): e["rating"] for e in interactions if e["event"] == "rate"}
    start = END - timedelta(days=ORDER_WINDOW_DAYS)
    orders, number = [], 104_000 + rng.randint(0, 300)
    for e in interactions:
        placed = _parse(e["ts"])
        if e["event"] != "purchase" or placed < start:
            continue
        p = products[e["product_id"]]
        assert p.price is not None  # the simulation never sells unpriced products
        rating = ratings.get((e["customer_id"], p.id))
        # Sales happen: the price paid is sometimes below today's list price.
        price = round(p.price * rng.choice((0.8, 0.85, 0.9)), 2) if rng.random() < 0.15 else p.price
        qty = 2 if p.price < 30 and rng.random() < 0.2 else 1
        if rating is None and rng.random() < 0.1:
            outcome = "cancelled"
        elif (rating is not None and rating <= 2 and rng.random() < 0.6) or rng.random() < 0.03:
            outcome = "returned"
        else:
            outcome = "delivered"
        carrier = rng.choice(tuple(HUBS))
        status, tracking = _track(rng, placed, carrier, cities[e["customer_id"]], outcome)
        number += rng.randint(1, 29)
        cancelled = status == "cancelled"
        orders.append(
            {
                "id": f"ORD-{number:06d}",
                "customer_id": e["customer_id"],
                "email": emails[e["customer_id"]],
                "status": status,
                "created_at": e["ts"],
                "items": [{"product_id": p.id, "qty": qty, "price": price}],
                "total": round(qty * price, 2),
                "currency": "USD",
                "carrier": None if cancelled else carrier,
                "tracking_number": None if cancelled else _tracking_number(rng, carrier),
                "tracking": tracking,
            }
        )
    return orders
