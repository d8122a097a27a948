"""What a request or a hold is about: a time window and some cameras. Shoppers are not
identified, so this (and the person's description, read by whoever handles the request)
is how their data is found."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from veilcam.durations import DAY
from veilcam.errors import PrivacyRefused
from veilcam.store import audit

MAX_WINDOW = 31 * DAY  # one request or hold covers at most a month of pictures
MAX_TEXT = 2000


def required(value: Any, what: str, limit: int = MAX_TEXT) -> str:
    """``value`` as trimmed text, refused (naming ``what``) if empty or over ``limit``."""
    text = str(value or "").strip()
    if not text:
        raise PrivacyRefused(f"{what} is required")
    if len(text) > limit:
        raise PrivacyRefused(f"{what} is longer than {limit} characters")
    return text


@dataclass(frozen=True, slots=True)
class Act:
    """Who acts, when, and how long their audit entries are kept."""

    actor: str
    now: float
    audit_expires: float
    keep_expires: float  # how long register rows are kept (class 'requests')
    ip: str | None = None

    def audit(self, db: Database, action: str, obj: str | None, detail: str | None) -> None:
        audit.append(
            db, audit.Entry(self.actor, action, obj, detail, self.ip), self.now, self.audit_expires
        )


@dataclass(frozen=True, slots=True)
class Scope:
    cameras: tuple[str, ...]
    start: float
    end: float

    @classmethod
    def checked(
        cls, cameras: Sequence[str], start: float | None, end: float | None, known: Sequence[str]
    ) -> Scope:
        if start is None or end is None:
            raise PrivacyRefused("give the time window: from and to")
        if end <= start:
            raise PrivacyRefused("the window ends before it starts")
        if end - start > MAX_WINDOW:
            raise PrivacyRefused("a window covers at most 31 days; split the request")
        unknown = [c for c in cameras if c not in known]
        if unknown:
            raise PrivacyRefused(f"no camera named {unknown[0][:40]!r}")
        return cls(tuple(cameras), start, end)

    @classmethod
    def of(cls, row: dict[str, Any]) -> Scope | None:
        if row.get("window_from") is None:
            return None
        cams = row["cameras"]
        cams = json.loads(cams) if isinstance(cams, str) else cams
        return cls(tuple(cams), row["window_from"], row["window_to"])

    def where(self, alias: str = "") -> tuple[str, list[Any]]:
        p = f"{alias}." if alias else ""
        sql = f"{p}created_at >= ? AND {p}created_at < ?"
        args: list[Any] = [self.start, self.end]
        if self.cameras:
            sql += f" AND {p}camera IN ({','.join('?' * len(self.cameras))})"
            args += self.cameras
        return sql, args


def insert(db: Database, table: str, row: dict[str, Any]) -> int:
    """Insert one row into a register table (named by code, never by input); its id."""
    cols = ", ".join(row)
    cur = db.conn.execute(
        f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def media_job(db: Database, scope: Scope, limit: int = 2000) -> list[dict[str, Any]]:
    """The pictures in a scope, oldest first, without their keys."""
    where, args = scope.where()
    return [
        dict(r)
        for r in db.conn.execute(
            "SELECT id, camera, kind, trigger, created_at, expires_at, width, height,"
            " restricted_by, hold_id, note, redaction FROM media"
            f" WHERE {where} ORDER BY created_at LIMIT ?",
            (*args, limit),
        )
    ]


def chosen(rows: list[dict[str, Any]], ids: Sequence[str] | None) -> list[dict[str, Any]]:
    """The rows a person picked out of a scope (all of them when none were picked); an id
    outside the scope is refused, so a form cannot reach pictures the request is not about."""
    if ids is None:
        return rows
    by_id = {r["id"]: r for r in rows}
    outside = [i for i in ids if i not in by_id]
    if outside:
        raise PrivacyRefused(f"picture {outside[0][:32]} is not in this request's window")
    return [by_id[i] for i in ids]
