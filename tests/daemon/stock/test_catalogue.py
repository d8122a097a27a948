"""The catalogue's CSV and JSON forms: what a retailer's planogram tool exports comes in
whole, and a file with any error imports nothing and names the row and column of each."""

from __future__ import annotations

import pytest

from veilcam.demo import fridge
from veilcam.stock import catalogue as cat

PRODUCTS = "sku,name,brand,authorised\nVC-1,Whole milk,Northdale,yes\nVC-2,Kefir,Steppe,no\n"
GOOD = (
    "camera,shelf,position,sku,capacity,polygon\n"
    'fridge-1,1,1,VC-1,3,"0.1,0.1 0.3,0.1 0.3,0.3 0.1,0.3"\n'
    'fridge-1,1,2,VC-2,2,"0.3,0.1 0.5,0.1 0.5,0.3 0.3,0.3"\n'
)


def test_products_and_a_planogram_come_in_whole() -> None:
    products = cat.products_from_csv(PRODUCTS)
    assert [(p.sku, p.authorised) for p in products] == [("VC-1", True), ("VC-2", False)]
    facings = cat.planogram_from_csv(GOOD, {p.sku for p in products})
    assert [(f.shelf, f.position, f.sku, f.capacity) for f in facings] == [
        (1, 1, "VC-1", 3),
        (1, 2, "VC-2", 2),
    ]
    assert facings[0].polygon[2] == (0.3, 0.3)


def test_a_planogram_with_errors_names_each_row_and_column_and_imports_nothing() -> None:
    bad = (
        "camera,shelf,position,sku,capacity,polygon\n"
        'fridge-1,1,1,VC-1,3,"0.1,0.1 0.3,0.1 0.3,0.3 0.1,0.3"\n'
        'fridge-1,one,2,VC-1,0,"0.1,0.1 0.3,0.1"\n'
        'fridge-1,1,1,VC-9,2,"0.3,0.1 1.5,0.1 0.5,0.3"\n'
    )
    with pytest.raises(cat.CatalogueError) as err:
        cat.planogram_from_csv(bad, {"VC-1"})
    problems = err.value.problems
    assert "row 3, column shelf: 'one' is not a whole number" in problems
    assert "row 3, column capacity: 0 is outside 1..24" in problems
    assert "row 3, column polygon: needs 3 to 12 points, not 2" in problems
    assert "row 4, column polygon: point 1.5,0.1 is outside the picture (0..1)" in problems
    assert "row 4: fridge-1 shelf 1 position 1 is also row 2" in problems
    assert "row 4, column sku: no product 'VC-9' in the catalogue" in problems
    assert str(err.value).startswith("nothing imported: ")


def test_missing_and_unknown_columns_are_named() -> None:
    with pytest.raises(cat.CatalogueError) as err:
        cat.planogram_from_csv("camera,shelf,sku,depth\n", set())
    assert "row 1: missing column position" in err.value.problems
    assert any("unknown column 'depth'" in p for p in err.value.problems)
    with pytest.raises(cat.CatalogueError, match="NUL byte"):
        cat.products_from_csv("sku,name\n\x00,x\n")


def test_json_round_trips_and_names_fields() -> None:
    c = cat.Catalogue(fridge.PRODUCTS, fridge.planogram())
    back = cat.from_json(cat.to_json(c))
    assert back.products == c.products
    assert [f.as_dict() for f in back.facings] == [f.as_dict() for f in c.facings]
    with pytest.raises(cat.CatalogueError) as err:
        cat.from_json(
            '{"facings": [{"camera": "f", "shelf": 1, "position": 1, "sku": "X",'
            ' "capacity": true, "polygon": [[0, 0], [1, 0], [1, 1]], "depth": 3}]}'
        )
    assert "facings[0], field capacity: True is not a whole number" in err.value.problems
    assert "facings[0], field depth: unknown" in err.value.problems
    with pytest.raises(cat.CatalogueError, match="not JSON"):
        cat.from_json("{")


def test_csv_export_reads_back() -> None:
    facings = fridge.planogram()
    text = cat.planogram_to_csv(facings)
    again = cat.planogram_from_csv(text, {p.sku for p in fridge.PRODUCTS})
    assert [f.as_dict() for f in again] == [f.as_dict() for f in facings]
    assert cat.products_from_csv(cat.products_to_csv(fridge.PRODUCTS)) == fridge.PRODUCTS
