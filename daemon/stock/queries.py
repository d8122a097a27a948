"""The stock tables: the catalogue (products, facings), the checks of stills and each
facing's state, and what the UI and the alerts read from them. Writer- and reader-thread
jobs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlite_utils import Database

from veilcam.errors import AccountError
from veilcam.stock.analyse import Check
from veilcam.stock.catalogue import Facing, Product
from veilcam.stock.metrics import Summary
from veilcam.store.records import skipped_clause

# --- the catalogue -----------------------------------------------------------------------


def products_job(db: Database) -> dict[str, Product]:
    return {
        r[0]: Product(r[0], r[1], r[2], bool(r[3]))
        for r in db.conn.execute("SELECT sku, name, brand, authorised FROM products ORDER BY sku")
    }


def product_images_job(db: Database, skus: Iterable[str]) -> dict[str, bytes]:
    wanted = list(skus)
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    return {
        r[0]: r[1]
        for r in db.conn.execute(
            f"SELECT sku, image FROM products WHERE image IS NOT NULL AND sku IN ({marks})",
            wanted,
        )
    }


def skus_with_image_job(db: Database) -> set[str]:
    return {r[0] for r in db.conn.execute("SELECT sku FROM products WHERE image IS NOT NULL")}


def put_products_job(db: Database, products: Sequence[Product], by: str, now: float) -> int:
    """Add or update products (their pictures stay)."""
    db.conn.executemany(
        "INSERT INTO products (sku, name, brand, authorised, updated_at, updated_by)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sku) DO UPDATE SET name = excluded.name,"
        " brand = excluded.brand, authorised = excluded.authorised,"
        " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        [(p.sku, p.name, p.brand, int(p.authorised), now, by) for p in products],
    )
    return len(products)


def put_image_job(db: Database, sku: str, jpeg: bytes, by: str, now: float) -> None:
    cur = db.conn.execute(
        "UPDATE products SET image = ?, updated_at = ?, updated_by = ? WHERE sku = ?",
        (jpeg, now, by, sku),
    )
    if cur.rowcount == 0:
        raise AccountError(f"no product {sku!r}")


def facings_job(db: Database, camera: str | None = None) -> list[Facing]:
    sql = "SELECT id, camera, shelf, position, sku, capacity, polygon FROM facings"
    args: tuple[Any, ...] = ()
    if camera is not None:
        sql += " WHERE camera = ?"
        args = (camera,)
    return [
        Facing(r[1], r[2], r[3], r[4], r[5], tuple((x, y) for x, y in json.loads(r[6])), id=r[0])
        for r in db.conn.execute(sql + " ORDER BY camera, shelf, position", args)
    ]


def set_planogram_job(db: Database, camera: str, facings: Sequence[Facing]) -> int:
    """Replace one camera's facings. A facing keeping its shelf and position keeps its id
    (and with it its history); the others are removed or added."""
    old = {
        (r[1], r[2]): r[0]
        for r in db.conn.execute(
            "SELECT id, shelf, position FROM facings WHERE camera = ?", (camera,)
        )
    }
    keep = set()
    for f in facings:
        poly = json.dumps([[round(x, 5), round(y, 5)] for x, y in f.polygon])
        fid = old.get((f.shelf, f.position))
        if fid is None:
            db.conn.execute(
                "INSERT INTO facings (camera, shelf, position, sku, capacity, polygon)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (camera, f.shelf, f.position, f.sku, f.capacity, poly),
            )
        else:
            keep.add(fid)
            db.conn.execute(
                "UPDATE facings SET sku = ?, capacity = ?, polygon = ? WHERE id = ?",
                (f.sku, f.capacity, poly, fid),
            )
    gone = [(fid,) for key, fid in old.items() if fid not in keep]
    db.conn.executemany("DELETE FROM facings WHERE id = ?", gone)
    return len(facings)


def cameras_with_facings_job(db: Database) -> list[str]:
    return [r[0] for r in db.conn.execute("SELECT DISTINCT camera FROM facings ORDER BY camera")]


def catalogue_mark_job(db: Database, camera: str) -> str:
    """Changes whenever the camera's planogram or any product changes."""
    a = db.conn.execute("SELECT count(*), coalesce(max(updated_at), 0) FROM products").fetchone()
    b = db.conn.execute(
        "SELECT group_concat(id || ':' || sku || ':' || capacity || ':' || polygon, '|')"
        " FROM facings WHERE camera = ?",
        (camera,),
    ).fetchone()
    return f"{a[0]}/{a[1]}/{hash(b[0])}"


# --- checks ------------------------------------------------------------------------------


def pending_job(
    db: Database, cameras: Sequence[str], since: float, limit: int = 20
) -> list[dict[str, Any]]:
    """Fridge stills of these cameras not checked yet, oldest first."""
    if not cameras:
        return []
    marks = ",".join("?" * len(cameras))
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT m.id, m.camera, m.created_at, m.width, m.height, m.redaction, m.blank_reason"
            " FROM media m LEFT JOIN stock_checks c ON c.media_id = m.id"
            f" WHERE c.id IS NULL AND m.kind = 'fridge' AND m.camera IN ({marks})"
            f" AND NOT {skipped_clause('stock_analysis')}"
            " AND m.created_at >= ? ORDER BY m.created_at LIMIT ?",
            (*cameras, since, limit),
        )
    ]


def record_check_job(
    db: Database,
    media_id: str,
    camera: str,
    at: float,
    check: Check,
    facings: Sequence[Facing],
    summary: Summary | None,
    expires_at: float,
) -> int:
    ok = check.status == "ok" and summary is not None
    cur = db.conn.execute(
        "INSERT INTO stock_checks (media_id, camera, at, status, reason, fill, compliance,"
        " purity, facings_seen, summary, analysis_ms, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            media_id,
            camera,
            at,
            check.status,
            check.reason,
            summary.fill if ok and summary else None,
            summary.compliance if ok and summary else None,
            summary.purity if ok and summary else None,
            summary.seen if ok and summary else None,
            json.dumps(summary.as_dict() if ok and summary else {}),
            check.timings_ms.get("total"),
            expires_at,
        ),
    )
    check_id = int(cur.lastrowid or 0)
    if ok:
        db.conn.executemany(
            "INSERT INTO facing_states (check_id, facing_id, camera, sku, at, state, fill,"
            " confidence, seen_sku, reason, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    check_id,
                    facings[s.facing].id,
                    camera,
                    facings[s.facing].sku,
                    at,
                    s.state,
                    s.fill,
                    round(s.confidence, 3),
                    s.seen_sku,
                    s.reason,
                    expires_at,
                )
                for s in check.facings
            ],
        )
    return check_id


def latest_job(db: Database, camera: str, accepted_only: bool = True) -> dict[str, Any] | None:
    sql = "SELECT * FROM stock_checks WHERE camera = ?"
    if accepted_only:
        sql += " AND status = 'ok'"
    row = db.conn.execute(sql + " ORDER BY at DESC, id DESC LIMIT 1", (camera,)).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["summary"] = json.loads(out["summary"])
    out["states"] = {
        r["facing_id"]: dict(r)
        for r in db.conn.execute("SELECT * FROM facing_states WHERE check_id = ?", (out["id"],))
    }
    return out


def checks_job(db: Database, camera: str, since: float, until: float) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT id, media_id, at, status, reason, fill, compliance, purity, facings_seen,"
            " analysis_ms FROM stock_checks WHERE camera = ? AND at >= ? AND at < ? ORDER BY at",
            (camera, since, until),
        )
    ]


def states_since_job(db: Database, camera: str, since: float) -> list[tuple[int, float, str]]:
    """(facing id, time, state) of the accepted checks since ``since``, oldest first."""
    return [
        (r[0], r[1], r[2])
        for r in db.conn.execute(
            "SELECT facing_id, at, state FROM facing_states WHERE camera = ? AND at >= ?"
            " ORDER BY at, facing_id",
            (camera, since),
        )
    ]


def accepted_states_job(
    db: Database, camera: str, since: float, until: float
) -> list[tuple[float, dict[int, str]]]:
    """The accepted checks in a window with their facings' states, oldest first."""
    out: dict[int, tuple[float, dict[int, str]]] = {}
    for check_id, at, fid, state in db.conn.execute(
        "SELECT check_id, at, facing_id, state FROM facing_states WHERE camera = ? AND at >= ?"
        " AND at < ? ORDER BY at, check_id",
        (camera, since, until),
    ):
        out.setdefault(check_id, (at, {}))[1][fid] = state
    return sorted(out.values(), key=lambda c: c[0])


def rejected_job(db: Database, camera: str, limit: int = 10) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT media_id, at, reason FROM stock_checks WHERE camera = ? AND status = 'rejected'"
            " ORDER BY at DESC LIMIT ?",
            (camera, limit),
        )
    ]


def facing_history_job(db: Database, camera: str, since: float) -> list[dict[str, Any]]:
    """Every facing's state in every accepted check since ``since``: the CSV export."""
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT s.at, f.shelf, f.position, s.sku, s.state, s.fill, s.confidence, s.seen_sku,"
            " s.reason, c.media_id FROM facing_states s JOIN stock_checks c ON c.id = s.check_id"
            " LEFT JOIN facings f ON f.id = s.facing_id WHERE s.camera = ? AND s.at >= ?"
            " ORDER BY s.at, f.shelf, f.position",
            (camera, since),
        )
    ]


def media_size_job(db: Database, media_id: str) -> tuple[int, int] | None:
    row = db.conn.execute("SELECT width, height FROM media WHERE id = ?", (media_id,)).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))
