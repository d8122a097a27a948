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

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def socket_path(data_dir: Path) -> Path:
    return Path(data_dir) / SOCKET_NAME


def _peer_user(writer: asyncio.StreamWriter) -> str:
    sock = writer.get_extra_info("socket")
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
        return "cli:" + pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        return "cli:unknown"


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
        if len(line) > MAX_REQUEST:
            return {"ok": False, "error": f"request longer than {MAX_REQUEST} bytes"}
        try:
            request = json.loads(line)
            command = request["command"]
            handler = self.handlers[command]
        except (ValueError, KeyError, TypeError):
            detail = line[:120].decode("utf-8", "replace")
            await self.record(audit.Entry(actor, "control.refused", detail=detail))
            known = ", ".join(sorted(self.handlers))
            return {"ok": False, "error": f'not a request; send {{"command": one of {known}}}'}
        await self.record(
            audit.Entry(actor, "control." + command, str(request.get("camera") or ""))
        )
        try:
            return {"ok": True, **await handler(request)}
        except VeilcamError as exc:
            return {"ok": False, "error": str(exc)}
