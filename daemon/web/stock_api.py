"""Stock under ``/api/``: every fridge's summary, one fridge's facings and restock list, and
the catalogue (read by everyone; written by technicians and administrators, audited)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from veilcam.stock import admin, queries
from veilcam.stock.catalogue import Catalogue, CatalogueError, from_json, to_json
from veilcam.web.common import ACTOR, app_of, client_ip
from veilcam.web.stock import camera_of, fridge_names, fridge_view

MAX_BODY = 2 * 2**20


def _latest(latest: dict[str, Any] | None) -> dict[str, Any] | None:
    if latest is None:
        return None
    keep = ("media_id", "at", "fill", "compliance", "purity", "facings_seen", "analysis_ms")
    return {**{k: latest[k] for k in keep}, **latest["summary"]}


async def api_stock(request: web.Request) -> web.Response:
    """Every fridge camera: its latest accepted check and how many facings to restock."""
    out = []
    for camera in fridge_names(request):
        v = await fridge_view(request, camera)
        out.append(
            {
                "camera": camera,
                "facings": len(v["facings"]),
                "latest": _latest(v["latest"]),
                "restock": len(v["restock"]),
                "restock_unavailable": v["restock_why"],
            }
        )
    return web.json_response(out)


async def api_fridge(request: web.Request) -> web.Response:
    """One fridge: each facing's state in the latest accepted still, and the last rejection."""
    camera = camera_of(request)
    v = await fridge_view(request, camera)
    last = v["last_any"]
    return web.json_response(
        {
            "camera": camera,
            "latest": _latest(v["latest"]),
            "last_rejected": None
            if last is None or last["status"] == "ok"
            else {"media_id": last["media_id"], "at": last["at"], "reason": last["reason"]},
            "facings": [
                {k: r[k] for k in r if k not in ("label",)} | {"polygon": r["polygon"]}
                for r in v["facings"]
            ],
        }
    )


async def api_restock(request: web.Request) -> web.Response:
    """The fridge's restock list, shelf by shelf (empty with a reason when none can be made)."""
    camera = camera_of(request)
    v = await fridge_view(request, camera)
    items = [
        {
            "shelf": r.shelf,
            "position": r.position,
            "sku": r.sku,
            "name": r.name,
            "state": r.state,
            "units": r.units,
            "action": r.action,
            "seen_sku": r.seen_sku,
            "seen_name": r.seen_name,
        }
        for r in v["restock"]
    ]
    return web.json_response({"camera": camera, "items": items, "unavailable": v["restock_why"]})


async def api_catalogue(request: web.Request) -> web.Response:
    """Products and every fridge's facings, in the import format."""
    app = app_of(request)
    products = await app.store.db.read(queries.products_job)
    facings = await app.store.db.read(queries.facings_job)
    return web.json_response(
        text=to_json(Catalogue(list(products.values()), facings)), content_type="application/json"
    )


async def api_catalogue_import(request: web.Request) -> web.Response:
    """Import products and facings (JSON body, the format GET answers); all or nothing."""
    app = app_of(request)
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY, actual_size=request.content_length)
    text = await request.text()
    known = set(await app.store.db.read(queries.products_job))
    try:
        cat = from_json(text, known)
        what = await admin.import_catalogue(
            app.store, cat, request[ACTOR], client_ip(request), fridge_names(request)
        )
    except CatalogueError as exc:
        return web.json_response({"error": str(exc), "problems": exc.problems}, status=400)
    return web.json_response({"imported": what})
