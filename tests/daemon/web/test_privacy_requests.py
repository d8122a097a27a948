"""One request of each kind from the form to the data folder: recorded, acted on, and
checked where it matters, in the SQLite file and the media folder; each with its audit
entries and, for exports, its disclosure record."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from tests.support.web import csrf_of
from veilcam.clock import FakeClock
from veilcam.runtime.context import App
from veilcam.stock import queries as stock_queries
from veilcam.store import Picture

UI = tuple[App, FakeClock, Callable[..., Awaitable[TestClient]]]


def jpeg(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (160, 120), (shade, 90, 40)).save(buf, "JPEG")
    return buf.getvalue()


async def pictures(app: App, clock: FakeClock, n: int = 3) -> list[str]:
    ids = []
    for i in range(n):
        clock.advance(60)
        ids.append(
            await app.store.add_picture(
                Picture("fridge-1", "fridge", "test", jpeg(i * 40), 160, 120)
            )
        )
    return ids


def local(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%dT%H:%M")


async def post(c: TestClient, page: str, action: str, data: dict[str, Any]) -> Any:
    token = csrf_of(await (await c.get(page)).text())
    return await c.post(action, data={"csrf": token, **data}, allow_redirects=False)


async def new_request(c: TestClient, clock: FakeClock, kind: str, **extra: str) -> int:
    now = clock.now()
    data = {
        "kind": kind,
        "received": local(now),
        "channel": "counter",
        "identity_check": "showed the receipt of that visit",
        "description": "blue coat, at the dairy fridge around noon",
        "from": local(now - 3600),
        "to": local(now + 120),
        **extra,
    }
    r = await post(c, "/requests", "/requests", data)
    assert r.status == 302, await r.text()
    return int(r.headers["Location"].rsplit("/", 1)[1])


def db_of(app: App) -> sqlite3.Connection:
    conn = sqlite3.connect(app.data_dir / "veilcam.db")
    conn.row_factory = sqlite3.Row
    return conn


def audits(app: App, prefix: str) -> list[str]:
    with db_of(app) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT action FROM audit_log WHERE action LIKE ? ORDER BY id", (prefix + "%",)
            )
        ]


def media_file(app: App, media_id: str) -> Path:
    return app.data_dir / "media" / media_id[:2] / f"{media_id}.vcm"


async def test_access_exports_a_marked_zip_under_a_disclosure_record(ui: UI) -> None:
    app, clock, client = ui
    ids = await pictures(app, clock)
    manager, admin = await client("manager"), await client("admin")
    n = await new_request(manager, clock, "access")  # taken at the counter by the manager
    r = await admin.get(f"/requests/{n}/export.zip")
    assert r.status == 403 and "disclosure record" in await r.text()
    r = await post(
        admin,
        "/disclosures",
        "/disclosures",
        {
            "request": str(n),
            "recipient": "the data subject (request 1)",
            "legal_basis": "GDPR Art. 15 right of access",
            "purpose": "answer the shopper's access request",
        },
    )
    assert "disclosure record #1 made" in await r.text()
    r = await admin.get(f"/requests/{n}/export.zip?disclosure=1")
    assert r.status == 200
    z = zipfile.ZipFile(io.BytesIO(await r.read()))
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["disclosure_record"] == 1
    assert z.read("manifest.txt").decode().startswith("Disclosed to the data subject")
    names = [i["file"] for i in manifest["items"]]
    assert len(names) == 3 and all(i["until"] and i["why_held"] for i in manifest["items"])
    with Image.open(io.BytesIO(z.read(names[0]))) as im:
        assert im.height > 120  # the caption band below the picture
    with db_of(app) as conn:
        rec = conn.execute("SELECT * FROM disclosures WHERE id = 1").fetchone()
        assert rec["approved_by"] == "ada" and rec["exports"] == 1 and rec["request_id"] == n
        disclosed = {r[0] for r in conn.execute("SELECT item FROM disclosed")}
    assert disclosed == {f"media:{i}" for i in ids} | {f"request:{n}"}
    assert audits(app, "disclosure.") == ["disclosure.create", "disclosure.export"]
    assert audits(app, "request.") == ["request.create"]


async def test_erasure_deletes_rows_files_and_keys_and_names_recipients(ui: UI) -> None:
    app, clock, client = ui
    ids = await pictures(app, clock)
    admin = await client("admin")
    wrapped = {}
    with db_of(app) as conn:
        for r in conn.execute("SELECT id, dek FROM media"):
            wrapped[r["id"]] = bytes(r["dek"])
    # one picture was disclosed earlier: its recipient is to be told
    r = await post(
        admin,
        "/disclosures",
        "/disclosures",
        {
            "items": f"media:{ids[0]}",
            "recipient": "Police, case 42",
            "legal_basis": "criminal investigation request",
            "purpose": "theft on 4 Dec",
        },
    )
    assert (await admin.get(f"/pictures/{ids[0]}/download?disclosure=1")).status == 200
    n = await new_request(admin, clock, "erasure")
    r = await post(admin, f"/requests/{n}", f"/requests/{n}/act", {"ids": [ids[0], ids[1]]})
    html = await r.text()
    assert "2 picture(s) erased" in html and "Police, case 42" in html
    for gone in ids[:2]:
        assert not media_file(app, gone).exists()
    assert media_file(app, ids[2]).exists()
    with db_of(app) as conn:
        left = {r[0] for r in conn.execute("SELECT id FROM media")}
        req = conn.execute("SELECT actions FROM requests WHERE id = ?", (n,)).fetchone()
    assert left == {ids[2]}
    erased = json.loads(req["actions"])[-1]
    assert {i["id"] for i in erased["items"]} == set(ids[:2])
    assert erased["tell"][0]["recipient"] == "Police, case 42"
    # crypto-erase: the wrapped data keys are nowhere in the database files any more
    raw = b"".join(p.read_bytes() for p in app.data_dir.glob("veilcam.db*") if p.suffix != ".shm")
    for gone in ids[:2]:
        assert wrapped[gone] not in raw
    assert wrapped[ids[2]] in raw
    assert (await admin.get(f"/pictures/{ids[0]}.jpg")).status == 404
    assert audits(app, "request.") == ["request.create", "request.erase"]


async def test_restriction_hides_from_every_view_export_and_analysis(ui: UI) -> None:
    app, clock, client = ui
    ids = await pictures(app, clock)
    admin, manager = await client("admin"), await client("manager")
    n = await new_request(admin, clock, "restriction")
    r = await post(admin, f"/requests/{n}", f"/requests/{n}/act", {"ids": [ids[1]]})
    assert "1 picture(s) restricted" in await r.text()
    with db_of(app) as conn:
        assert (
            conn.execute("SELECT restricted_by FROM media WHERE id = ?", (ids[1],)).fetchone()[0]
            == n
        )
    assert media_file(app, ids[1]).exists()  # kept, not shown
    assert (await manager.get(f"/pictures/{ids[1]}.jpg")).status == 403
    assert (await manager.get(f"/pictures/{ids[1]}")).status == 403
    assert ids[1] not in await (await manager.get("/pictures")).text()
    api = await (await manager.get("/api/pictures")).json()
    assert ids[1] not in json.dumps(api) and ids[0] in json.dumps(api)
    await post(
        admin,
        "/disclosures",
        "/disclosures",
        {"items": f"media:{ids[1]}", "recipient": "x", "legal_basis": "y", "purpose": "z"},
    )
    r = await admin.get(f"/pictures/{ids[1]}/download?disclosure=1")
    assert r.status == 403 and "restricted" in await r.text()
    pending = await app.store.db.read(stock_queries.pending_job, ["fridge-1"], 0, 50)
    assert ids[1] not in {p["id"] for p in pending} and ids[0] in {p["id"] for p in pending}
    r = await post(admin, f"/requests/{n}", f"/requests/{n}/lift", {})
    assert "restriction lifted on 1 picture(s)" in await r.text()
    assert (await manager.get(f"/pictures/{ids[1]}.jpg")).status == 200
    assert audits(app, "request.") == ["request.create", "request.restrict", "request.lift"]
    assert "picture.view.refused" in audits(app, "picture.")


@pytest.mark.parametrize("processing", ["stock_analysis", "storage"])
async def test_objection_stops_the_processing(ui: UI, processing: str) -> None:
    app, clock, client = ui
    ids = await pictures(app, clock)
    admin = await client("admin")

    def checked(db: Any) -> None:
        db.conn.execute(
            "INSERT INTO stock_checks (media_id, camera, at, status, expires_at)"
            " VALUES (?, 'fridge-1', ?, 'rejected', ?)",
            (ids[0], clock.now(), clock.now() + 86400),
        )

    await app.store.db.write(checked)
    n = await new_request(admin, clock, "objection", processing=processing)
    r = await post(admin, f"/requests/{n}", f"/requests/{n}/act", {})
    assert r.status == 200, await r.text()
    with db_of(app) as conn:
        checks = conn.execute("SELECT count(*) FROM stock_checks").fetchone()[0]
        objection = conn.execute("SELECT processing, camera FROM objections").fetchone()
        media = conn.execute("SELECT count(*) FROM media").fetchone()[0]
    assert tuple(objection) == (processing, None)
    pending = await app.store.db.read(stock_queries.pending_job, ["fridge-1"], 0, 50)
    if processing == "stock_analysis":
        assert checks == 0 and media == 3  # results withdrawn, pictures kept
        assert pending == []  # and never analysed again
    else:
        assert media == 0 and not any(media_file(app, i).exists() for i in ids)
    assert audits(app, "request.") == ["request.create", "request.object"]


async def test_rectification_attaches_the_shoppers_statement(ui: UI) -> None:
    app, clock, client = ui
    ids = await pictures(app, clock)
    admin = await client("admin")
    n = await new_request(
        admin, clock, "rectification", correction="I was restocking as an employee of the supplier"
    )
    await post(admin, f"/requests/{n}", f"/requests/{n}/act", {"ids": [ids[2]]})
    with db_of(app) as conn:
        notes = dict(conn.execute("SELECT id, note FROM media").fetchall())
    assert notes[ids[2]].startswith(f"Correction (request {n}): I was restocking")
    assert notes[ids[0]] is None
    page = await (await admin.get(f"/pictures/{ids[2]}")).text()
    assert "I was restocking as an employee" in page
    assert audits(app, "request.") == ["request.create", "request.rectify"]


async def test_complaint_is_recorded_and_answered(ui: UI) -> None:
    app, clock, client = ui
    admin, auditor = await client("admin"), await client("auditor")
    r = await post(
        admin,
        "/requests",
        "/requests",
        {
            "kind": "complaint",
            "received": local(clock.now()),
            "channel": "email",
            "identity_check": "not needed for a complaint",
            "description": "the sign at the entrance is hidden behind a display",
        },
    )
    n = int(r.headers["Location"].rsplit("/", 1)[1])
    r = await post(
        admin,
        f"/requests/{n}",
        f"/requests/{n}/answer",
        {"status": "answered", "reply": "moved the sign; thank you"},
    )
    assert r.status == 302
    with db_of(app) as conn:
        row = conn.execute("SELECT status, reply, due_at - received_at FROM requests").fetchone()
    assert tuple(row) == ("answered", "moved the sign; thank you", 7 * 86400)
    page = await (await auditor.get(f"/requests/{n}")).text()
    assert "moved the sign" in page and "Close request" not in page  # auditors read only
    r = await post(
        auditor, f"/requests/{n}", f"/requests/{n}/answer", {"status": "answered", "reply": "x"}
    )
    assert r.status == 403
    assert audits(app, "request.") == ["request.create", "request.answer"]
