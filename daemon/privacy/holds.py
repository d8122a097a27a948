"""Legal holds and the retention report.

A hold keeps the pictures of a class, window and camera past their normal limit, up to the
class's hold cap (its cap where it has none), for a stated reason and reference. Only an
administrator places one; it lapses by itself at its end (the reaper closes it), and each
picture's own expiry is never set past what the database's caps allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from veilcam.durations import DAY, format_duration
from veilcam.errors import PrivacyRefused
from veilcam.privacy.scope import Act, Scope, insert
from veilcam.retention import CLASSES, MEDIA_CLASS

KIND_OF = {cls: kind for kind, cls in MEDIA_CLASS.items()}
# Where each class's items live, for the report: (table, time column, extra condition).
HELD_IN: dict[str, tuple[str, str, str]] = {
    "fridge_stills": ("media", "created_at", "kind = 'fridge'"),
    "floor_stills": ("media", "created_at", "kind = 'floor'"),
    "research_clips": ("media", "created_at", "kind = 'clip'"),
    "face_evidence": ("media", "created_at", "kind = 'evidence'"),
    "audit_log": ("audit_log", "at", "1"),
    "sensor_records": ("temperature_readings", "received_at", "1"),
    "stock_records": ("stock_checks", "at", "1"),
    "requests": ("requests", "created_at", "1"),
}


def hold_cap(class_name: str) -> float:
    rc = CLASSES[class_name]
    cap = rc.hold_cap if rc.hold_cap is not None else rc.cap
    assert cap is not None
    return cap


def place_job(
    db: Database,
    act: Act,
    *,
    class_name: str,
    scope: Scope,
    reason: str,
    reference: str,
    until: float,
) -> dict[str, Any]:
    if class_name not in KIND_OF:
        raise PrivacyRefused(
            f"holds apply to pictures: one of {', '.join(KIND_OF)}, not {class_name[:30]!r}"
        )
    cap = hold_cap(class_name)
    if until <= act.now:
        raise PrivacyRefused("a hold ends in the future")
    if until > act.now + cap:
        raise PrivacyRefused(
            f"a hold on {CLASSES[class_name].what} lasts at most {format_duration(cap)}"
        )
    reason, reference = reason.strip(), reference.strip()
    if not reason or not reference:
        raise PrivacyRefused("a hold needs its reason and a reference (case, claim, order)")
    if len(reason) > 500 or len(reference) > 100:
        raise PrivacyRefused("reason at most 500 characters, reference at most 100")
    camera = scope.cameras[0] if len(scope.cameras) == 1 else None
    if len(scope.cameras) > 1:
        raise PrivacyRefused("a hold covers one camera, or all of them")
    hold_id = insert(
        db,
        "legal_holds",
        {
            "class": class_name,
            "camera": camera,
            "window_from": scope.start,
            "window_to": scope.end,
            "reason": reason,
            "reference": reference,
            "created_by": act.actor,
            "created_at": act.now,
            "until": until,
            "expires_at": act.keep_expires,
        },
    )
    where, args = scope.where()
    kind = KIND_OF[class_name]
    # Each picture: kept to the hold's end, but never past its own cap from when it was taken.
    n = db.conn.execute(
        "UPDATE media SET hold_id = ?,"
        " legal_hold = CASE WHEN kind = 'evidence' THEN ? ELSE legal_hold END,"
        " expires_at = max(expires_at, min(?, created_at + ?))"
        f" WHERE kind = ? AND hold_id IS NULL AND {where}",
        (hold_id, reference, until, cap, kind, *args),
    ).rowcount
    db.conn.execute("UPDATE legal_holds SET items = ? WHERE id = ?", (n, hold_id))
    act.audit(db, "hold.place", f"hold:{hold_id}", f"{class_name}, {n} items, ref {reference}")
    return {"id": hold_id, "items": n}


def lift_job(db: Database, act: Act, hold_id: int, limits: Mapping[str, float]) -> int:
    """End a hold early: its pictures go back to their normal limit (``limits`` by kind)."""
    row = db.conn.execute(
        "SELECT * FROM legal_holds WHERE id = ? AND lifted_at IS NULL", (hold_id,)
    ).fetchone()
    if row is None:
        raise PrivacyRefused(f"no active hold {hold_id}")
    kind = KIND_OF[row["class"]]
    n = db.conn.execute(
        "UPDATE media SET hold_id = NULL, legal_hold = NULL, expires_at = created_at + ?"
        " WHERE hold_id = ?",
        (limits[kind], hold_id),
    ).rowcount
    db.conn.execute(
        "UPDATE legal_holds SET lifted_at = ?, lifted_by = ? WHERE id = ?",
        (act.now, act.actor, hold_id),
    )
    act.audit(db, "hold.lift", f"hold:{hold_id}", f"{n} items back to their normal limit")
    return int(n)


def list_job(db: Database, limit: int = 200) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT * FROM legal_holds ORDER BY lifted_at IS NULL DESC, created_at DESC LIMIT ?",
            (limit,),
        )
    ]


def report_job(db: Database, now: float, limits: Mapping[str, float]) -> list[dict[str, Any]]:
    """Per retention class: its limit and cap, the oldest item held, how many are held,
    deleted in the last 30 days, and under a hold."""
    deleted = {
        r[0]: r[1]
        for r in db.conn.execute(
            "SELECT class, sum(count) FROM deletions WHERE day >= date(?, 'unixepoch', 'localtime')"
            " GROUP BY class",
            (now - 30 * DAY,),
        )
    }
    held = {
        r[0]: r[1]
        for r in db.conn.execute(
            "SELECT kind, count(*) FROM media WHERE hold_id IS NOT NULL GROUP BY kind"
        )
    }
    out = []
    for name, rc in CLASSES.items():
        item: dict[str, Any] = {
            "class": name,
            "what": rc.what,
            "limit": limits.get(name),
            "cap": rc.cap,
            "hold_cap": hold_cap(name) if name in KIND_OF else None,
            "oldest": None,
            "count": 0,
            "deleted_30d": int(deleted.get(name, 0)),
            "under_hold": int(held.get(KIND_OF.get(name, ""), 0)),
            "stored": rc.table is not None,
        }
        place = HELD_IN.get(name)
        if place is not None:
            table, col, cond = place  # names from the table above, never from input
            r = db.conn.execute(f"SELECT min({col}), count(*) FROM {table} WHERE {cond}").fetchone()
            item["oldest"], item["count"] = r[0], r[1]
        out.append(item)
    return out
