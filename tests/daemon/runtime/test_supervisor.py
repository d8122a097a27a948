"""The supervisor: order, restart with back-off, health, sd_notify, control socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import veilcam_native
from tests.support.aio import settle, until
from tests.support.daemon import config_for
from veilcam.clock import FakeClock
from veilcam.control.client import call
from veilcam.demo.config import assets
from veilcam.errors import ControlError
from veilcam.health import Health
from veilcam.runtime.context import App
from veilcam.runtime.sdnotify import Notifier
from veilcam.runtime.supervisor import BACKOFF_MIN, running, supervise
from veilcam.store.status import read_offline

DEMO_ASSETS = assets()


async def test_failing_service_is_restarted_with_backoff_and_reported(clock: FakeClock) -> None:
    health = Health(clock)
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise RuntimeError(f"boom {runs}")
        await asyncio.Event().wait()

    restarts: dict[str, int] = {}
    task = asyncio.create_task(supervise("flaky", flaky, health, clock, restarts))
    await settle()
    status = health.get("service:flaky")
    assert status is not None and status.state == "error" and "boom 1" in status.message
    assert "restarting in 1s" in status.message
    clock.advance(BACKOFF_MIN)  # the first back-off: restarted, fails again
    await settle()
    assert runs == 2 and "restarting in 2s" in health.get("service:flaky").message  # type: ignore[union-attr]
    clock.advance(BACKOFF_MIN)  # half the second back-off: still waiting
    await settle()
    assert runs == 2
    clock.advance(BACKOFF_MIN)
    await settle()
    assert runs == 3 and restarts == {"flaky": 2}
    assert health.get("service:flaky").state == "ok"  # type: ignore[union-attr]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_services_start_and_stop_and_others_keep_running(
    data_dir: Path, clock: FakeClock
) -> None:
    events: list[str] = []

    async def first(app: Any) -> None:
        events.append("first start")
        try:
            await asyncio.Event().wait()
        finally:
            events.append("first stop")

    async def second(app: Any) -> None:
        events.append("second start")
        try:
            await asyncio.Event().wait()
        finally:
            events.append("second stop")

    async def broken(app: Any) -> None:
        raise OSError("device gone")

    async with running(
        config_for(data_dir),
        clock=clock,
        extra=[("first", first), ("second", second), ("broken", broken)],
    ) as app:
        await until(lambda: restarted(app, 1))
        clock.advance(BACKOFF_MIN)
        await until(lambda: restarted(app, 2))
        assert events == ["first start", "second start"]
        reply = await call(data_dir, {"command": "capture", "camera": "fridge-1"})
        assert len(reply["media_id"]) == 32
    assert events[2:] == ["second stop", "first stop"]  # reverse order
    assert not (data_dir / "control.sock").exists()


async def test_control_socket_refuses_unknown_things_and_audits(data_dir: Path) -> None:
    async with running(config_for(data_dir)):
        with pytest.raises(ControlError, match="no camera named 'nope'"):
            await call(data_dir, {"command": "capture", "camera": "nope"})
        with pytest.raises(ControlError, match="no command; one of"):
            await call(data_dir, {"command": "rm -rf"})
        status = await call(data_dir, {"command": "status"})
        assert status["live"]["kernels"] == veilcam_native.IMPLEMENTATION
    conn = sqlite3.connect(data_dir / "veilcam.db")
    actions = [
        (r[0], r[1]) for r in conn.execute("SELECT actor, action FROM audit_log ORDER BY id")
    ]
    conn.close()
    assert actions[0] == ("system", "daemon.start")
    assert {"control.capture", "control.refused", "control.status"} <= {a for _, a in actions}
    assert all(actor.startswith("cli:") for actor, a in actions if a.startswith("control."))
    assert actions[-1] == ("system", "daemon.stop")


async def test_control_socket_findings_of_the_outside_probe(data_dir: Path) -> None:
    """Issue 14, finding 11: a malformed request's bytes are not audited (a mistyped
    users.add held its password); the actor is the socket peer's user, whatever the request
    says; a camera given as an object gets a reply, not a closed connection."""
    import pwd

    me = "cli:" + pwd.getpwuid(os.getuid()).pw_name
    async with running(config_for(data_dir)):
        with pytest.raises(ControlError, match="unknown command 'users.ad'"):
            await call(
                data_dir,
                {"command": "users.ad", "username": "x", "password": "hunter2-secret-pw"},
            )
        reader, writer = await asyncio.open_unix_connection(str(data_dir / "control.sock"))
        writer.write(b'{"command": "users.add", "password": "hunter2-secret-pw"\n')
        await writer.drain()
        reply = json.loads(await reader.readline())
        assert reply["ok"] is False and '"command"' in reply["error"]
        writer.close()
        with pytest.raises(ControlError, match="camera must be a name"):
            await call(data_dir, {"command": "capture", "camera": {"a": 1}})
        with pytest.raises(ControlError, match="camera must be a name"):
            await call(data_dir, {"command": "capture", "camera": ["fridge-1"]})
        await call(
            data_dir,
            {
                "command": "users.add",
                "actor": "someone-else",
                "username": "maria",
                "role": "manager",
                "password": "correct horse battery",
            },
        )
        status = await call(data_dir, {"command": "status"})  # still serving
        assert status["ok"]
    conn = sqlite3.connect(data_dir / "veilcam.db")
    rows = conn.execute("SELECT actor, action, object, detail FROM audit_log").fetchall()
    conn.close()
    assert "hunter2" not in repr(rows)
    assert (me, "user.add", "maria", "role manager") in rows
    assert ("cli:unknown", "control.refused", None, "not JSON") not in rows
    assert (me, "control.refused", "", "not JSON") in rows or (
        me,
        "control.refused",
        None,
        "not JSON",
    ) in rows
    assert not any("someone-else" in str(r) for r in rows)


async def test_control_without_daemon_says_so(data_dir: Path) -> None:
    with pytest.raises(ControlError, match="no veilcam daemon is running"):
        await call(data_dir, {"command": "status"})


async def test_sd_notify_ready_watchdog_stopping(
    data_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    messages: list[str] = []

    def received() -> list[str]:
        with contextlib.suppress(BlockingIOError):
            while True:
                messages.append(sock.recv(1024).decode())
        return messages

    async def watched(times: int) -> bool:
        clock.advance(10)
        return received().count("WATCHDOG=1") >= times

    notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "20000000"})
    assert notifier.watchdog_interval == 10  # half systemd's 20 s
    async with running(config_for(data_dir), clock=clock, notifier=notifier):
        await until(lambda: watched(3))
    received()
    sock.close()
    assert messages[0] == "READY=1\nSTATUS=running"
    assert messages.count("WATCHDOG=1") >= 3
    assert messages[-1] == "STOPPING=1"


def test_notifier_is_silent_without_systemd() -> None:
    n = Notifier({})
    assert not n.enabled and n.watchdog_interval is None
    n.notify("READY=1")  # no socket: nothing happens, nothing raised


async def test_health_snapshot_survives_the_daemon(data_dir: Path, clock: FakeClock) -> None:
    def camera_health() -> str:
        return str(read_offline(data_dir)["health"].get("camera:fridge-1", {}).get("state"))

    async def written() -> bool:
        clock.advance(1)  # the health interval of config_for
        return await asyncio.to_thread(camera_health) == "warning"

    async with running(config_for(data_dir), clock=clock) as app:
        app.health.set("camera:fridge-1", "warning", "lens dirty")
        await until(written)
    assert camera_health() == "stopped"  # the final snapshot, written on the way out


async def test_control_socket_survives_hostile_requests(data_dir: Path) -> None:
    async with running(config_for(data_dir)):
        for payload in (
            b"x" * 200_000,
            b'{"command": "status"' + b" " * 5000 + b"}\n",
            b"\xff\xfe\n",
            b"[]\n",
        ):
            reader, writer = await asyncio.open_unix_connection(str(data_dir / "control.sock"))
            writer.write(payload)
            await writer.drain()
            reply = json.loads(await reader.readline())
            writer.close()
            assert reply["ok"] is False and reply["error"]
        assert (await call(data_dir, {"command": "status"}))["ok"]  # still serving


async def restarted(app: App, times: int) -> bool:
    return app.restarts.get("broken", 0) >= times
