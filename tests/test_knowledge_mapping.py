"""The catalog mapping file (issue 18): checked keys, constants, composed titles, category lists,
specification columns, named columns only, encodings, JSON shapes and per-field limits. Each
bad-input case of the issue has its exact message here."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from knowledge.catalog import load_mapping, load_products
from knowledge.errors import DataError
from knowledge.fields import parse_amount, specs
from knowledge.interactions import load_interactions
from knowledge.money import Money
from knowledge.records import Product


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_unknown_top_level_key_is_an_error_listing_the_valid_ones(tmp_path: Path) -> None:
    f = _write(tmp_path, "m.toml", 'currency = "INR"\n[columns]\nid = "sku"\n')
    with pytest.raises(DataError) as err:
        load_mapping(f)
    assert str(err.value) == (
        f"mapping file {str(f)!r}: unknown key 'currency' (a constant such as currency goes in [constants]): "
        "valid keys are format, encoding, records, category_sep, join, duplicates, specs, and tables "
        '[columns], [constants], [attributes]; see the README section "Bring your own catalog" and '
        "docs/examples/*.toml"
    )


def test_unknown_table_and_unknown_field_are_errors(tmp_path: Path) -> None:
    f = _write(tmp_path, "m.toml", '[colums]\nid = "sku"\n')
    with pytest.raises(DataError, match=r"unknown key 'colums': valid keys are format, .*tables \[columns\]"):
        load_mapping(f)
    f = _write(tmp_path, "m2.toml", '[columns]\nid = "sku"\ncolour = "color"\n')
    with pytest.raises(DataError) as err:
        load_mapping(f)
    assert str(err.value) == (
        f"mapping file {str(f)!r}: [columns] names unknown field 'colour': valid fields are id, title, "
        "category, brand, price, currency, description, stock, rating, rating_count "
        "(other columns go in [attributes])"
    )
    f = _write(tmp_path, "m3.toml", '[constants]\ncurrency = "rupee-ish"\n')
    with pytest.raises(DataError, match="'rupee-ish' is not a currency: use an ISO 4217 code"):
        load_mapping(f)


def test_required_column_missing_says_the_mapping_was_read(tmp_path: Path) -> None:
    csv = _write(tmp_path, "c.csv", "sku,name\n1,Fan\n")
    m = _write(tmp_path, "m.toml", '[columns]\nid = "code"\ntitle = "name"\n')
    with pytest.raises(DataError) as err:
        load_products(csv, mapping=load_mapping(m))
    assert str(err.value) == (
        f"{csv}: required or mapped column(s) 'code' (id) missing (found: sku, name): fix the mapping "
        '(the README section "Bring your own catalog" and docs/examples/*.toml)'
    )
    m = _write(tmp_path, "m2.toml", '[columns]\ntitle = "name"\n')
    with pytest.raises(
        DataError, match=r"names no column for 'id': add id = \"YOUR_COLUMN\" to its \[columns\]"
    ):
        load_products(csv, mapping=load_mapping(m))


def test_constant_currency_composed_title_and_named_columns_only(tmp_path: Path) -> None:
    csv = _write(
        tmp_path,
        "c.csv",
        "sku,name,size,price,rating,dept\n"
        'W1,Steel Watch,"   40   mm ","1,499",not a number,Watches\n'
        "W2,Gold Watch,,201000,9,Watches\n",
    )
    m = _write(
        tmp_path,
        "m.toml",
        '[columns]\nid = "sku"\ntitle = ["name", "size"]\nprice = "price"\ncategory = "dept"\n'
        '[constants]\ncurrency = "INR"\n',
    )
    products, report = load_products(csv, mapping=load_mapping(m))
    assert [p.title for p in products] == ["Steel Watch 40 mm", "Gold Watch"]
    assert [(p.price, p.currency) for p in products] == [(1499.0, "INR"), (201000.0, "INR")]
    assert all(p.rating is None for p in products) and not report.issues  # `rating` is not mapped: not read
    assert report.notes[0].startswith("mapping: id<-sku, title<-name+size, category<-dept, price<-price")


def test_no_currency_is_said_not_silent(tmp_path: Path) -> None:
    csv = _write(tmp_path, "c.csv", "id,title,price\n1,Fan,5\n")
    _, report = load_products(csv)
    assert report.notes == [
        "1 products have no currency (no currency column, constant or symbol): taken as USD; if they are "
        'not, set currency = "..." in the mapping\'s [constants] table'
    ]


def test_currency_from_the_price_cell_and_a_conflict(tmp_path: Path) -> None:
    csv = _write(tmp_path, "c.csv", 'id,title,price\n1,Fan,"₹1,499"\n2,Lamp,24.99\n')
    products, _ = load_products(csv)
    assert (products[0].price, products[0].currency) == (1499.0, "INR")
    m = _write(
        tmp_path,
        "m.toml",
        '[columns]\nid = "id"\ntitle = "title"\nprice = "price"\n[constants]\ncurrency = "SAR"\n',
    )
    products, report = load_products(csv, mapping=load_mapping(m))
    assert [p.id for p in products] == ["2"]
    assert (
        str(report.issues[0])
        == "row 1, field 'price': the price is in INR but the row's currency is SAR: fix one"
    )


def test_prices_read_as_shops_write_them() -> None:
    assert parse_amount("SR 2,375") == (Decimal(2375), "SAR")
    assert parse_amount("24,99 €") == (Decimal("24.99"), "EUR")
    assert parse_amount("12.345") == (Decimal("12.345"), None)  # a catalog's dot is a decimal point
    assert str(parse_amount("1299.50")[0]) == "1299.50"  # a Decimal, not a float
    assert Product("1", "Fan", "", price=1499.5, currency="INR").money == Money(Decimal("1499.5"), "INR")


def test_category_tree_from_a_list_a_path_or_columns(tmp_path: Path) -> None:
    rows = [
        {"sku": "a", "name": "Fan", "cats": ["Home", "Cooling", "Fans"]},
        {"sku": "b", "name": "Clock", "cats": "Home/Clocks"},
        {"sku": "c", "name": "Lamp", "cats": '["Home", "Lamps"]'},
    ]
    path = _write(tmp_path, "c.json", json.dumps(rows))
    m = _write(
        tmp_path, "m.toml", 'category_sep = "/"\n[columns]\nid = "sku"\ntitle = "name"\ncategory = "cats"\n'
    )
    products, _ = load_products(path, mapping=load_mapping(m))
    assert [p.category for p in products] == ["Home > Cooling > Fans", "Home > Clocks", "Home > Lamps"]
    csv = _write(tmp_path, "c.csv", "sku,name,dept,class\n1,Fan,Home,Fans\n")
    m = _write(tmp_path, "m2.toml", '[columns]\nid = "sku"\ntitle = "name"\ncategory = ["dept", "class"]\n')
    assert load_products(csv, mapping=load_mapping(m))[0][0].category == "Home > Fans"


def test_specification_column_is_spread_into_attributes(tmp_path: Path) -> None:
    csv = _write(
        tmp_path,
        "c.csv",
        "sku,name,spec\n"
        '1,Fan,"Colour: white; Blade Size (in): 12"\n'
        '2,Lamp,"{""colour"": ""red"", ""watts"": 40}"\n'
        "3,Clock,just some words\n",
    )
    m = _write(tmp_path, "m.toml", 'specs = "spec"\n[columns]\nid = "sku"\ntitle = "name"\n')
    products, report = load_products(csv, mapping=load_mapping(m))
    assert products[0].attributes == {"colour": "white", "blade_size_in": "12"}
    assert products[1].attributes == {"colour": "red", "watts": "40"}
    assert str(report.issues[0]) == (
        "row 3, field 'spec': expected a JSON object or \"key: value; key: value\", got 'just some words'"
    )
    assert specs({"Noise Cancelling": "yes"}) == {"noise_cancelling": "yes"}


def test_encoding_error_names_the_row_and_suggests_encoding(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("id,title\n1,Fan\n2,Caf\xe9 table\n".encode("latin-1"))
    with pytest.raises(DataError) as err:
        load_products(path)
    assert str(err.value) == (
        f"{path}: row 2 (line 3) is not valid utf-8: byte 0xe9 at column 6; pass --encoding with the file's "
        'encoding (e.g. --encoding cp1252 or --encoding latin-1) or set encoding = "..." in the mapping file'
    )
    products, _ = load_products(path, encoding="latin-1")
    assert products[1].title == "Café table"


def test_json_object_instead_of_a_list(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.json", json.dumps({"shop": "x", "items": [{"id": "1", "title": "Fan"}]}))
    with pytest.raises(DataError) as err:
        load_products(path)
    assert str(err.value) == (
        f'{path}: the file holds one JSON object, not a list of products: set records = "items" in the '
        "mapping file to read the list under that key"
    )
    m = _write(tmp_path, "m.toml", 'records = "items"\n[columns]\nid = "id"\ntitle = "title"\n')
    assert load_products(path, mapping=load_mapping(m))[0][0].title == "Fan"


def test_field_limits_are_reported_per_row(tmp_path: Path) -> None:
    rows = [{"id": "1", "title": "Fan", "description": "x" * 5_000_000}, {"id": "2" * 65, "title": "Long id"}]
    path = _write(tmp_path, "c.jsonl", "\n".join(json.dumps(r) for r in rows))
    products, report = load_products(path)
    assert len(products[0].description) == 20_000
    assert str(report.warnings[0]) == (
        "row 1, field 'description': 5,000,000 characters, over the limit of 20,000: kept the first 20,000"
    )
    assert str(report.issues[0]) == "row 2, field 'id': id is 65 characters, over the limit of 64: shorten it"


def test_ids_of_any_printable_characters(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "c.jsonl", '{"id": "AB/12 x", "title": "Slash"}\n{"id": "é ü", "title": "Accents"}\n'
    )
    assert [p.id for p in load_products(path)[0]] == ["AB/12 x", "é ü"]


def test_duplicates_first_keeps_the_first_quietly(tmp_path: Path) -> None:
    csv = _write(tmp_path, "c.csv", "id,title,cat\n1,Fan,A\n1,Fan,B\n2,Lamp,A\n")
    m = _write(
        tmp_path, "m.toml", 'duplicates = "first"\n[columns]\nid = "id"\ntitle = "title"\ncategory = "cat"\n'
    )
    products, report = load_products(csv, mapping=load_mapping(m))
    assert [(p.id, p.category) for p in products] == [("1", "A"), ("2", "A")] and not report.issues
    assert "note: 1 rows repeat an earlier id: kept the first of each" in report.summary()


def test_interactions_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ev.csv",
        "customer,product,event,rating,time\nC1,1,purchase,,2024-01-02T10:00:00\nC1,2,rate,4,1704189600\n"
        "C2,9,view,,\nC2,1,wishlist,,\nC3,1,,5,\n",
    )
    events, report = load_interactions(path, product_ids={"1", "2"})
    assert [(e["customer_id"], e["event"], e["rating"]) for e in events] == [
        ("C1", "purchase", None),
        ("C1", "rate", 4.0),
        ("C3", "rate", 5.0),
    ]
    assert [str(i) for i in report.issues] == [
        "row 3, field 'product': no product '9' in the catalog",
        "row 4, field 'event': unknown event 'wishlist': use one of view, cart, purchase, rate",
    ]
    with pytest.raises(DataError, match=r"no customer or customer_id column \(found: who, what\)"):
        load_interactions(_write(tmp_path, "bad.csv", "who,what\n1,2\n"))


@pytest.mark.data
def test_ikea_catalog_through_the_example_mapping_only(shared_data_dir: Path) -> None:
    csv = shared_data_dir / "non-usd-catalog" / "IKEA_SA_Furniture_Web_Scrapings_sss.csv"
    mapping = load_mapping(Path(__file__).resolve().parents[1] / "docs" / "examples" / "ikea-sa.toml")
    products, report = load_products(csv, mapping=mapping)
    assert len(products) == 2961 and not report.issues  # 3,689 rows, 2,961 distinct item_ids
    billy = next(p for p in products if p.id == "263850")
    assert billy.title == "BILLY Bookcase, 80x28x202 cm" and billy.brand == "BILLY"
    assert (billy.price, billy.currency, billy.category) == (185.0, "SAR", "Bookcases & shelving units")
    assert billy.attributes == {"other_colors": "Yes", "width_cm": "80", "height_cm": "202", "depth_cm": "28"}
