"""The serial console's operations on the store, the same whether the daemon runs them (its
control socket, for a console beside it) or the console itself (no daemon running: it opens
the store, whose lock keeps the two apart).

Who may sign in: a technician or an administrator account (the web UI's users), or the
one-time recovery code printed on the device label, whose Argon2id hash alone is kept
(``console-recovery`` in the data directory) and which is gone once used.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from veilcam.accounts import Accounts, hash_password
from veilcam.alerts.episodes import Transition
from veilcam.alerts.outbox import Notice
from veilcam.alerts.records import record_job
from veilcam.errors import AccountError, LoginRefused
from veilcam.health import Health
from veilcam.store import Store, audit
from veilcam.store.reaper import Reaper

RECOVERY_FILE = "console-recovery"
RECOVERY_USER = "recovery"
CONSOLE_ROLES = ("technician", "admin")
EXPIRED = "password correct but to be changed: sign in to the web UI once first"
SESSION_GONE = "console session unknown or expired"
# Groups of five from an alphabet without look-alikes (0/O, 1/l/I): read off a label.
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def new_recovery_code(data_dir: Path) -> str:
    """A fresh one-time code for the device label; the previous one stops working."""
    code = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(4))
    path = Path(data_dir) / RECOVERY_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, PasswordHasher().hash(code).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return code


def _use_recovery_code(data_dir: Path, code: str) -> bool:
    """Whether ``code`` is the label's code; if so it is used up (the file removed first,
    so a second console racing on the same code loses)."""
    path = Path(data_dir) / RECOVERY_FILE
    try:
        stored = path.read_text().strip()
    except FileNotFoundError:
        return False
    try:
        PasswordHasher().verify(stored, code.strip().lower())
    except (VerificationError, InvalidHashError):
        return False
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


class ConsoleOps:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def record(self, actor: str, action: str, subject: str = "", detail: str = "") -> None:
        await self.store.audit(audit.Entry(actor, action, subject, detail or None))

    async def login(self, username: str, password: str, port: str) -> dict[str, str]:
        """The actor (``console:<user>``) and role, or LoginRefused; audited either way."""
        if username == RECOVERY_USER:
            if not _use_recovery_code(self.store.data_dir, password):
                await self.record(
                    "console:recovery", "console.login.failed", detail=f"recovery code on {port}"
                )
                raise LoginRefused("bad recovery code")
            await self.record(
                "console:recovery", "console.login", detail=f"label's one-time code on {port}"
            )
            return {"actor": "console:recovery", "role": "technician"}
        user = await Accounts(self.store).login(username, password, agent=f"serial console {port}")
        actor = f"console:{username}"
        if user.role not in CONSOLE_ROLES:
            await self.record(actor, "console.login.failed", detail=f"role {user.role}")
            raise LoginRefused(f"role {user.role}")
        if user.must_change:  # the console cannot change it: the web UI's sign-in does
            await self.record(actor, "console.login.failed", detail="password must be changed")
            raise LoginRefused(EXPIRED, EXPIRED)  # the password was right: say why
        await self.record(actor, "console.login", detail=port)
        return {"actor": actor, "role": user.role}

    async def reset_admin(self, actor: str, username: str) -> str:
        """A new one-time password for administrator ``username`` (changed at their next
        sign-in); audited, and both administrators told through the alerts (dashboard,
        alerts page, e-mail to the store contact)."""
        db = self.store.db
        row = await db.read(
            lambda d: d.conn.execute(
                "SELECT id, role, password_hash FROM users WHERE username = ?", (username,)
            ).fetchone()
        )
        if row is None or row["role"] != "admin":
            await self.record(
                actor, "console.reset-admin.refused", username, "not an administrator"
            )
            raise AccountError(f"{username!r} is not an administrator account")
        password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
        new_hash = await hash_password(password)
        now = self.store.clock.now()

        def job(d: Any) -> None:
            d.conn.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ?, must_change = 1,"
                " failed_logins = 0, locked_until = NULL WHERE id = ?",
                (new_hash, now, row["id"]),
            )
            d.conn.execute("DELETE FROM sessions WHERE user_id = ?", (row["id"],))

        await db.write(job)
        await self.record(actor, "console.reset-admin", username, "one-time password, must change")
        message = (
            f"The password of administrator {username} was reset at the serial console by"
            f" {actor.removeprefix('console:')} on {time.strftime('%Y-%m-%d %H:%M %Z')}."
            " If neither administrator asked for this, treat it as a breach."
        )
        tr = Transition("accounts", username, "admin_reset", "open", "warning", now, None, message)
        notice = Notice("email", f"veilcam: administrator {username}'s password reset", message)
        await db.write(record_job, tr, self.store.expires("audit_log", now), [notice])
        return password

    async def retention_run(self, actor: str, min_free_bytes: int) -> dict[str, int]:
        """One pass of the reaper now: what reached its limit goes."""
        reaper = Reaper(
            self.store,
            self.store.clock,
            Health(self.store.clock),
            interval=60.0,
            min_free_bytes=min_free_bytes,
        )
        report = await reaper.reap_once()
        out = {k: int(v) for k, v in dataclasses.asdict(report).items()}
        await self.record(actor, "console.retention-run", detail=str(out))
        return out
