"""Machine tokens for the JSON API: made by an administrator, shown once, stored only as
their SHA-256; each expires, can be revoked, and goes when the user who made it is disabled.

Functions named ``*_job`` run on the store's writer or a reader; ``Tokens`` is the async face
the web and the control socket use, with an audit entry for each change.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from veilcam.durations import DAY
from veilcam.errors import AccountError
from veilcam.store import audit

if TYPE_CHECKING:
    from veilcam.store import Store

TOKEN_ROLES = ("manager", "technician", "auditor")  # machines never administer
NAME = re.compile(r"[a-z0-9._-]{3,32}")
BEARER = "bearer:"  # a session made from a token has this before its hash
DEFAULT_DAYS = 90
MAX_DAYS = 365  # a token is a password kept on a machine: none lives longer than a year


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check(name: str, role: str, days: int) -> None:
    if not NAME.fullmatch(name):
        raise AccountError(f"token names are 3-32 of a-z, 0-9, '.', '_', '-'; not {name[:40]!r}")
    if role not in TOKEN_ROLES:
        raise AccountError(f"a token's role is one of {', '.join(TOKEN_ROLES)}, not {role!r}")
    if not 1 <= days <= MAX_DAYS:
        raise AccountError(f"a token lives 1 to {MAX_DAYS} days, not {days}")


def add_job(
    db: Database, name: str, role: str, token_hash: str, now: float, days: int, by: str
) -> None:
    try:
        db.conn.execute(
            "INSERT INTO api_tokens (token_hash, name, role, created_at, created_by, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (token_hash, name, role, now, by, now + days * DAY),
        )
    except sqlite3.IntegrityError:
        raise AccountError(f"a token named {name!r} already exists") from None


def lookup_job(db: Database, token_hash: str, now: float) -> Any:
    """The live token with this SHA-256 (name, role), or None: revoked and expired ones are
    not, nor one whose maker has been disabled since."""
    return db.conn.execute(
        "SELECT t.name, t.role, t.last_used_at FROM api_tokens t"
        " LEFT JOIN users u ON u.username = t.created_by"
        " WHERE t.token_hash = ? AND t.revoked_at IS NULL AND t.expires_at > ?"
        " AND coalesce(u.disabled, 0) = 0",
        (token_hash, now),
    ).fetchone()


def alive_job(db: Database, token_hash: str, now: float) -> bool:
    return lookup_job(db, token_hash, now) is not None


def used_job(db: Database, token_hash: str, now: float) -> None:
    db.conn.execute(
        "UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?", (now, token_hash)
    )


def list_job(db: Database) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT name, role, created_at, created_by, expires_at, last_used_at, revoked_at,"
        " revoked_by FROM api_tokens ORDER BY revoked_at IS NOT NULL, name"
    ).fetchall()
    return [dict(r) for r in rows]


def revoke_job(db: Database, name: str, now: float, by: str) -> None:
    cur = db.conn.execute(
        "UPDATE api_tokens SET revoked_at = ?, revoked_by = ?"
        " WHERE name = ? AND revoked_at IS NULL",
        (now, by, name),
    )
    if cur.rowcount == 0:
        raise AccountError(f"no live token named {name!r}")


class Tokens:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(
        self, name: str, role: str, actor: str, days: int = DEFAULT_DAYS, ip: str | None = None
    ) -> str:
        """A new token: returned once, never stored."""
        check(name, role, days)
        token = "vc_" + secrets.token_urlsafe(32)
        now = self.store.clock.now()
        await self.store.db.write(add_job, name, role, digest(token), now, days, actor)
        await self.store.audit(
            audit.Entry(actor, "token.create", name, f"role {role}, {days} days", ip=ip)
        )
        return token

    async def revoke(self, name: str, actor: str, ip: str | None = None) -> None:
        await self.store.db.write(revoke_job, name, self.store.clock.now(), actor)
        await self.store.audit(audit.Entry(actor, "token.revoke", name, ip=ip))

    async def list(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.store.db.read(list_job)
        now = self.store.clock.now()
        for r in rows:
            r["state"] = (
                "revoked" if r["revoked_at"] else "expired" if r["expires_at"] <= now else "live"
            )
        return rows
