"""A simulated fridge sensor board speaking the sensor line over a pseudo-terminal.

The daemon reads it through pyserial exactly as it reads real hardware. The
board holds its output until the host has set its clock (``$VCS``) after each
(re)connection, like the firmware, and writes every line it emits, good or
deliberately broken, to a JSON-lines log that tests compare the database with.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import termios
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from veilcam.errors import ConfigError, ProtocolError
from veilcam.sensors.protocol import (
    VERSION,
    Configure,
    Door,
    Heartbeat,
    LineSplitter,
    Message,
    SetClock,
    Temperature,
    format_line,
    parse_line,
)

log = logging.getLogger(__name__)

FIRMWARE = "vcsim-1.0"
AMBIENT = 21.0
BOOT_TIME = 2.0  # simulated seconds a board runs at least between two resets


@dataclass
class FaultRates:
    """Probabilities per emitted line (noise, checksum, split, prefix) or per second."""

    noise: float = 0.0  # a garbage line between two lines
    noise_prefix: float = 0.0  # garbage glued in front of a valid line
    bad_checksum: float = 0.0  # one character of a line flipped
    split: float = 0.0  # a line written in two parts with a pause between
    unplug: float = 0.0  # per second: the cable is pulled, then put back
    reset: float = 0.0  # per second: the board reboots (sequence and uptime restart)
    disconnect: float = 0.0  # per reading: the probe reads -127 °C

    @classmethod
    def parse(cls, spec: str) -> FaultRates:
        """'noise=0.05,bad_checksum=0.02' -> FaultRates."""
        rates = cls()
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, value = part.partition("=")
            if not hasattr(rates, name):
                raise ConfigError(f"unknown fault {name!r}; known: {', '.join(vars(rates))}")
            try:
                setattr(rates, name, float(value))
            except ValueError:
                raise ConfigError(f"fault {name}: {value!r} is not a number") from None
        return rates


@dataclass(frozen=True, slots=True)
class Scenario:
    """What goes wrong on the simulated board, in simulated seconds from its start."""

    name: str
    description: str
    compressor_off: tuple[tuple[float, float], ...] = ()  # probe 1: (start, length)
    defrost_every: float = 0.0  # probe 1 warms by its defrost heater this often...
    defrost_for: float = 0.0  # ...for this long
    door_held: tuple[tuple[float, float], ...] = ()  # door 1 held open: (start, length)
    disconnected: tuple[tuple[float, float], ...] = ()  # probe 1 reads -127.00 °C
    faults: str = ""  # extra line faults, as for --faults


HOUR = 3600.0
SCENARIOS = {
    s.name: s
    for s in (
        Scenario("normal-day", "a day of ordinary trade: the thermostat cycles, doors open"),
        Scenario(
            "warm-night",
            "the chiller's compressor fails an hour in and stays off for six hours",
            compressor_off=((1 * HOUR, 6 * HOUR),),
        ),
        Scenario(
            "door-left-open",
            "the chiller door is left open for 20 minutes, half an hour in",
            door_held=((0.5 * HOUR, 20 * 60.0),),
        ),
        Scenario(
            "defrost-cycles",
            "the chiller defrosts 20 minutes every 6 hours from the start, warming as it should",
            defrost_every=6 * HOUR,
            defrost_for=20 * 60.0,
        ),
        Scenario(
            "probe-disconnected",
            "the chiller's probe wire breaks an hour in, for 40 minutes",
            disconnected=((1 * HOUR, 40 * 60.0),),
        ),
        Scenario(
            "noisy-line",
            "a long serial cable by a compressor: garbage, bad checksums, short unplugs",
            faults="noise=0.05,bad_checksum=0.05,split=0.02,noise_prefix=0.02,unplug=0.002",
        ),
    )
}


def _within(t: float, spans: tuple[tuple[float, float], ...]) -> bool:
    return any(start <= t < start + length for start, length in spans)


@dataclass
class Cabinet:
    """One probe's thermal model: thermostat-driven compressor, heat in through walls and door."""

    probe: str
    low: float  # compressor stops below
    high: float  # compressor starts above
    cooling: float  # °C/s while the compressor runs
    temp: float = field(default=0.0)
    compressor: bool = False

    def __post_init__(self) -> None:
        if self.temp == 0.0:
            self.temp = (self.low + self.high) / 2

    def step(
        self, dt: float, door_open: bool, rng: random.Random, broken: bool = False, heat: float = 0
    ) -> None:
        leak = 0.0006 + (0.003 if door_open else 0.0)
        self.temp += (
            (AMBIENT - self.temp) * leak * dt
            - (self.cooling if self.compressor and not broken else 0) * dt
            + heat * dt
        )
        if self.temp > self.high:
            self.compressor = True
        elif self.temp < self.low:
            self.compressor = False

    def reading(self, rng: random.Random) -> int:
        return round((self.temp + rng.gauss(0, 0.03)) * 100)


class Pty:
    """The board's end of a pseudo-terminal; ``link`` is a stable symlink to the port."""

    def __init__(self, link: Path | None) -> None:
        self.link = link
        self.master = -1
        self._slave = -1
        self.port = ""

    def open(self) -> str:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave, termios.TCSANOW)  # no echo, no CR/LF translation
        os.set_blocking(self.master, False)
        self.port = os.ttyname(self._slave)
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self.port)
            os.replace(tmp, self.link)
        return self.link.as_posix() if self.link else self.port

    def close(self) -> None:
        for fd in (self.master, self._slave):
            if fd >= 0:
                os.close(fd)
        self.master = self._slave = -1
        if self.link is not None:
            self.link.unlink(missing_ok=True)


class BoardSimulator:
    def __init__(
        self,
        link: Path | None = None,
        *,
        seed: int | None = None,
        speed: float = 1.0,
        faults: FaultRates | None = None,
        log_file: IO[str] | None = None,
        door_interval: float = 90.0,
        first_door: float | None = None,
        doors: tuple[str, ...] = ("1",),
        heartbeat: float = 10.0,
        scenario: str = "normal-day",
        wire: Callable[[bytes], None] | None = None,
        protocol: int = VERSION,
    ) -> None:
        """``wire``, if given, takes the bytes the board sends instead of the pty: for
        reading a simulated day in-process, one simulated second per ``advance``.
        ``protocol`` 1 is older firmware's XOR-8 checksum. ``first_door``: the first door
        opening that many simulated seconds after the start, not at random (the demo's)."""
        if protocol not in (1, 2):
            raise ConfigError(f"protocol version is 1 or 2, not {protocol}")
        self.protocol = protocol
        if scenario not in SCENARIOS:
            raise ConfigError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
        self.scenario = SCENARIOS[scenario]
        self.wire = wire
        if self.scenario.faults:
            extra = FaultRates.parse(self.scenario.faults)
            faults = faults or FaultRates()
            for name, value in vars(extra).items():
                setattr(faults, name, max(getattr(faults, name), value))
        self.rng = random.Random(seed)
        self.speed = speed
        self.faults = faults or FaultRates()
        self.log_file = log_file
        self.door_interval = door_interval
        self.heartbeat = heartbeat
        self.cabinets = [
            Cabinet("1", low=2.5, high=4.5, cooling=0.03),
            Cabinet("2", low=-22.0, high=-19.0, cooling=0.03),
        ]
        self.door_ids = doors
        self.pty = Pty(link)
        self.period_ms = 1000
        self.seq = 0
        self.boot_at = 0.0  # simulated seconds
        self.sim_t = 0.0
        self.door_open: dict[str, float | None] = dict.fromkeys(doors)  # closes at
        self.next_door = (
            first_door if first_door is not None else self.rng.expovariate(1 / door_interval)
        )
        self.attached = asyncio.Event()
        self._host = LineSplitter()
        self.host_clock: SetClock | None = None
        self._first_reading = True
        self._door_changes: list[tuple[str, bool]] = []
        self._next_sample = self._next_beat = 0.0

    # -- log and wire -----------------------------------------------------------

    def _log(self, kind: str, **fields: Any) -> None:
        if self.log_file is not None:
            self.log_file.write(
                json.dumps({"kind": kind, "sim_t": round(self.sim_t, 3), **fields}) + "\n"
            )
            self.log_file.flush()

    def _write(self, data: bytes) -> bool:
        if self.wire is not None:
            self.wire(data)
            return True
        try:
            return os.write(self.pty.master, data) == len(data)
        except BlockingIOError:
            return False  # nobody reading and the pty buffer is full

    async def _emit(self, msg: Message) -> None:
        line = format_line(msg, self.protocol)
        mtype = line[3:4].decode()
        fault = getattr(msg, "fault", None)
        f, r = self.faults, self.rng.random
        if r() < f.noise:
            junk = bytes(
                self.rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,.#") for _ in range(12)
            )
            if self._write(junk + b"\r\n"):
                self._log("noise", line=junk.decode())
        if r() < f.bad_checksum:
            pos = self.rng.randrange(4, len(line) - 5)
            broken = line[:pos] + bytes([line[pos] ^ 0x01]) + line[pos + 1 :]
            if self._write(broken):
                self._log(
                    "bad_checksum", line=broken.decode("ascii", "replace").strip(), type=mtype
                )
            return
        if r() < f.noise_prefix:
            line = b"~x!" + line
            kind = "sent_with_noise"
        else:
            kind = "sent"
        if r() < f.split:
            cut = self.rng.randrange(2, len(line) - 2)
            ok = self._write(line[:cut])
            await asyncio.sleep(self.rng.uniform(0.005, 0.05))
            ok = self._write(line[cut:]) and ok
            split = True
        else:
            ok, split = self._write(line), False
        entry = {"line": line.decode().strip(), "type": mtype, "seq": msg.seq, "split": split}
        if isinstance(msg, Temperature):
            entry |= {"probe": msg.probe, "centi_c": msg.centi_c, "fault": fault}
        elif isinstance(msg, Door):
            entry |= {"door": msg.door, "open": msg.open}
        self._log(kind if ok else "dropped", **entry)

    def _next(self) -> tuple[int, int]:
        seq, self.seq = self.seq, (self.seq + 1) % 65536
        return seq, int((self.sim_t - self.boot_at) * 1000)

    # -- host commands ----------------------------------------------------------

    def _on_host_data(self) -> None:
        try:
            data = os.read(self.pty.master, 1024)
        except (BlockingIOError, OSError):
            return
        for item in self._host.feed(data):
            if isinstance(item, ProtocolError):
                continue
            try:
                msg = parse_line(item)
            except ProtocolError as exc:
                self._log("host_error", error=str(exc))
                continue
            if isinstance(msg, SetClock):
                self.host_clock = msg
                self.attached.set()
                self._log("host", type="S", unix_ms=msg.unix_ms)
            elif isinstance(msg, Configure):
                self.period_ms = max(100, msg.period_ms)
                self._log("host", type="C", period_ms=msg.period_ms)

    def _plug(self) -> str:
        port = self.pty.open()
        self.attached.clear()
        asyncio.get_running_loop().add_reader(self.pty.master, self._on_host_data)
        return port

    def _unplug(self) -> None:
        if self.pty.master >= 0:
            asyncio.get_running_loop().remove_reader(self.pty.master)
        self.pty.close()

    # -- the board's life -------------------------------------------------------

    async def start(self) -> str:
        """Open the port; return the path the daemon should read."""
        port = self._plug()
        self._log("plug", port=port)
        return port

    async def run(self, duration: float | None = None) -> None:
        """Emit readings until ``duration`` real seconds have passed (or forever)."""
        loop = asyncio.get_running_loop()
        if self.pty.master < 0:
            await self.start()
        end = None if duration is None else loop.time() + duration
        tick = 0.05
        try:
            while end is None or loop.time() < end:
                await asyncio.sleep(tick)
                self.advance(tick * self.speed)
                if self.rng.random() < self.faults.unplug * tick:
                    await self._unplug_for(self.rng.uniform(0.5, 2.0))
                    continue
                if (
                    self.rng.random() < self.faults.reset * tick
                    and self.sim_t - self.boot_at > BOOT_TIME
                ):
                    self._reset()
                if self.attached.is_set():
                    await self.send_due()
        finally:
            self._log("stop")

    def advance(self, seconds: float) -> None:
        """Simulated time moves on: physics in steps of at most a simulated second, whatever
        the speed, for a door open for ten seconds must not heat the fridge for a whole tick."""
        steps = max(1, math.ceil(seconds))
        dt = seconds / steps
        for _ in range(steps):
            self.sim_t += dt
            self._doors_step()
            self._physics(dt)

    async def send_due(self) -> None:
        """Send the door changes since the last call, and a heartbeat and readings if due."""
        for door, is_open in self._door_changes:
            await self._emit(Door(*self._next(), door, is_open))
        self._door_changes.clear()
        if self.sim_t >= self._next_beat:
            await self._emit(
                Heartbeat(*self._next(), FIRMWARE, len(self.cabinets), len(self.door_ids))
            )
            self._next_beat = self.sim_t + self.heartbeat
        if self.sim_t >= self._next_sample:
            for cab in self.cabinets:
                await self._emit(self._reading(cab))
            self._first_reading = False
            self._next_sample = self.sim_t + self.period_ms / 1000

    def close(self) -> None:
        """Pull the cable for good (after the reader has drained what was sent)."""
        self._unplug()

    def _physics(self, dt: float) -> None:
        sc, t = self.scenario, self.sim_t
        for cab in self.cabinets:
            first = cab is self.cabinets[0]
            defrosting = first and sc.defrost_every > 0 and t % sc.defrost_every < sc.defrost_for
            cab.step(
                dt,
                # the board's door switch is on the chiller; the freezer is a chest
                first and any(v is not None for v in self.door_open.values()),
                self.rng,
                broken=first and (_within(t, sc.compressor_off) or defrosting),
                heat=0.002 if defrosting else 0.0,
            )

    def _doors_step(self) -> None:
        first = self.door_ids[0]
        if _within(self.sim_t, self.scenario.door_held):
            if self.door_open[first] is None:
                self._door_changes.append((first, True))
            self.door_open[first] = self.sim_t + 1  # held: closes only once let go
        for door, closes in self.door_open.items():
            if closes is not None and self.sim_t >= closes:
                self.door_open[door] = None
                self._door_changes.append((door, False))
        if self.sim_t >= self.next_door:
            door = self.rng.choice(self.door_ids)
            if self.door_open[door] is None:
                self.door_open[door] = self.sim_t + self.rng.uniform(3, 25)
                self._door_changes.append((door, True))
            self.next_door = self.sim_t + self.rng.expovariate(1 / self.door_interval)

    def _reading(self, cab: Cabinet) -> Temperature:
        seq, up = self._next()
        if self._first_reading:
            # A DS18B20 read before its first conversion finishes says 85.00 °C.
            return Temperature(seq, up, cab.probe, None, "power_on_value")
        if self.rng.random() < self.faults.disconnect or (
            cab is self.cabinets[0] and _within(self.sim_t, self.scenario.disconnected)
        ):
            return Temperature(seq, up, cab.probe, None, "probe_disconnected")
        return Temperature(seq, up, cab.probe, cab.reading(self.rng), None)

    def _reset(self) -> None:
        self.seq = 0
        self.boot_at = self.sim_t
        self._first_reading = True
        self._log("reset")

    async def _unplug_for(self, seconds: float) -> None:
        self._unplug()
        self._log("unplug")
        await asyncio.sleep(seconds)
        port = self._plug()
        self._log("plug", port=port)
