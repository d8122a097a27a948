"""The command line's end of the control socket: one request to the running daemon."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from veilcam.control.server import socket_path
from veilcam.errors import ControlError


async def call(
    data_dir: Path, request: dict[str, Any], reply_within: float = 60.0
) -> dict[str, Any]:
    path = socket_path(data_dir)
    try:
        reader, writer = await asyncio.open_unix_connection(str(path))
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise ControlError(
            f"no veilcam daemon is running for {data_dir} ({path}: {exc.strerror}); "
            "start it with `veilcam run` or `veilcam demo`"
        ) from exc
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        async with asyncio.timeout(reply_within):
            line = await reader.readline()
    finally:
        writer.close()
    if not line:
        raise ControlError("the daemon closed the connection without replying")
    reply: dict[str, Any] = json.loads(line)
    if not reply.get("ok"):
        raise ControlError(reply.get("error", "the daemon refused the request"))
    return reply
