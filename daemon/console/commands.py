"""The console's commands on the appliance itself: health, readings, cameras, retention,
the database, the configuration, accounts and the factory reset. None prints, sends or keeps
a picture: the camera commands answer with figures only."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import time
from typing import TYPE_CHECKING

from veilcam import certificate
from veilcam.config import load
from veilcam.errors import ConfigError, StoreError, VeilcamError
from veilcam.field.doctor import Doctor, Machine
from veilcam.field.profile import FieldProfile
from veilcam.field.reset import factory_reset as wipe
from veilcam.store.database import opened
from veilcam.store.status import read_offline
from veilcam.store.verify import verify

if TYPE_CHECKING:
    from veilcam.console.session import Session

CONFIRM_RESET = "FACTORY RESET"
SECRET_KEY = re.compile(r"^(\s*[\w.-]*(password|secret|token|key)[\w.-]*\s*=\s*).+$", re.I)


def _ago(t: float) -> str:
    s = max(0, int(time.time() - t))
    return f"{s} s ago" if s < 120 else f"{s // 60} min ago" if s < 7200 else f"{s // 3600} h ago"


async def status(c: Session, args: list[str]) -> None:
    live = await c.backend.live_status()
    data_dir = c.backend.data_dir
    if live is not None:
        c.say(f"daemon: running, veilcam {live.get('version', '?')}, overall {live['overall']}")
        health = live["health"]
    else:
        try:
            offline = read_offline(data_dir)
        except StoreError as exc:
            c.say(f"daemon: not running; {exc}")
            offline = {"health": {}, "overall": "unknown"}
        c.say(f"daemon: not running; last recorded state {offline['overall']}")
        health = offline["health"]
    for name, h in sorted(health.items()):
        c.say(f"  {h['state']:8} {name}: {h['message']}")
    board = c.config.vision.board if c.config else "generic"
    d = Doctor(FieldProfile.load(board), c.config_path, Machine(c.root), data_dir=data_dir)
    d.check_config()
    for f in d.check_models() + d.check_disk() + d.check_clock() + d.check_certificate():
        c.say(f"  {f.level:8} {f.check}: {f.message}")
    crt, _ = certificate.paths(data_dir)
    if crt.exists():
        fp = certificate.fingerprint(crt)  # 95 characters: two lines of 16 bytes each
        c.say(f"  web UI certificate SHA-256:\n    {fp[:47]}\n    {fp[48:]}")


def _latest(c: Session, since_id: tuple[int, int]) -> tuple[list[str], tuple[int, int]]:
    with opened(c.backend.data_dir) as db:
        temps = db.conn.execute(
            "SELECT probe, centi_c, received_at, id FROM temperature_readings WHERE id IN"
            " (SELECT max(id) FROM temperature_readings WHERE id > ? GROUP BY probe)"
            " ORDER BY probe",
            (since_id[0],),
        ).fetchall()
        doors = db.conn.execute(
            "SELECT door, state, received_at, id FROM door_events WHERE id IN"
            " (SELECT max(id) FROM door_events WHERE id > ? GROUP BY door) ORDER BY door",
            (since_id[1],),
        ).fetchall()
    lines = [f"  probe {p:12} {v / 100:7.2f} °C   {_ago(t)}" for p, v, t, _ in temps]
    lines += [f"  door  {d:12} {s:>7}      {_ago(t)}" for d, s, t, _ in doors]
    top = (
        max([since_id[0], *(r[3] for r in temps)]),
        max([since_id[1], *(r[3] for r in doors)]),
    )
    return lines, top


async def sensors(c: Session, args: list[str]) -> None:
    watch = float(args[0]) if args else 0.0
    if not 0 <= watch <= 600:
        raise ValueError("watch for 0 to 600 seconds")
    lines, top = await asyncio.to_thread(_latest, c, (0, 0))
    c.say("\n".join(lines) if lines else "no readings yet (is the sensor board connected?)")
    end = time.monotonic() + watch
    while time.monotonic() < end:
        await asyncio.sleep(min(2.0, max(0.0, end - time.monotonic())))
        lines, top = await asyncio.to_thread(_latest, c, top)
        if lines:
            c.say("\n".join(lines))


def _camera_name(c: Session, args: list[str], usage: str) -> str:
    if not args:
        raise ValueError(f"usage: {usage}; cameras: {', '.join(c.cameras) or 'none'}")
    if c.cameras and args[0] not in c.cameras:
        raise ValueError(f"no camera {args[0]!r}; cameras: {', '.join(c.cameras)}")
    return args[0]


async def camera(c: Session, args: list[str]) -> None:
    if not args or args[0] != "test":
        raise ValueError("usage: camera test NAME")
    name = _camera_name(c, args[1:], "camera test NAME")
    c.say(f"testing {name}: one frame through its redaction; nothing is kept")
    t = await c.backend.camera_test(name)
    found = ", ".join(f"{k} {v}" for k, v in sorted(t["regions"].items())) or "nothing"
    c.say(f"  frame        {t['width']}x{t['height']} ({t['purpose']} camera)")
    c.say(f"  redaction    {t['redaction']}; redacted regions: {found}")
    c.say(
        f"  exposure     mean level {t['mean_level']:.0f}/255, dark {t['dark_share']:.1%},"
        f" blown {t['bright_share']:.1%}"
    )
    c.say(f"  focus        {t['focus']:.0f} (variance of the Laplacian)")
    total = sum(t["timings_ms"].values())
    c.say(f"  time         {total:.0f} ms on {', '.join(t['models']) or 'no models'}")
    for advice in t["advice"]:
        c.say(f"  advice       {advice}")


async def calibrate(c: Session, args: list[str]) -> None:
    empty = "--empty" in args
    name = _camera_name(c, [a for a in args if a != "--empty"], "calibrate NAME [--empty]")
    got = await c.backend.calibrate(name, empty)
    what = "empty picture" if got.get("empty") else "reference"
    c.say(f"{what} of {got['camera']} taken ({got['width']}x{got['height']})")


async def retention(c: Session, args: list[str]) -> None:
    if args != ["run"]:
        raise ValueError("usage: retention run")
    r = await c.backend.retention_run()
    c.say(
        f"retention: {r['expired_media']} pictures and {r['expired_rows']} records past their"
        f" limit deleted; {r['space_media']} pictures deleted for space;"
        f" {r['free_bytes'] // 2**20} MB free"
    )


async def db(c: Session, args: list[str]) -> None:
    if args != ["check"]:
        raise ValueError("usage: db check")
    keep = c.config.retention.seconds("audit_log") if c.config else None
    problems, summary = await asyncio.to_thread(verify, c.backend.data_dir, keep, c.actor)
    for line in summary:
        c.say(f"  {line}")
    for line in problems:
        c.say(f"  PROBLEM {line}")
    c.say("db check: " + (f"{len(problems)} problem(s)" if problems else "ok"))


async def config(c: Session, args: list[str]) -> None:
    if args == ["check"]:
        try:
            cfg = load(c.config_path)
        except (ConfigError, OSError) as exc:
            c.say(f"config: {exc}")
            return
        c.say(f"{c.config_path}: ok ({len(cfg.cameras)} cameras, {len(cfg.cabinets)} cabinets)")
        c.config = cfg
    elif args == ["show"]:
        text = c.config_path.read_text()
        c.say("\n".join(SECRET_KEY.sub(r"\1(hidden)", ln) for ln in text.splitlines()))
    else:
        raise ValueError("usage: config check|show")


async def users(c: Session, args: list[str]) -> None:
    if len(args) != 2 or args[0] != "reset-admin":
        raise ValueError("usage: users reset-admin NAME")
    name = args[1]
    c.say(
        f"This gives administrator {name} a new one-time password and signs them out"
        " everywhere. Both administrators are told (alerts page and e-mail)."
    )
    again = await c.ask(f"type {name} again to confirm: ")
    if again is None or again.strip() != name:
        await c.backend.record("console.reset-admin.cancelled", name)
        c.say("nothing done")
        return
    password = await c.backend.reset_admin(name)
    c.say(f"one-time password for {name}: {password}")
    c.say("Give it to them in person; they choose their own at the next sign-in.")


def _stop_daemon() -> None:
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        raise StoreError("the daemon is running and there is no systemctl here: stop it first")
    subprocess.run([systemctl, "stop", "veilcam.service"], check=True, timeout=60)


async def factory_reset(c: Session, args: list[str]) -> None:
    c.say(
        "FACTORY RESET destroys the keys (no picture, reference or face template can be"
        " decrypted after that, from this card or any copy of it), then deletes the"
        " database, every picture, every account and the audit log. The configuration"
        " and the label's recovery code stay."
    )
    typed = await c.ask(f"type {CONFIRM_RESET} to confirm: ")
    if typed is None or typed.strip() != CONFIRM_RESET:
        await c.backend.record("console.factory-reset.cancelled")
        c.say("nothing done")
        return
    await c.backend.record("console.factory-reset", detail="confirmed; keys destroyed next")
    if c.backend.daemon_running and c.root == c.root.__class__("/"):
        await asyncio.to_thread(_stop_daemon)
    try:
        counts = await asyncio.to_thread(wipe, c.backend.data_dir)
    except VeilcamError as exc:
        c.say(f"factory-reset: {exc}")
        return
    c.say(
        f"factory reset done: {counts['keys_destroyed']} keys destroyed,"
        f" {counts['files_removed']} files removed. Start the daemon to set the board up."
    )
    with contextlib.suppress(Exception):
        c.backend.session = None
    c.actor = c.role = ""
