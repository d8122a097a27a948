"""Async reader of the sensor line over pyserial: exclusive open, reconnect with back-off.

The port is watched with the event loop's ``add_reader``, so reading never
blocks the loop. An outage is logged once (through the health state), not on
every retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import serial

from veilcam.clock import Clock
from veilcam.errors import ProtocolError, SensorLinkError
from veilcam.health import Health
from veilcam.sensors.protocol import (
    VERSION,
    Configure,
    LineSplitter,
    Message,
    SetClock,
    format_line,
    parse_line,
    version_of,
)

log = logging.getLogger(__name__)

MIN_RECONNECT = 0.25  # seconds: whatever the configuration says, never a tighter loop
SILENCE = 30.0  # seconds without a byte before the link is reported silent
COMPONENT = "sensor_link"

Sink = Callable[[Message | ProtocolError], None]


def open_port(port: str, baudrate: int) -> serial.Serial:
    try:
        # exclusive: a second process (a stray console, an old daemon) must not share the line
        return serial.Serial(port, baudrate, timeout=0, write_timeout=1, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise SensorLinkError(f"cannot open {port}: {exc}") from exc


class SensorReader:
    def __init__(
        self,
        port: str,
        baudrate: int,
        sink: Sink,
        *,
        clock: Clock,
        health: Health,
        sample_period_ms: int = 1000,
        reconnect_max: float = 30.0,
        opener: Callable[[str, int], Any] = open_port,
        stats: Counter[str] | None = None,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.sink = sink
        self.clock = clock
        self.health = health
        self.sample_period_ms = sample_period_ms
        self.reconnect_max = reconnect_max
        self._open = opener
        self._host_seq = 0
        self.connections = 0
        # Lines in protocol version 1 (XOR-8), counted: firmware that should be updated.
        self.stats: Counter[str] = stats if stats is not None else Counter()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = 0.25
        while True:
            try:
                link = await loop.run_in_executor(None, self._open, self.port, self.baudrate)
            except SensorLinkError as exc:
                self.health.set(COMPONENT, "error", f"{exc}; retrying")
                await self.clock.sleep(delay)
                delay = min(delay * 2, max(self.reconnect_max, MIN_RECONNECT))
                continue
            delay = 0.25
            self.connections += 1
            self.health.set(COMPONENT, "ok", f"connected to {self.port}")
            splitter = LineSplitter()
            try:
                await self._session(link, splitter)
            except SensorLinkError as exc:
                self.health.set(COMPONENT, "error", f"{exc}; reconnecting")
            finally:
                link.close()
                partial = splitter.reset()
                if partial.strip():
                    self.sink(ProtocolError("partial", f"line cut by disconnect: {partial[:40]!r}"))

    def _send(self, link: Any, msg: SetClock | Configure, version: int = VERSION) -> None:
        try:
            link.write(format_line(msg, version))
        except (serial.SerialException, OSError) as exc:
            raise SensorLinkError(f"{self.port}: write failed: {exc}") from exc

    def _greet(self, link: Any, version: int) -> None:
        """Tell the board the time and the sampling period (after every connection)."""
        self._send(link, SetClock(self._next_seq(), 0, int(self.clock.now() * 1000)), version)
        self._send(link, Configure(self._next_seq(), 0, self.sample_period_ms), version)

    def _next_seq(self) -> int:
        self._host_seq = (self._host_seq + 1) % 65536
        return self._host_seq

    async def _session(self, link: Any, splitter: LineSplitter) -> None:
        loop = asyncio.get_running_loop()
        # Tell the board the time and the sampling period after every (re)connection.
        self._greet(link, VERSION)
        board_version: int | None = None
        ready = asyncio.Event()
        fd = link.fileno()
        loop.add_reader(fd, ready.set)
        try:
            while True:
                try:
                    async with asyncio.timeout(SILENCE):
                        await ready.wait()
                except TimeoutError:
                    self.health.set(
                        COMPONENT, "warning", f"no data from {self.port} for {SILENCE:.0f}s"
                    )
                    continue
                ready.clear()
                try:
                    data = link.read(4096)
                except (serial.SerialException, OSError) as exc:
                    raise SensorLinkError(f"{self.port} went away: {exc}") from exc
                if not data:
                    continue
                if (st := self.health.get(COMPONENT)) and st.state != "ok":
                    self.health.set(COMPONENT, "ok", f"connected to {self.port}")
                for item in splitter.feed(data):
                    if isinstance(item, ProtocolError):
                        self.sink(item)
                        continue
                    start = item.find(b"$VC")
                    if start > 0:  # noise glued before a line: count it, keep the line
                        self.sink(
                            ProtocolError("noise", f"noise before line: {item[:start][:20]!r}")
                        )
                        item = item[start:]
                    try:
                        msg = parse_line(item)
                    except ProtocolError as exc:
                        self.sink(exc)
                        continue
                    version = version_of(item)
                    if version == 1:
                        self.stats["protocol_v1_lines"] += 1
                    if board_version is None:
                        board_version = version
                        if version == 1:  # older firmware: say it again in its own version
                            self._greet(link, 1)
                            log.warning(
                                "%s speaks sensor protocol version 1 (XOR-8 checksum): "
                                "update its firmware",
                                self.port,
                            )
                    self.sink(msg)
        finally:
            loop.remove_reader(fd)
