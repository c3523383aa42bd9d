"""A tiny synthetic catalog with known answers, for fast tests of loaders, indexes and retrieval."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from knowledge.catalog import Catalog
from knowledge.records import Policy, Product, Review

_LEAVES = {
    "Electronics > Audio > Headphones": ("headphones", ("Sony", "Bose", "Anker"), (20, 350)),
    "Electronics > Audio > Speakers": ("speaker", ("Sony", "JBL", "Anker"), (25, 300)),
    "Home > Kitchen > Coffee Makers": ("coffee maker", ("Breville", "Kitchara", "Philips"), (30, 400)),
    "Home > Cleaning > Vacuums": ("vacuum", ("Dyson", "Philips", "Kitchara"), (60, 600)),
    "Sports > Running > Shoes": ("running shoes", ("Hoka", "Brooks", "TrekLine"), (50, 200)),
    "Office > Supplies > Notebooks": ("notebook", ("Moleskine", "Basics Co."), (3, 30)),
}
_ADJ = ("wireless", "compact", "quiet", "premium", "lightweight", "classic", "pro", "travel")
_COLOURS = ("black", "white", "red", "navy blue")
_REVIEW_LINES = {
    "positive": (
        "It is very quiet and the sound is great.",
        "Battery lasts all day, really happy.",
        "Sturdy and well made, worth the price.",
        "Comfortable to wear for hours.",
    ),
    "negative": (
        "Way too loud, the noise is annoying.",
        "Battery died after a week.",
        "Flimsy plastic, it broke quickly.",
        "Uncomfortable and itchy after an hour.",
    ),
}


def tiny_catalog(seed: int = 0, n_per_leaf: int = 10) -> Catalog:
    rng = random.Random(seed)
    products: list[Product] = []
    reviews: list[Review] = []
    for leaf, (noun, brands, (lo, hi)) in _LEAVES.items():
        for _ in range(n_per_leaf):
            products.append(_tiny_product(rng, f"P{len(products) + 1:04d}", leaf, noun, brands, lo, hi))
            reviews.extend(_tiny_reviews(rng, products[-1].id, len(reviews)))
    return Catalog(_rated(products, reviews), reviews, _tiny_policies())


def _tiny_product(
    rng: random.Random, pid: str, leaf: str, noun: str, brands: Sequence[str], lo: float, hi: float
) -> Product:
    brand = rng.choice(brands)
    adj = rng.choice(_ADJ)
    colour = rng.choice(_COLOURS)
    price = None if rng.random() < 0.1 else round(rng.uniform(lo, hi), 2)
    stock = None if rng.random() < 0.1 else rng.choice((0, 0, 3, 12, 40))
    shown = None if rng.random() < 0.1 else brand  # some catalogs do not know the brand
    return Product(
        id=pid,
        title=f"{shown or ''} {adj.title()} {noun.title()} in {colour}".strip(),
        category=leaf,
        brand=shown,
        price=price,
        attributes={"colour": colour, "style": adj},
        stock=stock,
        description=f"A {adj} {noun} by {brand}. Colour {colour}.",
    )


def _tiny_reviews(rng: random.Random, pid: str, before: int) -> list[Review]:
    out: list[Review] = []
    for _ in range(rng.randint(0, 4)):
        stars = rng.randint(1, 5)
        mood = "positive" if stars >= 4 else "negative"
        text = " ".join(rng.sample(_REVIEW_LINES[mood], 2))
        title = "Great" if mood == "positive" else "Disappointed"
        out.append(
            Review(id=f"R{before + len(out) + 1:05d}", product_id=pid, rating=stars, text=text, title=title)
        )
    return out


def _rated(products: list[Product], reviews: list[Review]) -> list[Product]:
    by: dict[str, list[int]] = {}
    for r in reviews:
        by.setdefault(r.product_id, []).append(r.rating)
    return [
        Product(
            **{
                **p.to_dict(),
                "rating": round(sum(by[p.id]) / len(by[p.id]), 2) if p.id in by else None,
                "rating_count": len(by.get(p.id, [])),
            }
        )
        for p in products
    ]


def _tiny_policies() -> list[Policy]:
    return [
        Policy(
            "returns",
            "Returns",
            "# Returns\n\nYou can return any item within 30 days of delivery for a full "
            "refund.\n\nItems must be unused and in the original packaging.",
            "returns",
        ),
        Policy(
            "shipping",
            "Shipping",
            "# Shipping\n\nStandard shipping takes 3-5 business days and is free "
            "over $50.\n\nExpress shipping arrives in 1-2 days for $9.99.",
            "shipping",
        ),
        Policy(
            "warranty",
            "Warranty",
            "# Warranty\n\nElectronics carry a two-year manufacturer warranty covering defects.",
            "warranty",
        ),
    ]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def chroma_server(path: Path, timeout_s: float = 20.0) -> Iterator[int]:
    """Start `chroma run` on a free loopback port, yield the port, stop that process by its PID."""
    import os
    import shutil
    import signal
    import socket
    import subprocess
    import sys
    import time

    exe = Path(sys.executable).with_name("chroma")
    cmd = str(exe) if exe.exists() else shutil.which("chroma")
    if cmd is None:
        raise FileNotFoundError("the `chroma` command is not installed (pip install chromadb==1.5.9)")
    port = free_port()
    path.mkdir(parents=True, exist_ok=True)
    with (path / "chroma.log").open("w") as log:
        proc = subprocess.Popen(
            [cmd, "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"chroma run exited with {proc.returncode}; see {path / 'chroma.log'}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"chroma run did not open port {port} in {timeout_s} s") from None
                    time.sleep(0.1)
            yield port
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
