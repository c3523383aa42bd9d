"""One typed Constraints: matching products, merging corrections, dropping slots, persistence."""

from __future__ import annotations

import pytest

from knowledge.constraints import Bound, Constraints, attr_number, filter_products
from knowledge.records import Product


def _p(pid: str, **kw: object) -> Product:
    base: dict[str, object] = {
        "id": pid,
        "title": f"Acme {pid} Kettle",
        "category": "Home > Kitchen > Kettles",
        "brand": "Acme",
        "price": 50.0,
        "attributes": {},
        "stock": 3,
        "rating": 4.0,
    }
    base.update(kw)
    return Product(**base)  # type: ignore[arg-type]


PRODUCTS = [
    _p("a", attributes={"material": "plastic", "capacity_l": "1.5"}, price=20.0),
    _p("b", attributes={"material": "stainless steel", "capacity_l": "1.7"}, price=60.0, brand="Brio"),
    _p("c", attributes={"material": "glass", "capacity_l": "1.0"}, price=45.0, stock=0),
    _p(
        "d",
        title="Acme d Toaster",
        category="Home > Kitchen > Toasters",
        attributes={"slots": "2"},
        price=30.0,
    ),
]


@pytest.mark.parametrize(
    ("c", "ids"),
    [
        (Constraints(categories=("Kettles",)), ["a", "b", "c"]),
        (Constraints(exclude_attributes={"material": ("plastic",)}, categories=("Kettles",)), ["b", "c"]),
        (Constraints(bounds={"capacity_l": Bound(1.5, None)}), ["a", "b"]),
        (Constraints(price=Bound(None, 50.0)), ["a", "c", "d"]),
        (Constraints(exclude_brands=("Acme",)), ["b"]),
        (Constraints(in_stock=True, categories=("Kettles",)), ["a", "b"]),
        (Constraints(attributes={"title": ("kettle",)}, categories=("Kitchen",)), ["a", "b", "c"]),
    ],
)
def test_matching(c: Constraints, ids: list[str]) -> None:
    assert [p.id for p in filter_products(PRODUCTS, c)] == ids


def test_a_correction_replaces_the_slot_and_keeps_a_consistent_other_bound() -> None:
    old = Constraints(categories=("Kettles",), price=Bound(30.0, 80.0), exclude_brands=("Acme",))
    new = old.override(Constraints(price=Bound(None, 50.0)))
    assert new.price == Bound(30.0, 50.0) and new.exclude_brands == ("Acme",)
    assert old.override(Constraints(price=Bound(None, 25.0))).price == Bound(
        None, 25.0
    )  # the floor no longer fits
    assert (
        old.override(Constraints(brands=("Acme",))).exclude_brands == ()
    )  # asking for it lifts the exclusion


def test_drop_and_round_trip() -> None:
    c = Constraints(
        categories=("Kettles",),
        attributes={"colour": ("red",), "material": ("glass",)},
        bounds={"capacity_l": Bound(1.0, None)},
        price=Bound(None, 40.0),
        currency="USD",
    )
    dropped = c.drop(["price", "attributes.colour", "bounds.capacity_l"])
    assert dropped.price == Bound() and dropped.attributes == {"material": ("glass",)} and not dropped.bounds
    assert Constraints.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="unknown constraint"):
        Constraints.from_dict({"colour": "red"})


def test_numbers_in_attribute_values() -> None:
    assert attr_number(_p("x", attributes={"range": "10-90 lb"}), "range") == (10.0, 90.0)
    assert attr_number(_p("x", attributes={"capacity": "2 TB"}), "capacity") == (2.0, 2.0)
    assert attr_number(_p("x"), "price") == (50.0, 50.0) and attr_number(_p("x"), "missing") is None
