"""Signed-in sessions, kept in SQLite: a random token in an HttpOnly, SameSite=Strict cookie
(Secure over HTTPS), only its SHA-256 stored; idle and absolute timeouts; a CSRF token per
session for every form."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from veilcam import tokens
from veilcam.accounts import User

COOKIE = "veilcam_session"
TOUCH_EVERY = 60.0  # seconds between last-seen writes for one session


@dataclass(frozen=True, slots=True)
class Session:
    token_hash: str
    user: User
    csrf: str
    created_at: float
    last_seen: float


# Cookies and machine tokens are kept the same way: only their SHA-256.
token_hash = tokens.digest


def create_job(
    db: Database, user_id: int, now: float, ip: str | None, agent: str | None
) -> tuple[str, str]:
    """A new session for the user; returns the cookie token and the CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    db.conn.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen, csrf, ip, agent)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (token_hash(token), user_id, now, now, csrf, ip, (agent or "")[:200]),
    )
    return token, csrf


@dataclass(frozen=True, slots=True)
class Lookup:
    """What a reader found for a token: the live session, or what the writer must do."""

    session: Session | None
    expired: bool = False  # delete it
    touch: bool = False  # record that it was seen


def find_job(
    db: Database, token: str, now: float, idle: float, max_age: float, max_password_age: float
) -> Lookup:
    """The session of ``token``, read-only: run on a reader, so that signed-in requests never
    queue behind the writer (where sign-ins and sensor batches go)."""
    h = token_hash(token)
    row = db.conn.execute(
        "SELECT s.*, u.username, u.role, u.must_change, u.password_changed_at, u.disabled"
        " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        (h,),
    ).fetchone()
    if row is None:
        return Lookup(None)
    if row["disabled"] or now - row["last_seen"] > idle or now - row["created_at"] > max_age:
        return Lookup(None, expired=True)
    must_change = bool(row["must_change"]) or now - row["password_changed_at"] > max_password_age
    user = User(row["user_id"], row["username"], row["role"], must_change)
    session = Session(h, user, row["csrf"], row["created_at"], row["last_seen"])
    return Lookup(session, touch=now - row["last_seen"] > TOUCH_EVERY)


def touch_job(db: Database, token_hash_: str, now: float) -> None:
    db.conn.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, token_hash_))


def alive_job(db: Database, token_hash_: str) -> bool:
    """Whether the session still exists (not signed out, ended by a password change, or
    by its user being disabled)."""
    row = db.conn.execute(
        "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.token_hash = ? AND u.disabled = 0",
        (token_hash_,),
    ).fetchone()
    return row is not None


def delete_job(db: Database, token_hash_: str) -> None:
    db.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash_,))


def sweep_job(db: Database, now: float, max_age: float) -> int:
    return db.conn.execute("DELETE FROM sessions WHERE created_at < ?", (now - max_age,)).rowcount


def cookie_args(secure: bool) -> dict[str, Any]:
    return {"httponly": True, "samesite": "Strict", "secure": secure, "path": "/"}
