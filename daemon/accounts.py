"""Web UI accounts: Argon2id password hashes, a password policy, login lockout and expiry.

Roles: ``admin`` (at most two active per site; the database refuses a third), ``manager``,
``technician``, ``auditor``. There are no default credentials: the first account is made by
``veilcam users add`` (or printed once by the demo).

Functions named ``*_job`` run on the store's writer or reader thread (``store.db.write`` /
``store.db.read``); ``Accounts`` is the async face the daemon, the CLI and the web use.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from veilcam.errors import AccountError, LoginRefused
from veilcam.store import audit

if TYPE_CHECKING:
    from veilcam.store import Store

T = TypeVar("T")
ROLES = ("admin", "manager", "technician", "auditor")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # Argon2 hashes anything, but a megabyte "password" is an attack
REUSE_DEPTH = 5  # a new password may not be any of the last five, the current one included


@dataclass(frozen=True, slots=True)
class Policy:
    password_max_age: float = 90 * 86400  # then it must be changed at the next login
    # Administrators alone run registrations and gates: their passwords expire sooner, so a
    # leaver's cannot be used for long (never later than everyone else's).
    admin_password_max_age: float = 60 * 86400

    def max_age(self, role: str) -> float:
        if role == "admin":
            return min(self.admin_password_max_age, self.password_max_age)
        return self.password_max_age


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
# Argon2 is meant to be slow (~0.1-0.2 s of a core and 64 MiB a hash): hashes run on one
# thread of their own, never on the database writer that every signed-in request waits on,
# and never more than one at a time, so guessing cannot take more than one core or more
# memory. Waiting beyond MAX_WAITING is refused at once (the sign-in throttle keeps any one
# address far below that).
_hash_pool: ThreadPoolExecutor | None = None
_waiting = 0
MAX_WAITING = 32
_dummy_hash: str | None = None


def _pool() -> ThreadPoolExecutor:
    global _hash_pool
    if _hash_pool is None:
        _hash_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")
    return _hash_pool


async def _hashing(fn: Callable[..., T], *args: Any) -> T:
    global _waiting
    if _waiting >= MAX_WAITING:
        raise AccountError("the appliance is busy checking other sign-ins; try again shortly")
    _waiting += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_pool(), fn, *args)
    finally:
        _waiting -= 1


def _verify(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches, and its new hash if the stored one needs one. No
    stored hash (an unknown user) is checked against a dummy one: the same time."""
    global _dummy_hash
    if password_hash is None:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("a password nobody has")
        password_hash = _dummy_hash
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False, None
    return True, _hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None


USERNAME = re.compile(r"[a-z0-9._-]{3,32}")


def check_username(username: str) -> None:
    """Lower-case letters, digits, ``.``, ``_`` and ``-``, 3 to 32 of them. Checked here as
    well as by the database: SQLite's ``length`` and ``GLOB`` stop at a NUL byte."""
    if not USERNAME.fullmatch(username):
        raise AccountError(f"user names are 3-32 of a-z, 0-9, '.', '_', '-'; not {username[:40]!r}")


def check_password(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"passwords need at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"passwords may have at most {MAX_PASSWORD} characters")
    if username and username.lower() in password.lower():
        raise AccountError("the password must not contain the user name")


async def hash_password(password: str) -> str:
    """A new Argon2id hash, made on the hashing thread."""
    return await _hashing(_hasher.hash, password)


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


def login_row_job(db: Database, username: str) -> dict[str, Any] | None:
    row = db.conn.execute(
        "SELECT id, username, role, password_hash, password_changed_at, must_change"
        " FROM users WHERE username = ? AND disabled = 0",
        (username,),
    ).fetchone()
    return None if row is None else dict(row)


def login_failed_job(db: Database, user_id: int) -> None:
    """Counted for the administrator's view; sign-in delays are the web throttle's."""
    db.conn.execute("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?", (user_id,))


def login_ok_job(
    db: Database, row: dict[str, Any], new_hash: str | None, now: float, policy: Policy
) -> User | LoginRefused:
    current = db.conn.execute(
        "SELECT password_hash, disabled FROM users WHERE id = ?", (row["id"],)
    ).fetchone()
    if current is None or current["disabled"] or current["password_hash"] != row["password_hash"]:
        # Disabled, or the password changed, while the hash was being checked.
        return LoginRefused("changed during sign-in")
    db.conn.execute("UPDATE users SET failed_logins = 0 WHERE id = ?", (row["id"],))
    if new_hash is not None:
        db.conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, row["id"]))
    expired = now - row["password_changed_at"] > policy.max_age(row["role"])
    if expired and not row["must_change"]:
        db.conn.execute("UPDATE users SET must_change = 1 WHERE id = ?", (row["id"],))
    return User.from_row(row, bool(row["must_change"]) or expired)


def password_row_job(db: Database, user_id: int) -> dict[str, Any] | None:
    """The account's name and hash, and the hashes of its earlier passwords that a new one
    may not repeat."""
    row = db.conn.execute(
        "SELECT username, password_hash FROM users WHERE id = ?", (user_id,)
    ).fetchone()
    if row is None:
        return None
    earlier = db.conn.execute(
        "SELECT password_hash FROM password_history WHERE user_id = ?"
        " ORDER BY replaced_at DESC, rowid DESC LIMIT ?",
        (user_id, REUSE_DEPTH - 1),
    ).fetchall()
    return dict(row, earlier=[r[0] for r in earlier])


def _used_before(hashes: list[str], password: str) -> bool:
    """Whether ``password`` matches any of ``hashes`` (on the hashing thread: each check
    costs what a sign-in does)."""
    return any(_verify(h, password)[0] for h in hashes)


def set_password_job(db: Database, user_id: int, old_hash: str, new_hash: str, now: float) -> None:
    """The new hash, if the old one is still the stored one; every session of the user ends
    (the web gives the browser that made the change a new one)."""
    cur = db.conn.execute(
        "UPDATE users SET password_hash = ?, password_changed_at = ?, must_change = 0"
        " WHERE id = ? AND password_hash = ?",
        (new_hash, now, user_id, old_hash),
    )
    if cur.rowcount == 0:
        raise AccountError("the password was changed meanwhile; sign in again")
    db.conn.execute(
        "INSERT INTO password_history (user_id, password_hash, replaced_at) VALUES (?, ?, ?)",
        (user_id, old_hash, now),
    )
    db.conn.execute(  # only the hashes a new password is checked against are kept
        "DELETE FROM password_history WHERE user_id = ? AND rowid NOT IN (SELECT rowid"
        " FROM password_history WHERE user_id = ? ORDER BY replaced_at DESC, rowid DESC"
        " LIMIT ?)",
        (user_id, user_id, REUSE_DEPTH - 1),
    )
    db.conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))


def set_disabled_job(db: Database, username: str, disabled: bool, now: float) -> None:
    try:
        cur = db.conn.execute(
            "UPDATE users SET disabled = ? WHERE username = ?", (int(disabled), username)
        )
    except sqlite3.IntegrityError as exc:
        if "two administrators" in str(exc):
            raise AccountError(
                f"{username} cannot be enabled: this site already has two active administrators"
            ) from None
        raise
    if cur.rowcount == 0:
        raise AccountError(f"no user named {username!r}")
    if disabled:
        db.conn.execute(
            "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)",
            (username,),
        )
        # The machine tokens the user made go with them.
        db.conn.execute(
            "UPDATE api_tokens SET revoked_at = ?, revoked_by = ?"
            " WHERE created_by = ? AND revoked_at IS NULL",
            (now, "disabled with " + username, username),
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
        check_username(username)
        password_hash = await hash_password(password)
        now = self.store.clock.now()
        try:
            user_id: int = await self.store.db.write(
                add_user_job, username, role, password_hash, now, must_change
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
        """The user, or LoginRefused with the same message whatever went wrong. The audit
        keeps the user name only if such an account exists: a password typed into the name
        field must not be written down."""
        row = await self.store.db.read(login_row_job, username)
        ok, new_hash = await _hashing(_verify, row["password_hash"] if row else None, password)
        if row is None or not ok:
            if row is not None:
                await self.store.db.write(login_failed_job, row["id"])
            reason = "bad password" if row is not None else "unknown user"
            name = username if row is not None else "(unknown name)"
            await self.store.audit(audit.Entry(name, "login.failed", name, reason, ip, agent))
            raise LoginRefused(reason)
        now = self.store.clock.now()
        user = await self.store.db.write(login_ok_job, row, new_hash, now, self.policy)
        if isinstance(user, LoginRefused):
            await self.store.audit(
                audit.Entry(username, "login.failed", username, user.reason, ip, agent)
            )
            raise user
        detail = "password expired: must change" if user.must_change else None
        await self.store.audit(audit.Entry(username, "login", username, detail, ip, agent))
        return user

    async def change_password(self, user: User, old: str, new: str, ip: str | None = None) -> None:
        """A new password; every session of the user ends."""
        row = await self.store.db.read(password_row_job, user.id)
        if row is None:
            raise AccountError("no such user")
        ok, _ = await _hashing(_verify, row["password_hash"], old)
        if not ok:
            raise AccountError("the current password is not right")
        check_password(new, row["username"])
        if old == new:
            raise AccountError("the new password must differ from the old one")
        if await _hashing(_used_before, row["earlier"], new):
            await self.store.audit(
                audit.Entry(user.username, "user.password.refused", user.username, "reused", ip=ip)
            )
            raise AccountError(
                f"that password was used before: choose one that is not among your last "
                f"{REUSE_DEPTH}"
            )
        new_hash = await hash_password(new)
        now = self.store.clock.now()
        await self.store.db.write(set_password_job, user.id, row["password_hash"], new_hash, now)
        await self.store.audit(
            audit.Entry(user.username, "user.password", user.username, "sessions ended", ip=ip)
        )

    async def set_disabled(
        self, username: str, disabled: bool, actor: str, ip: str | None = None
    ) -> None:
        await self.store.db.write(set_disabled_job, username, disabled, self.store.clock.now())
        action = "user.disable" if disabled else "user.enable"
        await self.store.audit(audit.Entry(actor, action, username, ip=ip))

    async def list(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self.store.db.read(list_users_job)
        return rows
