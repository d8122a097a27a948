"""The stock pages and API: a CSV import with errors names each row and column and imports
nothing; technicians edit planograms, managers see pictures and the restock list, auditors
read; the fridge page outlines each facing by state; exports are audited."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from tests.support.web import csrf_of
from veilcam.clock import FakeClock
from veilcam.demo import fridge
from veilcam.runtime.context import App
from veilcam.stock import admin, queries
from veilcam.stock.analyse import Check, FacingState
from veilcam.stock.catalogue import Catalogue
from veilcam.stock.metrics import summarise

UI = tuple[App, FakeClock, Callable[..., Awaitable[TestClient]]]
BAD_CSV = (
    "camera,shelf,position,sku,capacity,polygon\n"
    'fridge-1,1,1,VC-MILK-1,3,"0.1,0.1 0.3,0.1 0.3,0.3 0.1,0.3"\n'
    'fridge-1,1,2,VC-NOPE,two,"0.3,0.1 0.5,0.1 0.5,0.3"\n'
)


async def upload(c: TestClient, kind: str, name: str, text: str) -> Any:
    page = await c.get("/stock/catalogue")
    form = FormData()
    form.add_field("csrf", csrf_of(await page.text()))
    form.add_field("kind", kind)
    form.add_field("file", text.encode(), filename=name, content_type="text/csv")
    return await c.post("/stock/catalogue", data=form)


async def test_a_csv_with_errors_names_row_and_column_and_imports_nothing(ui: UI) -> None:
    app, _, client = ui
    c = await client("technician")
    products = "sku,name,brand\n" + "".join(
        f"{p.sku},{p.name},{p.brand}\n" for p in fridge.PRODUCTS
    )
    r = await upload(c, "products", "products.csv", products)
    assert "imported 12 product(s)" in await r.text()
    r = await upload(c, "planogram", "planogram.csv", BAD_CSV)
    html = await r.text()
    assert "row 3, column sku: no product &#39;VC-NOPE&#39; in the catalogue" in html
    assert "row 3, column capacity: &#39;two&#39; is not a whole number" in html
    assert "row 3, column polygon: needs 3 to 12 points" not in html  # 3 points is fine
    assert await app.store.db.read(queries.facings_job) == []  # nothing imported
    r = await upload(c, "planogram", "p.csv", BAD_CSV.replace("VC-NOPE,two", "VC-MILK-2,2"))
    assert "imported 0 product(s), 2 facing(s) on fridge-1" in await r.text()
    audits = await app.store.db.read(
        lambda db: db.conn.execute(
            "SELECT actor, action FROM audit_log WHERE action LIKE 'stock.%'"
        ).fetchall()
    )
    assert [tuple(a) for a in audits] == [
        ("tom", "stock.catalogue"),
        ("tom", "stock.import.refused"),
        ("tom", "stock.catalogue"),
    ]
    # a manager reads the catalogue (the outlet, its fridges and their cabinets) but may not
    # change it
    m = await client("manager")
    html = await (await m.get("/stock/catalogue")).text()
    assert "Outlet store: its fridges" in html and "<td>dairy</td><td>2</td>" in html
    page = await m.get("/stock/catalogue")
    form = FormData()
    form.add_field("csrf", csrf_of(await page.text()))
    form.add_field("kind", "products")
    form.add_field("file", b"sku,name\nX,y\n", filename="p.csv")
    assert (await m.post("/stock/catalogue", data=form)).status == 403


async def _stocked(app: App) -> str:
    """The demo catalogue, and one check: two facings empty, one holding a yoghurt."""
    await admin.import_catalogue(
        app.store, Catalogue(fridge.PRODUCTS, fridge.planogram()), "test", fridges=["fridge-1"]
    )
    facings = await app.store.db.read(queries.facings_job, "fridge-1")
    states = [FacingState(i, "full", 1.0, 0.9, f.sku) for i, f in enumerate(facings)]
    states[0] = FacingState(0, "empty", 0.0, 0.8)
    states[1] = FacingState(1, "partial", 1 / 3, 0.7, facings[1].sku)
    states[8] = FacingState(8, "wrong_product", 1.0, 0.7, "VC-YOG-2")
    states[12] = FacingState(12, "unknown", None, 0.0, None, "under a redacted region")
    check = Check("ok", "", states)
    products = await app.store.db.read(queries.products_job)
    summary = summarise(states, facings, products)
    media_id = "ab" * 16
    now = app.clock.now()

    def insert(db: Any) -> None:
        db.conn.execute(
            "INSERT INTO media (id, camera, kind, trigger, created_at, expires_at, width,"
            " height, bytes, redaction) VALUES (?, 'fridge-1', 'fridge', 'test', ?, ?, 1280,"
            " 720, 1, '{}')",
            (media_id, now, now + 86400),
        )
        queries.record_check_job(db, media_id, "fridge-1", now, check, facings, summary, now + 9e6)

    await app.store.db.write(insert)
    return media_id


async def test_the_fridge_page_outlines_facings_by_state_for_each_role(ui: UI) -> None:
    app, _, client = ui
    media_id = await _stocked(app)
    m = await client("manager")
    html = await (await m.get("/stock/fridge-1")).text()
    assert f'href="/pictures/{media_id}.jpg"' in html  # the still, through the audited route
    assert html.count('data-state="empty"') == 1 and html.count('data-state="full"') == 16
    assert "holds Strawberry yoghurt 1 kg" in html and "under a redacted region" in html
    t = await client("technician")
    html = await (await t.get("/stock/fridge-1")).text()
    assert "/pictures/" not in html and 'data-state="wrong_product"' in html  # no picture
    overview = await (await (await client("auditor")).get("/stock")).text()
    assert "89%" in overview and "to restock" in overview  # compliance: 17 of 19 seen
    restock = await (await m.get("/stock/fridge-1/restock?print=1")).text()
    assert "/static/print.css" in restock
    assert "Whole milk 1 l" in restock and "take out the wrong product" in restock
    assert "(Strawberry yoghurt 1 kg seen there)" in restock
    resp = await m.get("/stock/fridge-1/states.csv")
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert len(rows) == 20 and {r["state"] for r in rows} >= {"empty", "wrong_product"}
    assert (await m.get("/stock/nope")).status == 404


async def test_the_api_answers_by_role(ui: UI) -> None:
    app, _, client = ui
    await _stocked(app)
    a = await client("auditor")
    summary = await (await a.get("/api/stock")).json()
    assert summary[0]["camera"] == "fridge-1" and summary[0]["restock"] == 3
    one = await (await a.get("/api/stock/fridge-1")).json()
    states = {(f["shelf"], f["position"]): f["state"] for f in one["facings"]}
    assert states[(1, 1)] == "empty" and states[(2, 4)] == "wrong_product"
    restock = await (await a.get("/api/stock/fridge-1/restock")).json()
    assert [(i["shelf"], i["position"], i["units"]) for i in restock["items"]] == [
        (1, 1, 3),
        (1, 2, 2),
        (2, 4, 3),
    ]
    cat = await (await a.get("/api/stock/catalogue")).json()
    assert len(cat["products"]) == 12 and len(cat["facings"]) == 20


async def test_a_planogram_saved_from_the_editor(ui: UI) -> None:
    app, _, client = ui
    await admin.import_catalogue(app.store, Catalogue(fridge.PRODUCTS, []), "test")
    t = await client("technician")
    page = await t.get("/stock/fridge-1/planogram")
    html = await page.text()
    assert "not calibrated" in html.lower() or "no calibration picture" in html
    facings = [
        {
            "sku": "VC-MILK-1",
            "shelf": 1,
            "position": 1,
            "capacity": 2,
            "polygon": [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]],
        },
    ]
    r = await t.post(
        "/stock/fridge-1/planogram",
        data={"csrf": csrf_of(html), "facings": json.dumps(facings)},
    )
    assert "saved 1 facing(s)" in await r.text()
    bad = [dict(facings[0], capacity=0)]
    r = await t.post(
        "/stock/fridge-1/planogram", data={"csrf": csrf_of(html), "facings": json.dumps(bad)}
    )
    assert "facing 1, column capacity: 0 is outside 1..24" in await r.text()
    saved = await app.store.db.read(queries.facings_job, "fridge-1")
    assert [(f.sku, f.capacity) for f in saved] == [("VC-MILK-1", 2)]
    m = await client("manager")
    r = await m.post("/stock/fridge-1/planogram", data={"csrf": csrf_of(html), "facings": "[]"})
    assert r.status == 403


async def test_a_manager_takes_the_calibration_pictures_refused_with_someone_in_view(
    ui: UI,
) -> None:
    """The replay camera shows an empty shelf, then a shopper in front of one."""
    app, _, client = ui
    m = await client("manager")
    page = await m.get("/stock/fridge-1/planogram")
    token = csrf_of(await page.text())
    r = await m.post("/stock/fridge-1/calibrate", data={"csrf": token, "empty": "0"})
    assert "stocked picture of fridge-1 taken" in await r.text()
    pic = await m.get("/stock/fridge-1/calibration.jpg")
    assert pic.status == 200 and (await pic.read()).startswith(b"\xff\xd8")
    r = await m.post("/stock/fridge-1/calibrate", data={"csrf": token, "empty": "1"})
    assert "refused: someone is in view" in await r.text()
    audits = await app.store.db.read(
        lambda db: db.conn.execute(
            "SELECT actor, action, object FROM audit_log WHERE action LIKE 'calibrat%'"
        ).fetchall()
    )
    assert [tuple(a) for a in audits] == [
        ("maria", "calibrate", "fridge-1"),
        ("maria", "calibration.view", "fridge-1"),
        ("maria", "calibrate.refused", "fridge-1"),
    ]
