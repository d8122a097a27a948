"""The technician's serial console: a sign-in, then a line shell.

Sign-in takes a technician or administrator account (the web UI's) or the one-time recovery
code on the device label (user name ``recovery``). A failed sign-in costs a doubling delay
(1, 2, 4 ... up to 30 seconds) before the next prompt, from the fifth in a row a minute
each; each is audited. Every command is audited as ``console:<user>``
before it runs; an idle console signs out after ``idle`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Awaitable, Callable

from veilcam import __version__
from veilcam.console import commands, system
from veilcam.console.session import Session
from veilcam.console.terminal import Idle
from veilcam.errors import LoginRefused, VeilcamError
from veilcam.field.console_ops import EXPIRED, SESSION_GONE

log = logging.getLogger(__name__)

FAIL_DELAY_MAX = 30.0
FAILS_BEFORE_PAUSE = 5
PAUSE = 60.0

Command = Callable[[Session, list[str]], Awaitable[None]]

HELP = [
    ("help", "this list"),
    ("status", "health of cameras, sensors, models, disk, clock; certificate fingerprint"),
    ("sensors [SECONDS]", "the latest temperature and door readings; watch for SECONDS"),
    ("camera test NAME", "one frame through the redaction: detections, exposure, focus"),
    ("calibrate NAME [--empty]", "a fridge camera's reference (refused if anyone is in view)"),
    ("net", "addresses and routes"),
    ("net set IFACE ADDRESS/PREFIX [GATEWAY]", "a fixed address; net dhcp IFACE: back to DHCP"),
    ("time", "the clock and its synchronisation"),
    ("time set 'YYYY-MM-DD HH:MM'", "set the clock (UTC); time sync: turn NTP on"),
    ("logs [LINES] [--follow [SECONDS]]", "the daemon's log"),
    ("retention run", "delete now what reached its limit"),
    ("db check", "database integrity, every picture decrypts, the audit chain"),
    ("config check|show", "validate or show the configuration (secrets left out)"),
    ("users reset-admin NAME", "a one-time password for an administrator (confirmed)"),
    ("factory-reset", "destroy the keys, then wipe all data (typed confirmation)"),
    ("exit", "sign out"),
]

# What Tab completes: each command as it is typed, then the camera names after it.
WORDS = [
    *("help", "status", "sensors", "camera test", "calibrate", "net", "net set", "net dhcp"),
    *("time", "time set", "time sync", "logs", "logs --follow", "retention run", "db check"),
    *("config check", "config show", "users reset-admin", "factory-reset", "exit"),
]


class Console(Session):
    """The session with its sign-in and command loop."""

    async def run(self) -> None:
        """Sessions until the end of input."""
        while not self.done:
            try:
                if await self.sign_in():
                    await self.shell()
            except Idle:
                if self.actor:
                    await self._sign_out("idle")
                self.say("\nsigned out: idle")

    async def sign_in(self) -> bool:
        self.say(f"veilcam {__version__} serial console on {self.port}")
        fails = 0
        while True:
            user = await self.term.read_line("login: ", idle=None)
            if user is None:
                self.done = True
                return False
            user = user.strip()
            if not user:
                continue
            password = await self.ask("password: ", secret=True)
            if password is None:
                self.done = True
                return False
            try:
                got = await self.backend.login(user, password, self.port)
            except LoginRefused as exc:
                if exc.reason == EXPIRED:  # the password was right: no delay, and say why
                    self.say(EXPIRED)
                    continue
                fails += 1
                delay = min(FAIL_DELAY_MAX, self.fail_delay * 2 ** (fails - 1))
                if fails >= FAILS_BEFORE_PAUSE:
                    delay = PAUSE
                await asyncio.sleep(delay)
                self.say("login refused")
                continue
            except VeilcamError as exc:
                self.say(f"cannot sign in: {exc}")
                continue
            self.actor, self.role = got["actor"], got["role"]
            where = "through the daemon" if self.backend.session else "on the store (no daemon)"
            self.say(f"signed in as {self.actor} ({self.role}), {where}. Type help.")
            self.term.set_words(self._words())
            return True

    def _words(self) -> list[str]:
        words = list(WORDS)
        words += [f"camera test {c}" for c in self.cameras]
        words += [f"calibrate {c}" for c in self.cameras]
        return sorted(set(words))

    async def _sign_out(self, why: str) -> None:
        try:
            await self.backend.logout()
        except VeilcamError as exc:
            log.warning("console sign-out not recorded: %s", exc)
        log.info("console: %s signed out (%s)", self.actor, why)
        self.actor = self.role = ""

    async def shell(self) -> None:
        while self.actor:
            line = await self.ask(f"{self.actor.removeprefix('console:')}@veilcam> ")
            if line is None:
                await self._sign_out("end of input")
                self.done = True
                return
            try:
                words = shlex.split(line)
            except ValueError as exc:
                self.say(f"cannot read that line: {exc}")
                continue
            if not words:
                continue
            if words[0] in ("exit", "logout", "quit"):
                await self._sign_out("exit")
                self.say("signed out")
                return
            await self.dispatch(words)

    async def dispatch(self, words: list[str]) -> None:
        name, args = words[0], words[1:]
        fn = COMMANDS.get(name)
        try:
            if fn is None:
                # Audited without its words: a password typed at the wrong prompt is one.
                await self.backend.record("console.command.unknown")
                self.say(f"unknown command {name!r}; type help")
                return
            await self.backend.record("console.command", name, shlex.join(words)[:200])
            await fn(self, args)
        except VeilcamError as exc:
            self.say(f"{name}: {exc}")
            if SESSION_GONE in str(exc):  # the daemon restarted, or the session ran out
                self.actor = self.role = ""
                self.say("signed out: sign in again")
        except (OSError, ValueError) as exc:
            self.say(f"{name}: {exc}")


async def cmd_help(c: Session, args: list[str]) -> None:
    width = max(len(h[0]) for h in HELP)
    for usage, what in HELP:
        if width + 2 + len(what) <= c.term.width:
            c.say(f"{usage:{width}}  {what}")
        else:
            c.say(f"{usage}\n    {what}")


COMMANDS: dict[str, Command] = {
    "help": cmd_help,
    "status": commands.status,
    "sensors": commands.sensors,
    "camera": commands.camera,
    "calibrate": commands.calibrate,
    "retention": commands.retention,
    "db": commands.db,
    "config": commands.config,
    "users": commands.users,
    "factory-reset": commands.factory_reset,
    "net": system.net,
    "time": system.time,
    "logs": system.logs,
}
