"""The watchlist's pages: closed until its gate opens; then one administrator registers a
person from uploaded photos (a large multipart upload, its CSRF token in the form's action),
the other approves; a manager never gets in; a bad photo is named."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from tests.support.web import PW, csrf_of, sign_in
from veilcam.accounts import Accounts

pytest.importorskip("dlib", reason="the face features need the [faces] extra")


def photo(assets: Path, size: int = 1400) -> bytes:
    """The astronaut's portrait, enlarged past the UI's 64 KB form limit."""
    im = Image.open(assets / "astronaut.png").convert("RGB").resize((size, size))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=95)
    return out.getvalue()


async def register(c: TestClient, photos: list[bytes], reference: str) -> aiohttp.ClientResponse:
    token = csrf_of(await (await c.get("/watchlist")).text())
    form = aiohttp.FormData()
    for i, data in enumerate(photos):
        form.add_field("photos", data, filename=f"p{i}.jpg", content_type="image/jpeg")
    form.add_field("reference", reference)
    form.add_field("category", "theft")
    form.add_field("days", "200")
    return await c.post(f"/watchlist?csrf={token}", data=form)


async def test_two_administrators_register_and_approve_in_the_ui(
    ui: tuple,
    face_models: Path,
    assets: Path,  # type: ignore[type-arg]
) -> None:
    app, _, client = ui
    await Accounts(app.store).add("ben", "admin", PW, actor="test")
    ada, manager = await client("admin"), await client("manager")
    ben = await client()
    assert (await sign_in(ben, "ben")).status == 302

    page = await (await ada.get("/watchlist")).text()
    assert "watchlist is off: no approved decision" in page and "Register a person" not in page
    assert (await manager.get("/watchlist")).status == 403

    # The gate: ada proposes, ben approves.
    gate = await app.privacy.propose(
        app.privacy.act("ada"),
        feature="watchlist",
        legal_basis="legitimate interest after repeated thefts",
        purpose="recognise people banned after an incident",
        dpia_ref="DPIA-2026-11",
        signage="at the entrance",
    )
    await app.privacy.decide_gate(app.privacy.act("ben"), gate, True)

    big = photo(assets)
    assert len(big) > 64 * 1024
    r = await register(ada, [big, b"not a picture"], "INC-77")
    assert r.status == 400 and "photo 2 is not a picture that can be read" in await r.text()
    token = csrf_of(await (await ada.get("/watchlist")).text())
    form = aiohttp.FormData()
    form.add_field("photos", big, filename="p.jpg", content_type="image/jpeg")
    r = await ada.post("/watchlist", data=form)  # no token in the action: refused
    assert r.status in (403, 413)  # the body is not read for a token past its limit
    r = await register(ada, [big], "INC-77")
    assert r.status == 200 and "entry #1 registered" in await r.text()

    page = await (await ada.get("/watchlist")).text()
    assert "INC-77" in page and "waiting for the other administrator" in page
    assert 'action="/watchlist/1/approve"' not in page
    page = await (await ben.get("/watchlist")).text()
    assert 'action="/watchlist/1/approve"' in page
    r = await ben.post("/watchlist/1/approve", data={"csrf": csrf_of(page)})
    assert r.status == 200 and "entry #1 approved" in await r.text()
    assert token and app.watchlist is not None and app.watchlist._ids.tolist() == [1]
    assert (await manager.get("/watchlist")).status == 403
    page = await (await ben.get("/watchlist")).text()
    r = await ben.post("/watchlist/rekey", data={"csrf": csrf_of(page)})
    assert r.status == 200 and "site key renewed: 1 template(s) moved" in await r.text()
    assert app.watchlist._ids.tolist() == [1]

    # Managers and auditors never reach a match's evidence, nor see it among the pictures.
    from veilcam.store import Picture

    buf = io.BytesIO()
    Image.fromarray(np.full((40, 40, 3), 99, np.uint8)).save(buf, "JPEG")
    evidence = await app.store.add_picture(
        Picture("fridge-1", "evidence", "watchlist:1", buf.getvalue(), 40, 40)
    )
    assert (await manager.get(f"/watchlist/evidence/{evidence}.jpg")).status == 403
    assert (await manager.get(f"/pictures/{evidence}.jpg")).status == 404
    assert evidence not in await (await manager.get("/pictures")).text()
    r = await ada.get(f"/watchlist/evidence/{evidence}.jpg")
    assert r.status == 200 and r.content_type == "image/jpeg"
