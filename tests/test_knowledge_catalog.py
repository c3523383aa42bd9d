"""Catalog loaders: formats, column mapping, validation reports, strict mode, snapshots, real datasets."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from knowledge.catalog import (
    Catalog,
    load_amazon_items,
    load_mapping,
    load_products,
    parse_price,
)
from knowledge.datasets import load_clothing_reviews
from knowledge.errors import DataError
from knowledge.snapshot import load_catalog, save_catalog

ROWS = [
    {
        "sku": "A1",
        "name": "Quiet Desk Fan",
        "cost": "$24.99",
        "cat": "Home/Fans",
        "maker": "Breeze",
        "color": "white",
    },
    {
        "sku": "A2",
        "name": "Loud Alarm Clock",
        "cost": "",
        "cat": "Home/Clocks",
        "maker": "Tick",
        "color": "red",
    },
    {"sku": "A3", "name": "Stapler", "cost": "12", "cat": "Office/Supplies", "maker": "", "color": ""},
]


def _mapping_file(tmp_path: Path) -> Path:
    f = tmp_path / "map.toml"
    f.write_text(
        'category_sep = "/"\n[columns]\nid = "sku"\ntitle = "name"\nprice = "cost"\n'
        'category = "cat"\nbrand = "maker"\n[attributes]\ncolour = "color"\n'
    )
    return f


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "parquet"])
def test_each_format_loads_with_a_mapping(tmp_path: Path, fmt: str) -> None:
    df = pd.DataFrame(ROWS)
    path = tmp_path / f"cat.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "json":
        path.write_text(json.dumps(ROWS))
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in ROWS))
    else:
        df.to_parquet(path)
    products, report = load_products(path, fmt, load_mapping(_mapping_file(tmp_path)))
    assert [p.id for p in products] == ["A1", "A2", "A3"]
    fan, clock, stapler = products
    assert fan.price == 24.99 and fan.category == "Home > Fans" and fan.brand == "Breeze"
    assert fan.attributes == {"colour": "white"}
    assert clock.price is None  # missing price stays unknown, never invented
    assert stapler.brand is None and stapler.attributes == {}
    assert report.loaded == 3 and not report.issues


def test_yaml_mapping(tmp_path: Path) -> None:
    f = tmp_path / "map.yaml"
    f.write_text("columns:\n  id: sku\n  title: name\nattributes:\n  colour: color\n")
    m = load_mapping(f)
    assert m.columns == {"id": "sku", "title": "name"} and m.attributes == {"colour": "color"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: [unclosed\n")
    with pytest.raises(DataError, match="malformed"):
        load_mapping(bad)


def test_cli_style_flags_override_the_file(tmp_path: Path) -> None:
    m = load_mapping(_mapping_file(tmp_path), ["title=maker", "attributes.hue=color"])
    assert m.source("title") == "maker" and m.attributes["hue"] == "color"
    with pytest.raises(DataError, match="FIELD=COLUMN"):
        load_mapping(None, ["title"])
    with pytest.raises(DataError, match="unknown fields"):
        load_mapping(None, ["colour=color"])


def test_bad_rows_are_reported_with_row_and_field_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,title,price,stock\n1,Good,5.00,3\n2,Bad price,abc,1\n1,Duplicate,3,1\n4,,2,1\n"
        "5,Negative,-3,1\n6,Bad stock,4,lots\n7,Fine,,\n"
    )
    products, report = load_products(path, "csv")
    assert [p.id for p in products] == ["1", "7"]
    got = {(i.row, i.field) for i in report.issues}
    assert got == {(2, "price"), (3, "id"), (4, "title"), (5, "price"), (6, "stock")}
    text = report.summary()
    assert "row 2, field 'price'" in text and "duplicate id '1'" in text and "5 rows skipped" in text


def test_strict_rejects_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,title,price\n1,Good,5\n2,Bad,abc\n")
    with pytest.raises(DataError, match=r"row 2, field 'price'.*\n.*strict"):
        load_products(path, "csv", strict=True)


def test_missing_required_column_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "nocol.csv"
    path.write_text("sku,price\n1,5\n")
    with pytest.raises(DataError, match=r"'id'.*missing.*--map id="):
        load_products(path, "csv")


def test_broken_json_line_is_reported_by_line_number(tmp_path: Path) -> None:
    path = tmp_path / "cat.jsonl"
    path.write_text(
        '{"id": "a", "title": "A"}\n{"id": "b", "title": \n\n{"id": "c", "title": "C", "price": "x"}\n'
        '{"id": "d", "title": "D"}\n'
    )
    products, report = load_products(path, "jsonl")
    assert [p.id for p in products] == ["a", "d"]
    assert {(i.row, i.field) for i in report.issues} == {(2, "<line>"), (4, "price")}
    with pytest.raises(DataError, match="broken JSON"):
        load_products(path, "jsonl", strict=True)


def test_unreadable_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_products(tmp_path / "nope.csv")
    p = tmp_path / "x.parquet"
    p.write_text("not parquet")
    with pytest.raises(DataError, match="cannot read"):
        load_products(p, "parquet")


def test_parse_price() -> None:
    assert (
        parse_price("$1,299.50") == 1299.5 and parse_price(None) is None and parse_price(float("nan")) is None
    )
    assert parse_price(3) == 3.0
    for bad in ("abc", "-1", True, float("inf")):
        with pytest.raises(ValueError):
            parse_price(bad)


def test_snapshot_round_trip(settings) -> None:  # type: ignore[no-untyped-def]
    from knowledge.testing import tiny_catalog

    with pytest.raises(DataError, match="aisle ingest"):
        load_catalog(settings.data_dir)
    cat = tiny_catalog()
    save_catalog(settings.data_dir, cat)
    back = load_catalog(settings.data_dir)
    assert back.products == cat.products and back.reviews == cat.reviews and back.policies == cat.policies
    save_catalog(settings.data_dir, Catalog(cat.products[:2]))
    assert (
        len(load_catalog(settings.data_dir).products) == 2 and load_catalog(settings.data_dir).reviews == []
    )


@pytest.mark.data
def test_amazon_office_items(shared_data_dir: Path) -> None:
    products, report = load_amazon_items(shared_data_dir / "amazon-office" / "Office.item.json")
    assert len(products) == 2420 and report.loaded == 2420
    assert all(p.price is None for p in products)  # the dataset has no prices: none invented
    p0 = next(p for p in products if p.id == "2")
    assert p0.title.startswith("AT&T 210")  # HTML entities decoded
    assert p0.category == "Office Electronics > Telephones & Accessories > Corded Telephones"


@pytest.mark.data
def test_amazon_office_interactions(shared_data_dir: Path) -> None:
    from knowledge.datasets import load_amazon_interactions

    inter = load_amazon_interactions(shared_data_dir / "amazon-office" / "Office.inter.json")
    assert len(inter) == 4905 and sum(len(v) for v in inter.values()) == 53258


@pytest.mark.data
def test_clothing_reviews(shared_data_dir: Path) -> None:
    reviews = load_clothing_reviews(
        shared_data_dir / "clothing-reviews" / "WomensClothingE-CommerceReviews.parquet"
    )
    assert len(reviews) == 23486 - 845
    assert all(1 <= r.rating <= 5 and r.text for r in reviews)
    assert reviews[0].product_id == "767"
