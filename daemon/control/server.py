"""The daemon's end of the local control socket: one JSON request line in, one JSON reply line
out.

It lives in the data directory (mode 0660), so only the appliance's own user and
group can use it; the peer's uid is read from the socket and written to the audit log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pwd
import re
import socket
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from veilcam.errors import VeilcamError
from veilcam.store import audit

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
MAX_REQUEST = 4096

# A command's handler: the request, and who sent it (from the socket, never the request).
Handler = Callable[[dict[str, Any], str], Awaitable[dict[str, Any]]]
COMMAND = re.compile(r"[a-z][a-z.]{0,31}")


def socket_path(data_dir: Path) -> Path:
    return Path(data_dir) / SOCKET_NAME


def _peer_user(writer: asyncio.StreamWriter) -> str:
    """The connecting process's user, from the kernel (SO_PEERCRED): what the audit log
    names, whatever the request says."""
    sock = writer.get_extra_info("socket")
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
    except OSError:
        return "cli:unknown"
    try:
        return "cli:" + pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"cli:uid{uid}"


class ControlServer:
    def __init__(
        self,
        data_dir: Path,
        handlers: dict[str, Handler],
        record: Callable[[audit.Entry], Awaitable[Any]],
    ) -> None:
        self.path = socket_path(data_dir)
        self.handlers = handlers
        self.record = record
        self.listening = asyncio.Event()

    async def run(self) -> None:
        self.path.unlink(missing_ok=True)
        server = await asyncio.start_unix_server(
            self._serve, path=str(self.path), limit=MAX_REQUEST * 2
        )
        os.chmod(self.path, 0o660)
        self.listening.set()
        try:
            async with server:
                await server.serve_forever()
        finally:
            self.listening.clear()
            self.path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        actor = _peer_user(writer)
        try:
            async with asyncio.timeout(5):
                line = await reader.readline()
        except (TimeoutError, ConnectionError):
            reply = {"ok": False, "error": "request not received in time"}
        except ValueError:  # a line past the stream limit, with no end in sight
            await self.record(audit.Entry(actor, "control.refused", detail="oversized request"))
            reply = {"ok": False, "error": f"request longer than {MAX_REQUEST} bytes"}
        else:
            reply = await self._handle(line, actor)
        writer.write(json.dumps(reply).encode() + b"\n")
        try:
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    async def _handle(self, line: bytes, actor: str) -> dict[str, Any]:
        """The reply to one request line. What is refused is audited by what was wrong
        with it, never by its bytes: a mistyped command can hold a password."""
        if len(line) > MAX_REQUEST:
            return {"ok": False, "error": f"request longer than {MAX_REQUEST} bytes"}
        known = ", ".join(sorted(self.handlers))
        try:
            request = json.loads(line)
        except ValueError:
            return await self._refuse(actor, "not JSON", f'send {{"command": one of {known}}}')
        command = request.get("command") if isinstance(request, dict) else None
        if not isinstance(command, str) or command not in self.handlers:
            shown = command if isinstance(command, str) and COMMAND.fullmatch(command) else None
            why = f"unknown command {shown!r}" if shown else "no command"
            return await self._refuse(actor, why, f"{why}; one of {known}")
        camera = request.get("camera")
        if camera is not None and not isinstance(camera, str):
            return await self._refuse(actor, "camera not a name", "camera must be a name")
        await self.record(audit.Entry(actor, "control." + command, camera or ""))
        try:
            return {"ok": True, **await self.handlers[command](request, actor)}
        except VeilcamError as exc:
            return {"ok": False, "error": str(exc)}
        except Exception:  # a bug must still answer, and leave the daemon serving
            log.exception("control command %s failed", command)
            return {"ok": False, "error": f"{command} failed inside the daemon; see its log"}

    async def _refuse(self, actor: str, why: str, error: str) -> dict[str, Any]:
        await self.record(audit.Entry(actor, "control.refused", detail=why))
        return {"ok": False, "error": error}
