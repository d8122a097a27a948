"""Stock pages: every fridge's latest state, one fridge's facings outlined by state on its
latest accepted still (server-drawn SVG over the audited picture), shelf by shelf, its
history, rejected stills and restock list (with a print view), and CSV export. The
catalogue and planogram editing are in ``web.catalogue``; the JSON API in ``web.stock_api``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from aiohttp import web

from veilcam.stock import queries
from veilcam.stock.catalogue import Facing, Product
from veilcam.stock.history import out_of_stock_hours, restock_list
from veilcam.web import display
from veilcam.web.common import READERS, app_of, audit_request, render, session_of

COLOURS = {
    "full": "#2f855a",
    "partial": "#d69e2e",
    "empty": "#c53030",
    "wrong_product": "#805ad5",
    "unknown": "#718096",
    None: "#a0aec0",
}
LABELS = {
    "full": "full",
    "partial": "partly filled",
    "empty": "empty",
    "wrong_product": "wrong product",
    "unknown": "not seen",
    None: "no state yet",
}


def fridge_names(request: web.Request) -> list[str]:
    return [c.name for c in app_of(request).config.cameras if c.purpose == "fridge"]


def camera_of(request: web.Request) -> str:
    camera = request.match_info["camera"]
    if camera not in fridge_names(request):
        raise web.HTTPNotFound(text=f"no fridge camera named {camera}")
    return camera


async def fridge_view(request: web.Request, camera: str) -> dict[str, Any]:
    """Everything one fridge's page, its API answer and its restock list are made of."""
    app = app_of(request)
    db = app.store.db
    facings: list[Facing] = await db.read(queries.facings_job, camera)
    products: dict[str, Product] = await db.read(queries.products_job)
    latest = await db.read(queries.latest_job, camera)
    last_any = await db.read(queries.latest_job, camera, False)
    cfg = app.config.stock
    now = app.clock.now()
    restock, why = restock_list(latest, facings, products, cfg.restock_below, cfg.stale_after, now)
    rows = []
    for f in facings:
        st = (latest or {}).get("states", {}).get(f.id) if latest else None
        p = products.get(f.sku)
        seen = products.get(st["seen_sku"]) if st and st["seen_sku"] else None
        rows.append(
            {
                "id": f.id,
                "shelf": f.shelf,
                "position": f.position,
                "sku": f.sku,
                "name": p.name if p else f.sku,
                "capacity": f.capacity,
                "state": st["state"] if st else None,
                "label": LABELS[st["state"] if st else None],
                "fill": st["fill"] if st else None,
                "confidence": st["confidence"] if st else None,
                "seen": (seen.name if seen else st["seen_sku"])
                if st and st["state"] == "wrong_product"
                else None,
                "reason": st["reason"] if st else "",
                "polygon": f.polygon,
            }
        )
    return {
        "camera": camera,
        "facings": rows,
        "latest": latest,
        "last_any": last_any,
        "restock": restock,
        "restock_why": why,
        "now": now,
    }


def overlay(view: dict[str, Any], width: int, height: int, picture: str | None) -> str:
    """The facings as polygons coloured by state over the still (or a plain fridge)."""
    parts = [
        f'<svg class="planogram" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="facings of {view["camera"]} by state">'
    ]
    if picture:
        parts.append(f'<image href="{picture}" width="{width}" height="{height}"/>')
    else:
        parts.append(f'<rect width="{width}" height="{height}" fill="#e2e8f0"/>')
    for r in view["facings"]:
        pts = " ".join(f"{x * width:.1f},{y * height:.1f}" for x, y in r["polygon"])
        colour = COLOURS[r["state"]]
        fill = "none" if r["state"] in ("full", None) else colour
        title = f"shelf {r['shelf']} position {r['position']}: {r['name']} — {r['label']}"
        if r["fill"] is not None:
            title += f" ({r['fill']:.0%})"
        if r["seen"]:
            title += f", holds {r['seen']}"
        parts.append(
            f'<polygon points="{pts}" fill="{fill}" fill-opacity="0.25" stroke="{colour}" '
            f'stroke-width="{max(2, width // 320)}" data-state="{r["state"] or ""}">'
            f"<title>{display.escape(title)}</title></polygon>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.0%}"


async def stock_page(request: web.Request) -> web.Response:
    """Every fridge camera: its latest accepted check and what to restock."""
    fridges = []
    for camera in fridge_names(request):
        v = await fridge_view(request, camera)
        latest = v["latest"]
        fridges.append(
            {
                "camera": camera,
                "planned": len(v["facings"]),
                "when": display.when(latest["at"]) if latest else "never",
                "fill": _pct(latest["fill"]) if latest else "",
                "compliance": _pct(latest["compliance"]) if latest else "",
                "purity": _pct(latest["purity"]) if latest else "",
                "counts": (latest or {}).get("summary", {}).get("counts", {}),
                "restock": len(v["restock"]),
                "restock_why": v["restock_why"],
            }
        )
    return render(request, "stock.html", fridges=fridges)


async def fridge_page(request: web.Request) -> web.Response:
    camera = camera_of(request)
    app = app_of(request)
    v = await fridge_view(request, camera)
    latest = v["latest"]
    role = session_of(request).user.role
    picture = None
    width, height = 1280, 720
    if latest is not None:
        row = await app.store.db.read(queries.media_size_job, latest["media_id"])
        if row is not None:
            width, height = row
            if role in READERS:
                picture = f"/pictures/{latest['media_id']}.jpg"
    shelves: dict[int, list[dict[str, Any]]] = {}
    for r in v["facings"]:
        shelves.setdefault(r["shelf"], []).append(r)
    summary = (latest or {}).get("summary", {})
    now = v["now"]
    checks = await app.store.db.read(queries.checks_job, camera, now - 86400, now + 1)
    ok = [c for c in checks if c["status"] == "ok"]
    charts = {
        "fill": display.svg_ratio([(c["at"], c["fill"]) for c in ok if c["fill"] is not None]),
        "compliance": display.svg_ratio(
            [(c["at"], c["compliance"]) for c in ok if c["compliance"] is not None]
        ),
    }
    oos = await _out_of_stock(request, camera)
    return render(
        request,
        "stock_fridge.html",
        camera=camera,
        view=v,
        overlay=overlay(v, width, height, picture),
        shelves=sorted(shelves.items()),
        shelf_fill={int(k): _pct(x) for k, x in summary.get("shelves", {}).items()},
        brands=sorted(summary.get("brands", {}).items(), key=lambda kv: -kv[1]),
        latest=latest,
        when=display.when(latest["at"]) if latest else None,
        last_any=v["last_any"],
        rejected=[
            dict(r, when=display.when(r["at"]))
            for r in await app.store.db.read(queries.rejected_job, camera)
        ],
        charts=charts,
        checks=len(checks),
        accepted=len(ok),
        oos=oos,
        colours=COLOURS,
        labels=LABELS,
        pct=_pct,
    )


async def _out_of_stock(request: web.Request, camera: str) -> dict[str, Any]:
    app = app_of(request)
    now = app.clock.now()
    start = display.local_midnight(now) - 6 * 86400
    rows = await app.store.db.read(queries.accepted_states_job, camera, start, now + 1)
    facings = await app.store.db.read(queries.facings_job, camera)
    products = await app.store.db.read(queries.products_job)
    hours = out_of_stock_hours(rows, facings, app.config.stock.stale_after, now)
    days = [(dt.date.fromtimestamp(start) + dt.timedelta(days=k)).isoformat() for k in range(7)]
    table = [
        {
            "sku": sku,
            "name": products[sku].name if sku in products else sku,
            "hours": [per_day.get(d, 0.0) for d in days],
        }
        for sku, per_day in sorted(hours.items())
    ]
    return {"days": days, "rows": table}


async def restock_page(request: web.Request) -> web.Response:
    """The restock list, also as a print view (?print=1)."""
    camera = camera_of(request)
    v = await fridge_view(request, camera)
    latest = v["latest"]
    return render(
        request,
        "stock_restock.html",
        camera=camera,
        items=v["restock"],
        why=v["restock_why"],
        when=display.when(latest["at"]) if latest else None,
        printed=display.when(v["now"]),
        print_view=request.query.get("print") == "1",
    )


async def states_csv(request: web.Request) -> web.Response:
    """Every facing's state in every accepted still of the last 7 days, as CSV."""
    camera = camera_of(request)
    app = app_of(request)
    rows = await app.store.db.read(queries.facing_history_job, camera, app.clock.now() - 7 * 86400)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = ["time", "shelf", "position", "sku", "state", "fill", "confidence", "seen_sku"]
    w.writerow([*cols, "reason", "picture"])
    for r in rows:
        w.writerow(
            [
                dt.datetime.fromtimestamp(r["at"]).astimezone().isoformat(timespec="seconds"),
                r["shelf"],
                r["position"],
                r["sku"],
                r["state"],
                "" if r["fill"] is None else f"{r['fill']:.3f}",
                f"{r['confidence']:.2f}",
                r["seen_sku"] or "",
                r["reason"],
                r["media_id"],
            ]
        )
    name = f"stock-{app.config.site}-{camera}.csv"
    await audit_request(request, "export", name, f"{len(rows)} facing state(s)")
    return web.Response(
        text=buf.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
