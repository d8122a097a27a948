"""Where the console's operations run: through the running daemon's control socket (which
signs the technician in itself and names them in the audit log), or, with no daemon
running, on the store opened by the console (its lock keeps the daemon out meanwhile; each
operation opens and closes it, so a daemon started later is not held up for long).

Cameras are the daemon's: ``camera test`` and ``calibrate`` need it running."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from veilcam.clock import SystemClock
from veilcam.config import RetentionConfig
from veilcam.control.client import call
from veilcam.control.server import socket_path
from veilcam.errors import ControlError, LoginRefused, StoreError
from veilcam.field.console_ops import ConsoleOps
from veilcam.store import Store
from veilcam.store.database import db_path

NEEDS_DAEMON = "the daemon is not running; start it (systemctl start veilcam) and try again"


class Backend:
    def __init__(self, data_dir: Path, retention: RetentionConfig, min_free_bytes: int) -> None:
        self.data_dir = data_dir
        self.retention = retention
        self.min_free_bytes = min_free_bytes
        self.session: str | None = None  # the daemon's, when signed in through it
        self.actor = ""

    @property
    def daemon_running(self) -> bool:
        return socket_path(self.data_dir).exists()

    async def _call(
        self, command: str, reply_within: float = 60.0, **request: Any
    ) -> dict[str, Any]:
        if self.session is None:
            raise ControlError(NEEDS_DAEMON)
        return await call(
            self.data_dir,
            {"command": command, "session": self.session, **request},
            reply_within=reply_within,
        )

    async def _offline(self, op: str, *args: Any) -> Any:
        if not db_path(self.data_dir).exists():  # a new or reset board: the daemon sets it up
            raise StoreError(
                f"no veilcam database in {self.data_dir}: start the daemon"
                " (systemctl start veilcam) to set the board up"
            )
        async with Store(self.data_dir, self.retention, SystemClock()) as store:
            return await getattr(ConsoleOps(store), op)(*args)

    async def login(self, username: str, password: str, port: str) -> dict[str, str]:
        self.session = None
        if self.daemon_running:
            try:
                got = await call(
                    self.data_dir,
                    {
                        "command": "console.login",
                        "username": username,
                        "password": password,
                        "port": port,
                    },
                    reply_within=30,
                )
            except ControlError as exc:
                if "no veilcam daemon is running" not in str(exc):
                    # Refused by the daemon: the same delay as any refusal follows.
                    raise LoginRefused(str(exc), str(exc)) from None
            else:
                self.session, self.actor = got["session"], got["actor"]
                return {"actor": got["actor"], "role": got["role"]}
        got = await self._offline("login", username, password, port)
        self.actor = got["actor"]
        return dict(got)

    async def logout(self) -> None:
        if self.session is not None:
            try:
                await self._call("console.logout")
            except ControlError:
                pass  # the daemon went away: its sessions with it
        else:
            await self.record("console.logout")
        self.session, self.actor = None, ""

    async def record(self, action: str, subject: str = "", detail: str = "") -> None:
        if self.session is not None:
            await self._call("console.record", action=action, object=subject, detail=detail)
        else:
            await self._offline("record", self.actor, action, subject, detail)

    async def reset_admin(self, username: str) -> str:
        if self.session is not None:
            return str((await self._call("console.resetadmin", username=username))["password"])
        return str(await self._offline("reset_admin", self.actor, username))

    async def retention_run(self) -> dict[str, int]:
        if self.session is not None:
            return dict((await self._call("console.retention"))["report"])
        return dict(await self._offline("retention_run", self.actor, self.min_free_bytes))

    async def camera_test(self, camera: str) -> dict[str, Any]:
        return dict((await self._call("console.camera", camera=camera))["test"])

    async def calibrate(self, camera: str, empty: bool) -> dict[str, Any]:
        return await self._call("console.calibrate", 120.0, camera=camera, empty=empty)

    async def live_status(self) -> dict[str, Any] | None:
        """The daemon's health and counters, or None when it is not running."""
        if not self.daemon_running:
            return None
        try:
            return dict((await call(self.data_dir, {"command": "status"}, 5))["live"])
        except ControlError:
            return None
