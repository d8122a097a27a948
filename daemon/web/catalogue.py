"""The stock catalogue in the web UI: products (with their pictures), import and export of
products and planograms as CSV and JSON, and the planogram editor, where facings are drawn
on a fridge camera's calibration picture. Technicians and administrators edit; everyone
reads. Every change is audited (``stock.admin``)."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from PIL import Image

from veilcam.errors import AccountError
from veilcam.stock import admin, queries
from veilcam.stock.catalogue import (
    MAX_ROWS,
    Catalogue,
    CatalogueError,
    Facing,
    facing_from,
    from_json,
    planogram_from_csv,
    planogram_to_csv,
    products_from_csv,
    products_to_csv,
    to_json,
)
from veilcam.store.references import References
from veilcam.web.common import ACTOR, app_of, audit_request, client_ip, render
from veilcam.web.stock import camera_of, fridge_names

EDITORS = frozenset({"admin", "technician"})
MAX_UPLOAD = 2 * 2**20


async def catalogue_page(request: web.Request, **extra: Any) -> web.Response:
    app = app_of(request)
    products = await app.store.db.read(queries.products_job)
    facings = await app.store.db.read(queries.facings_job)
    with_image = await app.store.db.read(queries.skus_with_image_job)
    per_camera = {c: sum(f.camera == c for f in facings) for c in fridge_names(request)}
    cabinets = {}
    for cam in app.config.cameras:
        if cam.purpose == "fridge":
            doors = set(cam.triggers.doors)
            cabinets[cam.name] = ", ".join(
                c.name
                for c in app.config.cabinets
                if c.door is not None and (not doors or c.door in doors)
            )
    return render(
        request,
        "stock_catalogue.html",
        products=list(products.values()),
        with_image=with_image,
        fridges=per_camera,
        cabinets=cabinets,
        outlet=app.config.site,
        **extra,
    )


def _text(field: Any) -> str:
    """An uploaded file's or a text field's content, as UTF-8 text."""
    data = field.file.read(MAX_UPLOAD + 1) if hasattr(field, "file") else str(field).encode()
    if len(data) > MAX_UPLOAD:
        raise CatalogueError([f"the file is larger than {MAX_UPLOAD // 2**20} MiB"])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError([f"not UTF-8 text (byte {exc.start})"]) from None


async def catalogue_import(request: web.Request) -> web.Response:
    """Import products (CSV), a planogram (CSV) or the whole catalogue (JSON)."""
    app = app_of(request)
    form = await request.post()
    kind = str(form.get("kind", ""))
    field = form.get("file")
    if field is None or (hasattr(field, "filename") and not field.filename):
        return await catalogue_page(request, error="choose a file to import")
    known = set(await app.store.db.read(queries.products_job))
    try:
        text = _text(field)
        if kind == "products":
            cat = Catalogue(products_from_csv(text, known), [])
        elif kind == "planogram":
            cat = Catalogue([], planogram_from_csv(text, known))
        elif kind == "json":
            cat = from_json(text, known)
        else:
            raise CatalogueError([f"unknown import kind {kind!r}"])
        what = await admin.import_catalogue(
            app.store, cat, request[ACTOR], client_ip(request), fridge_names(request)
        )
    except CatalogueError as exc:
        await audit_request(request, "stock.import.refused", kind, f"{len(exc.problems)} error(s)")
        return await catalogue_page(request, error=str(exc), problems=exc.problems)
    return await catalogue_page(request, message=f"imported {what}")


async def products_csv(request: web.Request) -> web.Response:
    products = await app_of(request).store.db.read(queries.products_job)
    return _download(products_to_csv(products.values()), "products.csv", "text/csv")


async def catalogue_json(request: web.Request) -> web.Response:
    app = app_of(request)
    products = await app.store.db.read(queries.products_job)
    facings = await app.store.db.read(queries.facings_job)
    return _download(
        to_json(Catalogue(list(products.values()), facings)), "catalogue.json", "application/json"
    )


async def planogram_csv(request: web.Request) -> web.Response:
    camera = camera_of(request)
    facings = await app_of(request).store.db.read(queries.facings_job, camera)
    return _download(planogram_to_csv(facings), f"planogram-{camera}.csv", "text/csv")


def _download(text: str, name: str, ctype: str) -> web.Response:
    return web.Response(
        text=text,
        content_type=ctype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def product_image(request: web.Request) -> web.Response:
    sku = request.match_info["sku"]
    images = await app_of(request).store.db.read(queries.product_images_job, [sku])
    if sku not in images:
        raise web.HTTPNotFound(text="no picture of this product")
    return web.Response(body=images[sku], content_type="image/jpeg")


async def product_image_set(request: web.Request) -> web.Response:
    sku = request.match_info["sku"]
    form = await request.post()
    field = form.get("image")
    if field is None or not hasattr(field, "file"):
        return await catalogue_page(request, error="choose a picture to upload")
    data = field.file.read(admin.MAX_IMAGE_BYTES + 1)
    try:
        await admin.set_image(app_of(request).store, sku, data, request[ACTOR], client_ip(request))
    except AccountError as exc:
        return await catalogue_page(request, error=f"{sku}: {exc}")
    return await catalogue_page(request, message=f"picture of {sku} saved")


async def calibration_jpeg(request: web.Request) -> web.Response:
    """The fridge's calibration picture (taken with nobody in view), to draw facings on."""
    camera = camera_of(request)
    app = app_of(request)
    jpeg = await asyncio.to_thread(_calibration_jpeg, app.data_dir, camera)
    if jpeg is None:
        raise web.HTTPNotFound(text=f"{camera} is not calibrated: veilcam calibrate {camera}")
    await audit_request(request, "calibration.view", camera)
    return web.Response(body=jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})


def _calibration_jpeg(data_dir: Path, camera: str) -> bytes | None:
    pixels = References(data_dir).load(camera)
    if pixels is None:
        return None
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _calibration_size(data_dir: Path, camera: str) -> tuple[int, int] | None:
    pixels = References(data_dir).load(camera)
    return None if pixels is None else (pixels.shape[1], pixels.shape[0])


async def planogram_page(request: web.Request, **extra: Any) -> web.Response:
    camera = camera_of(request)
    app = app_of(request)
    facings = await app.store.db.read(queries.facings_job, camera)
    products = await app.store.db.read(queries.products_job)
    calibrated = await asyncio.to_thread(_calibration_size, app.data_dir, camera)
    size = calibrated or (1280, 720)
    data = {
        "facings": [f.as_dict() for f in facings],
        "products": [{"sku": p.sku, "name": p.name} for p in products.values()],
        "width": size[0],
        "height": size[1],
    }
    return render(
        request,
        "stock_planogram.html",
        camera=camera,
        calibrated=calibrated is not None,
        # inside a <script> element: no "</script>" can end it early
        data=json.dumps(data).replace("<", "\\u003c"),
        products=list(products.values()),
        count=len(facings),
        **extra,
    )


async def calibrate(request: web.Request) -> web.Response:
    """Take the stocked (or, with ``empty=1``, the empty) calibration picture now, as
    ``veilcam calibrate`` does: refused while anyone is in view. Audited either way."""
    from veilcam.errors import ControlError
    from veilcam.runtime.commands import control_handlers

    camera = camera_of(request)
    form = await request.post()
    empty = form.get("empty") == "1"
    what = "empty picture" if empty else "stocked picture"
    handler = control_handlers(app_of(request))["calibrate"]
    try:
        await handler({"camera": camera, "empty": empty}, request[ACTOR])
    except ControlError as exc:
        await audit_request(request, "calibrate.refused", camera, str(exc)[:200])
        return await planogram_page(request, error=str(exc))
    await audit_request(request, "calibrate", camera, what)
    return await planogram_page(request, message=f"{what} of {camera} taken")


async def planogram_save(request: web.Request) -> web.Response:
    """The editor's facings (a JSON list in the form field ``facings``) replace the
    camera's planogram."""
    camera = camera_of(request)
    form = await request.post()
    problems: list[str] = []
    facings: list[Facing] = []
    try:
        items = json.loads(str(form.get("facings", "")))
        if not isinstance(items, list):
            raise ValueError("not a list")
    except ValueError as exc:
        return await planogram_page(request, error=f"the facings were not readable: {exc}")
    if len(items) > MAX_ROWS:
        return await planogram_page(request, error=f"more than {MAX_ROWS} facings")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"facing {i + 1}: not an object")
            continue
        f = facing_from({**item, "camera": camera}, f"facing {i + 1}", problems)
        if f is not None:
            facings.append(f)
    try:
        if problems:
            raise CatalogueError(problems)
        await admin.set_planogram(
            app_of(request).store, camera, facings, request[ACTOR], client_ip(request)
        )
    except CatalogueError as exc:
        return await planogram_page(request, error=str(exc))
    return await planogram_page(request, message=f"saved {len(facings)} facing(s)")
