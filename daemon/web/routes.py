"""Every route with the roles allowed on it, and the OpenAPI description of the JSON API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from veilcam.web import (
    alerts,
    api,
    auth,
    catalogue,
    coldchain,
    events,
    gates,
    notice,
    pages,
    people,
    privacy,
    privacy_api,
    registers,
    research,
    stock,
    stock_api,
    system,
    watchlist,
)
from veilcam.web.common import (
    ACKERS,
    ADMIN,
    ALL,
    AUDIT,
    READERS,
    app_of,
)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"overall": app_of(request).health.overall()})


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CAM = "[a-z0-9][a-z0-9_-]{0,63}"
SKU = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
EDITORS = frozenset({"admin", "technician"})  # may change the catalogue and planograms
CALIBRATORS = frozenset({"admin", "technician", "manager"})  # may take calibration pictures
ROUTES: list[tuple[str, str, Handler, frozenset[str] | None]] = [
    ("GET", "/login", auth.login_page, None),
    ("POST", "/login", auth.login, None),
    ("GET", "/healthz", healthz, None),
    ("GET", "/privacy", notice.privacy_page, None),
    ("GET", "/privacy/notice.pdf", notice.privacy_pdf, None),
    ("POST", "/logout", auth.logout, ALL),
    ("GET", "/password", auth.password_page, ALL),
    ("POST", "/password", auth.password, ALL),
    ("GET", "/", pages.dashboard, ALL),
    ("GET", "/events", events.stream, ALL),
    ("GET", "/pictures", pages.gallery, READERS),
    ("GET", "/pictures/{media_id:[0-9a-f]{32}}.jpg", pages.picture_jpeg, READERS),
    ("GET", "/pictures/{media_id:[0-9a-f]{32}}", pages.picture_page, READERS),
    ("GET", "/history", pages.history, ALL),
    ("GET", "/history.csv", pages.history_csv, ALL),
    ("GET", "/alerts", alerts.alerts_page, ALL),
    ("GET", "/reports", coldchain.reports_page, ALL),
    ("GET", "/reports/{day:[0-9]{4}-[0-9]{2}-[0-9]{2}}.{fmt:csv|pdf}", coldchain.report_file, ALL),
    ("POST", "/alarms/{alarm_id:[0-9]+}/ack", alerts.alarm_ack, ACKERS),
    ("GET", "/stock", stock.stock_page, ALL),
    ("GET", "/stock/catalogue", catalogue.catalogue_page, ALL),
    ("POST", "/stock/catalogue", catalogue.catalogue_import, EDITORS),
    ("GET", "/stock/catalogue.json", catalogue.catalogue_json, ALL),
    ("GET", "/stock/products.csv", catalogue.products_csv, ALL),
    ("GET", f"/stock/products/{{sku:{SKU}}}.jpg", catalogue.product_image, ALL),
    ("POST", f"/stock/products/{{sku:{SKU}}}/image", catalogue.product_image_set, EDITORS),
    ("GET", f"/stock/{{camera:{CAM}}}", stock.fridge_page, ALL),
    ("GET", f"/stock/{{camera:{CAM}}}/restock", stock.restock_page, ALL),
    ("GET", f"/stock/{{camera:{CAM}}}/states.csv", stock.states_csv, ALL),
    ("GET", f"/stock/{{camera:{CAM}}}/planogram", catalogue.planogram_page, ALL),
    ("POST", f"/stock/{{camera:{CAM}}}/planogram", catalogue.planogram_save, EDITORS),
    ("GET", f"/stock/{{camera:{CAM}}}/planogram.csv", catalogue.planogram_csv, ALL),
    ("GET", f"/stock/{{camera:{CAM}}}/calibration.jpg", catalogue.calibration_jpeg, ALL),
    ("POST", f"/stock/{{camera:{CAM}}}/calibrate", catalogue.calibrate, CALIBRATORS),
    ("GET", "/pictures/{media_id:[0-9a-f]{32}}/download", privacy.picture_download, ADMIN),
    ("GET", "/requests", privacy.requests_page, privacy.PRIVACY_READERS),
    ("POST", "/requests", privacy.requests_add, privacy.RECEIVERS),
    ("GET", "/requests/{request_id:[0-9]{1,9}}", privacy.request_page, privacy.PRIVACY_READERS),
    ("POST", "/requests/{request_id:[0-9]{1,9}}/act", privacy.request_act, ADMIN),
    ("POST", "/requests/{request_id:[0-9]{1,9}}/lift", privacy.request_lift, ADMIN),
    ("POST", "/requests/{request_id:[0-9]{1,9}}/answer", privacy.request_answer, ADMIN),
    ("GET", "/requests/{request_id:[0-9]{1,9}}/export.zip", privacy.request_export, ADMIN),
    ("GET", "/disclosures", privacy.disclosures_page, privacy.DISCLOSURE_READERS),
    ("POST", "/disclosures", privacy.disclosures_add, ADMIN),
    ("GET", "/holds", registers.holds_page, privacy.PRIVACY_READERS),
    ("POST", "/holds", registers.holds_add, ADMIN),
    ("POST", "/holds/{hold_id:[0-9]{1,9}}/lift", registers.holds_lift, ADMIN),
    ("GET", "/retention", registers.retention_page, privacy.PRIVACY_READERS),
    ("GET", "/breaches", registers.breaches_page, ALL),
    ("POST", "/breaches", registers.breaches_add, registers.BREACH_RECORDERS),
    (
        "POST",
        "/breaches/{breach_id:[0-9]{1,9}}/{action:decide|notified|not-required}",
        registers.breaches_update,
        ADMIN,
    ),
    ("GET", "/gates", gates.gates_page, gates.GATE_READERS),
    ("POST", "/gates", gates.gates_propose, ADMIN),
    (
        "POST",
        "/gates/{gate_id:[0-9]{1,9}}/{action:approve|refuse|close}",
        gates.gates_update,
        ADMIN,
    ),
    ("GET", "/studies", research.studies_page, READERS),
    ("POST", "/studies", research.studies_add, ADMIN),
    ("POST", "/studies/{study_id:[0-9]{1,9}}/stop", research.studies_stop, ADMIN),
    ("GET", "/clips/{clip_id:[0-9a-f]{32}}", research.clip_page, READERS),
    ("GET", "/clips/{clip_id:[0-9a-f]{32}}.mp4", research.clip_mp4, READERS),
    ("GET", "/watchlist", watchlist.watchlist_page, ADMIN),
    ("POST", "/watchlist", watchlist.watchlist_register, ADMIN),
    ("POST", "/watchlist/share", watchlist.watchlist_share, ADMIN),
    ("POST", "/watchlist/rekey", watchlist.watchlist_rekey, ADMIN),
    ("POST", "/watchlist/import", watchlist.watchlist_import, ADMIN),
    (
        "POST",
        "/watchlist/{entry_id:[0-9]{1,9}}/{action:approve|refuse|remove}",
        watchlist.watchlist_update,
        ADMIN,
    ),
    (
        "GET",
        "/watchlist/{entry_id:[0-9]{1,9}}/photos/{n:[1-5]}.jpg",
        watchlist.photo_jpeg,
        ADMIN,
    ),
    (
        "GET",
        "/watchlist/evidence/{evidence_id:[0-9a-f]{32}}.jpg",
        watchlist.evidence_jpeg,
        ADMIN,
    ),
    ("GET", "/health", system.health_page, ALL),
    ("POST", "/health/certificate", system.certificate_renew, ADMIN),
    ("GET", "/users", people.users_page, ADMIN),
    ("POST", "/users", people.users_add, ADMIN),
    ("POST", "/users/{username}/{action:enable|disable}", people.users_toggle, ADMIN),
    ("POST", "/tokens", people.tokens_add, ADMIN),
    ("POST", "/tokens/{name}/revoke", people.tokens_revoke, ADMIN),
    ("GET", "/settings", system.settings_page, ADMIN),
    ("POST", "/settings", system.settings_save, ADMIN),
    ("GET", "/audit", system.audit_page, AUDIT),
    ("GET", "/api/status", api.api_status, ALL),
    ("GET", "/api/pictures", api.api_pictures, READERS),
    ("GET", "/api/temperatures", api.api_temperatures, ALL),
    ("GET", "/api/doors", api.api_doors, ALL),
    ("GET", "/api/alarms", api.api_alarms, ALL),
    ("GET", "/api/counts", api.api_counts, ALL),
    ("GET", "/api/stock", stock_api.api_stock, ALL),
    ("GET", "/api/stock/catalogue", stock_api.api_catalogue, ALL),
    ("POST", "/api/stock/catalogue", stock_api.api_catalogue_import, EDITORS),
    ("GET", f"/api/stock/{{camera:{CAM}}}", stock_api.api_fridge, ALL),
    ("GET", f"/api/stock/{{camera:{CAM}}}/restock", stock_api.api_restock, ALL),
    ("GET", "/api/privacy/gates", gates.api_gates, gates.GATE_READERS),
    ("POST", "/api/privacy/gates", gates.api_gates_propose, ADMIN),
    (
        "POST",
        "/api/privacy/gates/{gate_id:[0-9]{1,9}}/{action:approve|refuse|close}",
        gates.api_gates_update,
        ADMIN,
    ),
    ("GET", "/api/privacy/requests", privacy_api.api_requests, privacy.PRIVACY_READERS),
    ("POST", "/api/privacy/requests", privacy_api.api_requests_add, privacy.RECEIVERS),
    (
        "GET",
        "/api/privacy/requests/{request_id:[0-9]{1,9}}",
        privacy_api.api_request,
        privacy.PRIVACY_READERS,
    ),
    (
        "POST",
        "/api/privacy/requests/{request_id:[0-9]{1,9}}/act",
        privacy_api.api_request_act,
        ADMIN,
    ),
    (
        "POST",
        "/api/privacy/requests/{request_id:[0-9]{1,9}}/answer",
        privacy_api.api_request_answer,
        ADMIN,
    ),
    (
        "GET",
        "/api/privacy/requests/{request_id:[0-9]{1,9}}/export.zip",
        privacy.request_export,
        ADMIN,
    ),
    (
        "GET",
        "/api/privacy/disclosures",
        privacy_api.api_disclosures,
        privacy.DISCLOSURE_READERS,
    ),
    ("POST", "/api/privacy/disclosures", privacy_api.api_disclosures_add, ADMIN),
    ("GET", "/api/privacy/holds", privacy_api.api_holds, privacy.PRIVACY_READERS),
    ("GET", "/api/privacy/retention", privacy_api.api_retention, privacy.PRIVACY_READERS),
    ("GET", "/api/privacy/breaches", privacy_api.api_breaches, ALL),
    ("GET", "/api/tokens", api.api_tokens, ADMIN),
    ("POST", "/api/tokens", api.api_tokens_add, ADMIN),
    ("POST", "/api/tokens/{name}/revoke", api.api_tokens_revoke, ADMIN),
    ("GET", "/api/openapi.json", openapi, None),
]

# Every GET route that answers with a file rather than a page or JSON, and what it is; the
# disclosure gate's test (tests/daemon/web/test_exports_refused.py) calls every GET route
# and holds each file-answering one to one of these three.
EXPORTS = {  # personal data taken away: refused without a disclosure record
    "/pictures/{media_id}/download",
    "/requests/{request_id}/export.zip",
    "/api/privacy/requests/{request_id}/export.zip",
}
VIEWS = {  # personal data shown on the appliance's own pages, not handed over
    "/clips/{clip_id}.mp4": "a redacted research clip played inline for a signed-in reader; "
    "audited as clip.view, never cached",
    "/pictures/{media_id}.jpg": "a redacted picture drawn inline for a signed-in reader; "
    "audited as picture.view, never cached",
    "/watchlist/{entry_id}/photos/{n}.jpg": "a registration photo its administrator chose to "
    "keep, sealed, for the two administrators operating the list; audited as "
    "watchlist.photo.view, never cached, deleted with the entry",
    "/watchlist/evidence/{evidence_id}.jpg": "a watchlist match's face crop, drawn inline for "
    "one of the two administrators operating the list, to review; audited as evidence.view, "
    "never cached, gone after 72 hours unless a legal hold",
}
NOT_PERSONAL = {
    "/privacy/notice.pdf": "the notice to shoppers: settings and open feature gates",
    "/history.csv": "temperatures and door events",
    "/reports/{day}.{fmt}": "the cold-chain report: temperatures, doors and alarms",
    "/stock/catalogue.json": "products and facings",
    "/stock/products.csv": "products",
    "/stock/products/{sku}.jpg": "a product's packshot",
    "/stock/{camera}/states.csv": "facing states, no pictures",
    "/stock/{camera}/planogram.csv": "facings",
    "/stock/{camera}/calibration.jpg": "the fridge with nobody in view: refused at calibration "
    "when the detectors find a face, person or hand",
    "/static": "the UI's own files",
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "veilcam", "version": "1"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        path: {
            method.lower(): {
                "summary": (handler.__doc__ or handler.__name__).strip().splitlines()[0],
                "x-roles": sorted(roles) if roles else "public",
                "responses": {
                    "200": {"description": "OK"},
                    "401": {"description": "no session or token"},
                    "403": {"description": "not for this role"},
                },
            }
        }
        for method, path, handler, roles in ROUTES
        if path.startswith("/api/")
    },
}
