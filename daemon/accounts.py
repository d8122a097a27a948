"""Web UI accounts: Argon2id password hashes, a password policy, login lockout and expiry.

Roles: ``admin`` (at most two active per site; the database refuses a third), ``manager``,
``technician``, ``auditor``. There are no default credentials: the first account is made by
``veilcam users add`` (or printed once by the demo).

Functions named ``*_job`` run on the store's writer or reader thread (``store.db.write`` /
``store.db.read``); ``Accounts`` is the async face the daemon, the CLI and the web use.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from veilcam.errors import AccountError, LoginRefused
from veilcam.store import audit

if TYPE_CHECKING:
    from veilcam.store import Store

ROLES = ("admin", "manager", "technician", "auditor")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # Argon2 hashes anything, but a megabyte "password" is an attack


@dataclass(frozen=True, slots=True)
class Policy:
    password_max_age: float = 90 * 86400  # then it must be changed at the next login
    lockout_after: int = 5  # failed logins in a row
    lockout_for: float = 15 * 60


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    role: str
    must_change: bool  # expired, or set by an administrator

    @classmethod
    def from_row(cls, row: Any, must_change: bool) -> User:
        return cls(row["id"], row["username"], row["role"], must_change)


_hasher = PasswordHasher()  # Argon2id, the library's current recommended parameters


def check_password(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"passwords need at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"passwords may have at most {MAX_PASSWORD} characters")
    if username and username.lower() in password.lower():
        raise AccountError("the password must not contain the user name")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user_job(
    db: Database, username: str, role: str, password_hash: str, now: float, must_change: bool
) -> int:
    try:
        cur = db.conn.execute(
            "INSERT INTO users (username, role, password_hash, password_changed_at,"
            " must_change, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (username, role, password_hash, now, int(must_change), now),
        )
    except sqlite3.IntegrityError as exc:
        text = str(exc)
        if "two administrators" in text:
            raise AccountError(
                "at most two administrators per site: this site already has two"
            ) from None
        if "UNIQUE" in text:
            raise AccountError(f"a user named {username!r} already exists") from None
        raise AccountError(f"user {username!r} refused by the database: {text}") from None
    return int(cur.lastrowid or 0)


def login_job(
    db: Database, username: str, password: str, now: float, policy: Policy
) -> User | LoginRefused:
    """The user, or the refusal. Returned, not raised: the writer rolls back a job that
    raises, and a failed attempt must stay counted."""
    row = db.conn.execute(
        "SELECT * FROM users WHERE username = ? AND disabled = 0", (username,)
    ).fetchone()
    if row is None:
        _hasher.hash(password)  # the same time as a real check: no user-name probing
        return LoginRefused("unknown user")
    if row["locked_until"] is not None and row["locked_until"] > now:
        return LoginRefused("locked", "too many failed logins: try again later")
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        failures = row["failed_logins"] + 1
        locked = now + policy.lockout_for if failures >= policy.lockout_after else None
        db.conn.execute(
            "UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?",
            (0 if locked else failures, locked, row["id"]),
        )
        return LoginRefused("bad password" + (" (now locked)" if locked else ""))
    db.conn.execute(
        "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", (row["id"],)
    )
    if _hasher.check_needs_rehash(row["password_hash"]):
        db.conn.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?",
            (_hasher.hash(password), row["id"]),
        )
    expired = now - row["password_changed_at"] > policy.password_max_age
    if expired and not row["must_change"]:
        db.conn.execute("UPDATE users SET must_change = 1 WHERE id = ?", (row["id"],))
    return User.from_row(row, bool(row["must_change"]) or expired)


def change_password_job(db: Database, user_id: int, old: str, new: str, now: float) -> None:
    row = db.conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise AccountError("no such user")
    try:
        _hasher.verify(row["password_hash"], old)
    except (VerificationError, InvalidHashError):
        raise AccountError("the current password is not right") from None
    check_password(new, row["username"])
    if old == new:
        raise AccountError("the new password must differ from the old one")
    db.conn.execute(
        "UPDATE users SET password_hash = ?, password_changed_at = ?, must_change = 0 WHERE id = ?",
        (_hasher.hash(new), now, user_id),
    )


def set_disabled_job(db: Database, username: str, disabled: bool) -> None:
    cur = db.conn.execute(
        "UPDATE users SET disabled = ? WHERE username = ?", (int(disabled), username)
    )
    if cur.rowcount == 0:
        raise AccountError(f"no user named {username!r}")
    if disabled:
        db.conn.execute(
            "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)",
            (username,),
        )


def list_users_job(db: Database) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT id, username, role, disabled, password_changed_at, locked_until, created_at"
        " FROM users ORDER BY username"
    ).fetchall()
    return [dict(r) for r in rows]


class Accounts:
    """Account operations with their audit entries."""

    def __init__(self, store: Store, policy: Policy | None = None) -> None:
        self.store = store
        self.policy = policy or Policy()

    async def add(
        self,
        username: str,
        role: str,
        password: str,
        actor: str,
        ip: str | None = None,
        *,
        must_change: bool = False,
    ) -> int:
        """A new account; ``must_change`` when someone else chose the password, which its
        owner then changes at the first sign-in."""
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        check_password(password, username)
        now = self.store.clock.now()
        try:
            user_id: int = await self.store.db.write(
                add_user_job, username, role, hash_password(password), now, must_change
            )
        except AccountError as exc:
            await self.store.audit(
                audit.Entry(actor, "user.add.refused", username, str(exc), ip=ip)
            )
            raise
        await self.store.audit(audit.Entry(actor, "user.add", username, f"role {role}", ip=ip))
        return user_id

    async def login(
        self, username: str, password: str, ip: str | None = None, agent: str | None = None
    ) -> User:
        now = self.store.clock.now()
        user: User | LoginRefused = await self.store.db.write(
            login_job, username, password, now, self.policy
        )
        if isinstance(user, LoginRefused):
            await self.store.audit(
                audit.Entry(username[:64], "login.failed", username[:64], user.reason, ip, agent)
            )
            raise user
        detail = "password expired: must change" if user.must_change else None
        await self.store.audit(audit.Entry(username, "login", username, detail, ip, agent))
        return user

    async def change_password(self, user: User, old: str, new: str, ip: str | None = None) -> None:
        now = self.store.clock.now()
        await self.store.db.write(change_password_job, user.id, old, new, now)
        await self.store.audit(audit.Entry(user.username, "user.password", user.username, ip=ip))

    async def set_disabled(
        self, username: str, disabled: bool, actor: str, ip: str | None = None
    ) -> None:
        await self.store.db.write(set_disabled_job, username, disabled)
        action = "user.disable" if disabled else "user.enable"
        await self.store.audit(audit.Entry(actor, action, username, ip=ip))

    async def list(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.store.db.read(list_users_job)
        return rows
