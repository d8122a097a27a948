"""The register of shoppers' requests: access, rectification, erasure, restriction,
objection and complaint; each due within the configured days (7 at most) of receipt.

Each action writes what it did into the request (``actions``) and the audit log in the same
transaction; files are deleted after their rows, so a crash leaves only orphans that the
next start sweeps, never a row without its file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from veilcam.durations import DAY
from veilcam.errors import PrivacyRefused
from veilcam.privacy.scope import Act, Scope, chosen, insert, media_job, required
from veilcam.retention import MEDIA_CLASS
from veilcam.store.reaper import count_deletions

KINDS = ("access", "rectification", "erasure", "restriction", "objection", "complaint")
CHANNELS = ("counter", "email", "letter", "phone", "web form")
# What a shopper may object to, and what withdrawing it does (the later features add theirs).
PROCESSING = {
    "storage": "keeping redacted pictures of them (the pictures are deleted)",
    "stock_analysis": "stock analysis of fridge pictures they are in (the results are deleted "
    "and the pictures never analysed again)",
    "research": "a research study's clips of them (deleted here, and deleted from the "
    "research storage at the uploader's next pass)",
}
MAX_CLIP = 600.0  # seconds: a clip that started this long before a window may still hold it
ANSWERS = ("answered", "refused")


def create_job(
    db: Database,
    act: Act,
    *,
    kind: str,
    received_at: float,
    channel: str,
    identity_check: str,
    description: str,
    scope: Scope | None,
    processing: str | None,
    correction: str | None,
    days: int,
) -> int:
    if kind not in KINDS:
        raise PrivacyRefused(f"unknown kind of request {kind[:30]!r}; one of {', '.join(KINDS)}")
    if channel not in CHANNELS:
        raise PrivacyRefused(f"unknown channel {channel[:30]!r}; one of {', '.join(CHANNELS)}")
    if received_at > act.now + 300:
        raise PrivacyRefused("the request cannot be received in the future")
    if scope is None and kind not in ("complaint",):
        raise PrivacyRefused(f"an {kind} request needs the time window and cameras it is about")
    if kind == "objection" and processing not in PROCESSING:
        raise PrivacyRefused(f"name the processing objected to: one of {', '.join(PROCESSING)}")
    if kind == "rectification":
        correction = required(correction, "the correction", 1000)
    days = min(max(int(days), 1), 7)  # the register never lets a request wait longer
    row = {
        "kind": kind,
        "received_at": received_at,
        "channel": channel,
        "identity_check": required(identity_check, "the identity check", 500),
        "description": required(description, "the description"),
        "cameras": json.dumps(list(scope.cameras) if scope else []),
        "window_from": scope.start if scope else None,
        "window_to": scope.end if scope else None,
        "processing": processing if kind == "objection" else None,
        "correction": correction if kind == "rectification" else None,
        "due_at": received_at + days * DAY,
        "created_by": act.actor,
        "created_at": act.now,
        "expires_at": act.keep_expires,
    }
    request_id = insert(db, "requests", row)
    act.audit(db, "request.create", f"request:{request_id}", f"{kind} via {channel}")
    return request_id


def get_job(db: Database, request_id: int) -> dict[str, Any] | None:
    row = db.conn.execute("SELECT * FROM requests WHERE id = ?", (request_id,)).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["cameras"] = json.loads(out["cameras"])
    out["actions"] = json.loads(out["actions"])
    return out


def list_job(db: Database, open_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    sql = "SELECT * FROM requests"
    if open_only:
        sql += " WHERE status = 'open'"
    sql += " ORDER BY status = 'open' DESC, due_at LIMIT ?"
    out = []
    for r in db.conn.execute(sql, (limit,)):
        d = dict(r)
        d["cameras"] = json.loads(d["cameras"])
        d["actions"] = json.loads(d["actions"])
        out.append(d)
    return out


def due_job(db: Database) -> list[dict[str, Any]]:
    """Open requests, soonest due first (for deadlines)."""
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT id, kind, received_at, due_at FROM requests WHERE status = 'open'"
            " ORDER BY due_at"
        )
    ]


def _open(db: Database, request_id: int, kinds: Sequence[str]) -> dict[str, Any]:
    req = get_job(db, request_id)
    if req is None:
        raise PrivacyRefused(f"no request {request_id}")
    if req["status"] != "open":
        raise PrivacyRefused(f"request {request_id} is {req['status']}; nothing more is done")
    if req["kind"] not in kinds:
        raise PrivacyRefused(f"request {request_id} is an {req['kind']} request")
    return req


def _log(db: Database, act: Act, req: dict[str, Any], what: str, **detail: Any) -> None:
    actions = [*req["actions"], {"at": act.now, "by": act.actor, "what": what, **detail}]
    db.conn.execute(
        "UPDATE requests SET actions = ? WHERE id = ?", (json.dumps(actions), req["id"])
    )


def _items(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": r["id"], "camera": r["camera"], "taken": r["created_at"]} for r in rows]


def recipients(db: Database, ids: Sequence[str]) -> list[dict[str, Any]]:
    """Who these pictures were disclosed to: the people to tell about an erasure."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT d.id AS disclosure, d.recipient, d.at, count(*) AS items FROM disclosed x"
            f" JOIN disclosures d ON d.id = x.disclosure_id WHERE x.item IN ({marks})"
            " GROUP BY d.id ORDER BY d.at",
            [f"media:{i}" for i in ids],
        )
    ]


def _delete(
    db: Database, act: Act, rows: list[dict[str, Any]], reason: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """Delete the rows not under a legal hold, their data keys with them; (deleted ids,
    held rows). The caller deletes the files once this commits."""
    held = [r for r in rows if r["hold_id"] is not None]
    gone = [r for r in rows if r["hold_id"] is None]
    db.conn.executemany("DELETE FROM media WHERE id = ?", [(r["id"],) for r in gone])
    by_class: dict[str, int] = {}
    for r in gone:
        by_class[MEDIA_CLASS[r["kind"]]] = by_class.get(MEDIA_CLASS[r["kind"]], 0) + 1
    count_deletions(db, act.now, by_class, reason)
    return [r["id"] for r in gone], held


def erase_job(db: Database, act: Act, request_id: int, ids: Sequence[str] | None) -> dict[str, Any]:
    req = _open(db, request_id, ("erasure",))
    rows = chosen(media_job(db, Scope.of(req)), ids)  # type: ignore[arg-type]
    tell = recipients(db, [r["id"] for r in rows])
    gone, held = _delete(db, act, rows, "erasure")
    erased = [i for i in _items(rows) if i["id"] in set(gone)]
    _log(
        db,
        act,
        req,
        "erased",
        items=erased,
        held=[{"id": r["id"], "hold": r["hold_id"]} for r in held],
        tell=tell,
    )
    act.audit(db, "request.erase", f"request:{request_id}", f"{len(gone)} pictures erased")
    return {"deleted": gone, "held": len(held), "tell": tell}


def restrict_job(
    db: Database, act: Act, request_id: int, ids: Sequence[str] | None
) -> dict[str, Any]:
    req = _open(db, request_id, ("restriction",))
    rows = chosen(media_job(db, Scope.of(req)), ids)  # type: ignore[arg-type]
    marked = [r for r in rows if r["restricted_by"] is None]
    db.conn.executemany(
        "UPDATE media SET restricted_by = ? WHERE id = ?", [(request_id, r["id"]) for r in marked]
    )
    _log(db, act, req, "restricted", items=_items(marked))
    act.audit(db, "request.restrict", f"request:{request_id}", f"{len(marked)} pictures")
    return {"restricted": [r["id"] for r in marked]}


def lift_job(db: Database, act: Act, request_id: int) -> int:
    req = get_job(db, request_id)
    if req is None or req["kind"] != "restriction":
        raise PrivacyRefused(f"no restriction request {request_id}")
    n = db.conn.execute(
        "UPDATE media SET restricted_by = NULL WHERE restricted_by = ?", (request_id,)
    ).rowcount
    _log(db, act, req, "restriction lifted", count=n)
    act.audit(db, "request.lift", f"request:{request_id}", f"{n} pictures")
    return int(n)


def rectify_job(
    db: Database, act: Act, request_id: int, ids: Sequence[str] | None
) -> dict[str, Any]:
    """Pictures cannot be edited into truth; the shopper's correction is attached to each
    chosen picture as a supplementary statement, shown wherever the picture is shown."""
    req = _open(db, request_id, ("rectification",))
    rows = chosen(media_job(db, Scope.of(req)), ids)  # type: ignore[arg-type]
    note = f"Correction (request {request_id}): {req['correction']}"
    db.conn.executemany("UPDATE media SET note = ? WHERE id = ?", [(note, r["id"]) for r in rows])
    _log(db, act, req, "correction attached", items=_items(rows))
    act.audit(db, "request.rectify", f"request:{request_id}", f"{len(rows)} pictures")
    return {"rectified": [r["id"] for r in rows]}


def object_job(
    db: Database, act: Act, request_id: int, ids: Sequence[str] | None
) -> dict[str, Any]:
    """Stop the named processing for the request's window: what it produced is withdrawn,
    and the processing itself skips the window from now on (``objected``)."""
    req = _open(db, request_id, ("objection",))
    scope = Scope.of(req)
    assert scope is not None
    rows = chosen(media_job(db, scope), ids)
    processing = req["processing"]
    for camera in scope.cameras or (None,):
        db.conn.execute(
            "INSERT INTO objections (request_id, processing, camera, window_from, window_to,"
            " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (request_id, processing, camera, scope.start, scope.end, act.keep_expires),
        )
    out: dict[str, Any] = {"processing": processing}
    if processing == "storage":
        gone, held = _delete(db, act, rows, "objection")
        out.update(deleted=gone, held=len(held))
        _log(db, act, req, "storage stopped: pictures deleted", count=len(gone), held=len(held))
    elif processing == "research":
        gone, held = _delete(db, act, [r for r in rows if r["kind"] == "clip"], "objection")
        n = _withdraw_uploads(db, act, scope)
        out.update(deleted=gone, held=len(held), withdrawn=n)
        _log(db, act, req, "research stopped: clips deleted, uploads withdrawn", count=len(gone))
    else:
        marks = ",".join("?" * len(rows)) or "NULL"
        n = db.conn.execute(
            f"DELETE FROM stock_checks WHERE media_id IN ({marks})", [r["id"] for r in rows]
        ).rowcount
        out.update(withdrawn=n, deleted=[])
        _log(db, act, req, "stock analysis stopped: results withdrawn", count=n)
    act.audit(db, "request.object", f"request:{request_id}", processing)
    return out


def _withdraw_uploads(db: Database, act: Act, scope: Scope) -> int:
    """Clips of the window that already left: due for deletion there now (the uploader
    deletes them at its next pass; those not yet sent are never sent). Errs towards the
    shopper: every camera of a study covering one of the request's cameras counts."""
    sql = (
        "UPDATE uploads SET delete_at = min(delete_at, ?) WHERE deleted_at IS NULL"
        " AND recorded_at <= ? AND recorded_at + ? >= ?"
    )
    args: list[Any] = [act.now, scope.end, MAX_CLIP, scope.start]
    if scope.cameras:
        marks = ",".join("?" * len(scope.cameras))
        sql += (
            " AND study_id IN (SELECT s.id FROM studies s, json_each(s.cameras) c"
            f" WHERE c.value IN ({marks}))"
        )
        args += list(scope.cameras)
    return int(db.conn.execute(sql, args).rowcount)


def answer_job(db: Database, act: Act, request_id: int, status: str, reply: str) -> None:
    if status not in ANSWERS:
        raise PrivacyRefused(f"a request is closed as one of {', '.join(ANSWERS)}")
    req = _open(db, request_id, KINDS)
    reply = required(reply, "the reply sent to the shopper")
    db.conn.execute(
        "UPDATE requests SET status = ?, reply = ?, replied_at = ? WHERE id = ?",
        (status, reply, act.now, request_id),
    )
    _log(db, act, req, status)
    act.audit(db, "request.answer", f"request:{request_id}", status)
