"""The web layer for a shop that is not the demo (issue 18): product ids of any printable characters
in URLs, clicks and carts; prices as the shop prints them; examples from the shop's own catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_ui_fakes import FakeAssistant, local_client, start

from assistant.events import ProductCard, Products, event_to_dict
from assistant.settings import Settings
from assistant.shoptexts import shop_texts
from assistant.store import Store
from knowledge.catalog import Catalog, load_demo_catalog
from knowledge.records import Product
from ui.api import create_app
from ui.render import card_html

ODD = ["AB/12 x", "é ü", "a+b?c#d"]


@pytest.fixture()
def client(tmp_path: Path) -> Any:
    store = Store(f"sqlite:///{tmp_path / 'ui.db'}")
    fake = FakeAssistant(store)
    fake.catalog = Catalog(
        [Product(pid, f"Lamp {i}", "Home > Lamps", price=1499.0, currency="INR") for i, pid in enumerate(ODD)]
    )
    return local_client(create_app(Settings(data_dir=tmp_path), fake, store=store, with_ui=False))


def test_odd_product_ids_work_in_urls_clicks_and_carts(client: Any) -> None:
    from urllib.parse import quote

    sid = start(client)
    for pid in ODD:
        url = f"/api/products/{quote(pid, safe='')}"
        r = client.get(url)
        assert r.status_code == 200 and r.json()["id"] == pid, r.text
        assert client.get(f"{url}/image.svg").headers["content-type"].startswith("image/svg+xml")
        for kind, value in (("cart", None), ("feedback", 1.0), ("click", None)):
            r = client.post(
                "/api/events", json={"kind": kind, "session_id": sid, "product_id": pid, "value": value}
            )
            assert r.status_code == 200, r.text
    assert (
        client.post(
            "/api/events", json={"kind": "cart", "session_id": sid, "product_id": "a\x07b"}
        ).status_code
        == 422
    )


def test_card_urls_are_encoded_and_prices_read_as_the_shop_writes_them() -> None:
    card = event_to_dict(Products([ProductCard("AB/12 x", "Lamp", 1499.0, "INR", None, "")]))["cards"][0]
    assert card["price_text"] == "₹1,499"
    html = card_html(card)
    assert 'src="/api/products/AB%2F12%20x/image.svg"' in html and "₹1,499" in html
    sar = event_to_dict(Products([ProductCard("1", "Bookcase", 2375.0, "SAR", None, "")]))["cards"][0]
    assert sar["price_text"] == "SAR 2,375" and "$" not in card_html(sar)


def test_examples_come_from_the_shop() -> None:
    demo = shop_texts(load_demo_catalog().products)
    assert demo.currency == "USD" and all("$" in e for e in demo.examples)
    shop = shop_texts(
        [Product(str(i), f"Sofa {i}", "Sofas & armchairs", price=900.0 + i, currency="SAR") for i in range(5)]
    )
    assert shop.examples == ("sofas under SAR 1,000",)
    assert shop.placeholder == "Ask for anything, e.g. “sofas under SAR 1,000”"
    assert shop.greeting == "Hi! Ask me for a product, e.g. sofas under SAR 1,000."
