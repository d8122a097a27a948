"""The sensor line: ``$VC<type>,<seq>,<uptime_ms>,<fields...>*<XOR checksum>\\r\\n``.

Pure parse/format functions, no I/O. The checksum is the XOR of every byte
between ``$`` and ``*``, written as two upper-case hex digits (NMEA style).
Sequence numbers run 0..65535 and wrap; ``uptime_ms`` restarts at a board reset.
"""

from __future__ import annotations

import msgspec

from veilcam.errors import ProtocolError
from veilcam_native import xor8

SEQ_MODULO = 65536
MAX_LINE = 120  # longest valid line is ~50 bytes; anything longer is noise

# DS18B20 sentinel values, in centi-°C, that are faults and never temperatures.
FAULT_POWER_ON = 8500  # 85.00 °C: conversion read before the first one finished
FAULT_DISCONNECTED = -12700  # -127.00 °C: probe missing or its wire broken
DS18B20_MIN, DS18B20_MAX = -5500, 12500


class Temperature(msgspec.Struct, frozen=True, gc=False):
    seq: int
    uptime_ms: int
    probe: str
    centi_c: int | None  # None when ``fault`` is set
    fault: str | None = None


class Door(msgspec.Struct, frozen=True, gc=False):
    seq: int
    uptime_ms: int
    door: str
    open: bool


class Heartbeat(msgspec.Struct, frozen=True, gc=False):
    seq: int
    uptime_ms: int
    firmware: str
    probes: int
    doors: int


class SetClock(msgspec.Struct, frozen=True, gc=False):
    """Host -> board: the host's wall clock in Unix milliseconds."""

    seq: int
    uptime_ms: int
    unix_ms: int


class Configure(msgspec.Struct, frozen=True, gc=False):
    """Host -> board: sampling period in milliseconds."""

    seq: int
    uptime_ms: int
    period_ms: int


Message = Temperature | Door | Heartbeat | SetClock | Configure

_HEX = b"0123456789ABCDEF"


def checksum(body: bytes) -> bytes:
    value = xor8(body)
    return bytes((_HEX[value >> 4], _HEX[value & 15]))


def _ident(field: bytes, what: str) -> str:
    if not field or len(field) > 8 or not field.isalnum():
        raise ProtocolError("field", f"bad {what} id {field!r}")
    return field.decode("ascii")


def _int(field: bytes, what: str) -> int:
    try:
        return int(field)
    except ValueError:
        raise ProtocolError("field", f"{what} is not an integer: {field!r}") from None


def _temperature_value(field: bytes) -> tuple[int | None, str | None]:
    if field[:1] == b"E":  # the board's own fault code, e.g. E03
        code = field[1:]
        if not code.isalnum() or len(code) > 6:
            raise ProtocolError("field", f"bad fault code {field!r}")
        return None, "board_" + code.decode("ascii")
    value = _int(field, "temperature")
    if value == FAULT_POWER_ON:
        return None, "power_on_value"
    if value == FAULT_DISCONNECTED:
        return None, "probe_disconnected"
    if not DS18B20_MIN <= value <= DS18B20_MAX:
        return None, "out_of_range"
    return value, None


def parse_line(line: bytes) -> Message:
    """Parse one line (with or without its CR LF); raise ProtocolError naming the fault."""
    line = line.rstrip(b"\r\n")
    if len(line) > MAX_LINE:
        raise ProtocolError("overlong", f"line of {len(line)} bytes exceeds {MAX_LINE}")
    if line[:3] != b"$VC":
        raise ProtocolError("framing", f"line does not start with $VC: {line[:20]!r}")
    if len(line) < 10 or line[-3] != 0x2A:  # '*'
        raise ProtocolError("framing", f"no '*XX' checksum at the end: {line[-12:]!r}")
    body = line[1:-3]
    if line[-2:] != checksum(body):
        raise ProtocolError("checksum", f"checksum {line[-2:]!r} != {checksum(body)!r}")
    fields = body.split(b",")
    kind = fields[0][2:]
    if len(fields) < 3:
        raise ProtocolError("field", f"too few fields in {body!r}")
    seq = _int(fields[1], "seq")
    uptime = _int(fields[2], "uptime_ms")
    if not 0 <= seq < SEQ_MODULO or uptime < 0:
        raise ProtocolError("field", f"seq {seq} or uptime {uptime} out of range")
    rest = fields[3:]
    if kind == b"T" and len(rest) == 2:
        value, fault = _temperature_value(rest[1])
        return Temperature(seq, uptime, _ident(rest[0], "probe"), value, fault)
    if kind == b"D" and len(rest) == 2:
        if rest[1] not in (b"O", b"C"):
            raise ProtocolError("field", f"door state must be O or C, not {rest[1]!r}")
        return Door(seq, uptime, _ident(rest[0], "door"), rest[1] == b"O")
    if kind == b"H" and len(rest) == 3:
        fw = rest[0].decode("ascii", "replace")
        return Heartbeat(seq, uptime, fw, _int(rest[1], "probes"), _int(rest[2], "doors"))
    if kind == b"S" and len(rest) == 1:
        return SetClock(seq, uptime, _int(rest[0], "unix_ms"))
    if kind == b"C" and len(rest) == 1:
        return Configure(seq, uptime, _int(rest[0], "period_ms"))
    raise ProtocolError("field", f"unknown type {kind!r} or wrong field count in {body!r}")


def _fields(msg: Message) -> tuple[bytes, list[str]]:
    if isinstance(msg, Temperature):
        if msg.fault is None:
            value = str(msg.centi_c)
        elif msg.fault == "power_on_value":
            value = str(FAULT_POWER_ON)
        elif msg.fault == "probe_disconnected":
            value = str(FAULT_DISCONNECTED)
        elif msg.fault.startswith("board_"):
            value = "E" + msg.fault[6:]
        else:
            raise ValueError(f"cannot format fault {msg.fault!r}")
        return b"T", [msg.probe, value]
    if isinstance(msg, Door):
        return b"D", [msg.door, "O" if msg.open else "C"]
    if isinstance(msg, Heartbeat):
        return b"H", [msg.firmware, str(msg.probes), str(msg.doors)]
    if isinstance(msg, SetClock):
        return b"S", [str(msg.unix_ms)]
    if isinstance(msg, Configure):
        return b"C", [str(msg.period_ms)]
    raise TypeError(f"not a sensor message: {msg!r}")


def format_line(msg: Message) -> bytes:
    kind, fields = _fields(msg)
    body = b"VC" + kind + b"," + ",".join([str(msg.seq), str(msg.uptime_ms), *fields]).encode()
    return b"$" + body + b"*" + checksum(body) + b"\r\n"


class LineSplitter:
    """Bytes in, complete lines out; overlong runs without a newline are cut and reported."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._buf = bytearray()
        self._max = max_line
        self._discarding = False

    def feed(self, data: bytes) -> list[bytes | ProtocolError]:
        out: list[bytes | ProtocolError] = []
        self._buf += data
        while True:
            nl = self._buf.find(b"\n")
            if nl < 0:
                if len(self._buf) > self._max:
                    if not self._discarding:
                        out.append(ProtocolError("overlong", "no line end within 120 bytes"))
                    self._discarding = True
                    self._buf.clear()
                return out
            line = bytes(self._buf[: nl + 1])
            del self._buf[: nl + 1]
            if self._discarding:
                self._discarding = False  # tail of the overlong run, already reported
                continue
            if line.strip():
                out.append(line)

    def reset(self) -> bytes:
        """Drop a partial line (the link went away mid-line); return what was dropped."""
        rest = bytes(self._buf)
        self._buf.clear()
        self._discarding = False
        return rest


class SequenceTracker:
    """Classifies each accepted message's sequence number: new, duplicate or board reset."""

    def __init__(self) -> None:
        self.last_seq: int | None = None
        self.last_uptime = 0
        self.lost = 0
        self.resets = 0

    def check(self, seq: int, uptime_ms: int) -> str:
        if self.last_seq is None:
            verdict = "new"
        elif seq == self.last_seq and uptime_ms == self.last_uptime:
            return "duplicate"
        elif uptime_ms < self.last_uptime:
            self.resets += 1
            verdict = "reset"
        else:
            gap = (seq - self.last_seq - 1) % SEQ_MODULO
            self.lost += gap
            verdict = "new"
        self.last_seq, self.last_uptime = seq, uptime_ms
        return verdict
