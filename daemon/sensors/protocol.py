"""The sensor line: ``$VC<type>,<seq>,<uptime_ms>,<fields...>*<checksum>\\r\\n``.

Pure parse/format functions, no I/O. Protocol version 2 (what this host and the simulated
board send) ends a line with four upper-case hex digits: the CRC-16/CCITT-FALSE of every
byte between ``$`` and ``*``, which finds every error of up to three flipped bits in a
line. Version 1 (older firmware) ends it with two: the XOR of those bytes, NMEA style,
which lets some multi-bit errors through; it is still read, and counted. Every number is
plain decimal (no sign where none is meant, no leading zeros, no spaces or ``_``) within
its range. Sequence numbers run 0..65535 and wrap; ``uptime_ms`` restarts at a board
reset. See ``board/protocol.md``.
"""

from __future__ import annotations

import re
from binascii import crc_hqx

import msgspec

from veilcam.errors import ProtocolError
from veilcam_native import xor8

SEQ_MODULO = 65536
MAX_LINE = 120  # longest valid line is ~50 bytes; anything longer is noise
VERSION = 2  # what format_line writes
MAX_UPTIME_MS = 2**48 - 1  # ~8,900 years: beyond it a board's counter is broken
MAX_UNIX_MS = 2**48 - 1
MAX_COUNT = 64  # probes or doors on one board
PERIOD_MS = (100, 3_600_000)
MAX_DIGITS = 15  # enough for 2**48; longer numbers are refused before int()

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
    """Version 1: XOR-8, two hex digits."""
    value = xor8(body)
    return bytes((_HEX[value >> 4], _HEX[value & 15]))


def crc16(body: bytes) -> bytes:
    """Version 2: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), four hex digits."""
    return b"%04X" % crc_hqx(body, 0xFFFF)


def _ident(field: bytes, what: str) -> str:
    if not field or len(field) > 8 or not field.isalnum():
        raise ProtocolError("field", f"bad {what} id {field!r}")
    return field.decode("ascii")


def _int(field: bytes, what: str, low: int, high: int) -> int:
    """Plain decimal within [low, high]: digits only (a ``-`` first if low < 0), no leading
    zero, no sign, space or ``_`` that ``int()`` would let through."""
    digits = field[1:] if field[:1] == b"-" and low < 0 else field
    if (
        not digits.isdigit()
        or len(digits) > MAX_DIGITS
        or (digits[0] == 0x30 and len(digits) > 1)
        or field == b"-0"
    ):
        raise ProtocolError("field", f"{what} is not a plain integer: {field[:20]!r}")
    value = int(field)
    if not low <= value <= high:
        raise ProtocolError("field", f"{what} {value} is outside {low}..{high}")
    return value


def _firmware(field: bytes) -> str:
    if not 1 <= len(field) <= 16 or not field.replace(b".", b"").replace(b"-", b"").isalnum():
        raise ProtocolError("field", f"bad firmware version {field[:20]!r}")
    return field.decode("ascii")


def _temperature_value(field: bytes) -> tuple[int | None, str | None]:
    if field[:1] == b"E":  # the board's own fault code, e.g. E03
        code = field[1:]
        if not code.isalnum() or len(code) > 6:
            raise ProtocolError("field", f"bad fault code {field!r}")
        return None, "board_" + code.decode("ascii")
    value = _int(field, "temperature", -99_999, 99_999)
    if value == FAULT_POWER_ON:
        return None, "power_on_value"
    if value == FAULT_DISCONNECTED:
        return None, "probe_disconnected"
    if not DS18B20_MIN <= value <= DS18B20_MAX:
        return None, "out_of_range"
    return value, None


# The whole line's syntax in one match: type, seq (up to 5 digits), uptime (up to 15), the
# type's fields, and a 4-digit (version 2) or 2-digit (version 1) checksum. Numbers are
# plain decimal; only what matches is parsed, and only a line that does not is looked at
# again, to name what is wrong with it.
_LINE = re.compile(
    rb"\$(VC([TDHSC]),(0|[1-9][0-9]{0,4}),(0|[1-9][0-9]{0,14}),([A-Za-z0-9.,-]{1,100}))"
    rb"\*([0-9A-F]{4}|[0-9A-F]{2})"
)
_PLAIN = re.compile(rb"0|-?[1-9][0-9]{0,14}")
# A temperature line, nearly all the traffic, with its probe and value in the same match.
_TEMPERATURE = re.compile(
    rb"\$(VCT,(0|[1-9][0-9]{0,4}),(0|[1-9][0-9]{0,14}),([A-Za-z0-9]{1,8}),"
    rb"(0|-?[1-9][0-9]{0,4}|E[A-Za-z0-9]{1,6}))\*([0-9A-F]{4}|[0-9A-F]{2})"
)


def version_of(line: bytes) -> int:
    """The protocol version of a line ``parse_line`` accepted: 2 (CRC-16) or 1 (XOR-8)."""
    line = line.rstrip(b"\r\n")
    return 2 if line[-5:-4] == b"*" else 1


def parse_line(line: bytes) -> Message:
    """Parse one line of either version (with or without its CR LF); raise ProtocolError
    naming the fault."""
    line = line.rstrip(b"\r\n")
    if len(line) > MAX_LINE:
        raise _why(line)
    m = _TEMPERATURE.fullmatch(line)
    if m is not None:
        body, seq_, uptime_, probe, value_, got = m.groups()
        expected = b"%04X" % crc_hqx(body, 0xFFFF) if len(got) == 4 else checksum(body)
        if got != expected:
            raise ProtocolError("checksum", f"checksum {got!r} != {expected!r}")
        seq, uptime = int(seq_), int(uptime_)
        if seq >= SEQ_MODULO or uptime > MAX_UPTIME_MS:
            raise ProtocolError("field", f"seq {seq} or uptime {uptime} out of range")
        if value_[:1] == b"E":
            return Temperature(seq, uptime, probe.decode(), None, "board_" + value_[1:].decode())
        value = int(value_)
        if value == FAULT_POWER_ON:
            return Temperature(seq, uptime, probe.decode(), None, "power_on_value")
        if value == FAULT_DISCONNECTED:
            return Temperature(seq, uptime, probe.decode(), None, "probe_disconnected")
        if not DS18B20_MIN <= value <= DS18B20_MAX:
            return Temperature(seq, uptime, probe.decode(), None, "out_of_range")
        return Temperature(seq, uptime, probe.decode(), value, None)
    m = _LINE.fullmatch(line)
    if m is None:
        raise _why(line)
    body, kind, seq_, uptime_, tail, got = m.groups()
    expected = crc16(body) if len(got) == 4 else checksum(body)
    if got != expected:
        raise ProtocolError("checksum", f"checksum {got!r} != {expected!r}")
    seq, uptime = int(seq_), int(uptime_)
    if seq >= SEQ_MODULO or uptime > MAX_UPTIME_MS:
        raise ProtocolError("field", f"seq {seq} or uptime {uptime} out of range")
    rest = tail.split(b",")
    if kind == b"T" and len(rest) == 2:  # only a malformed one gets here: name the field
        centi_c, fault = _temperature_value(rest[1])
        return Temperature(seq, uptime, _ident(rest[0], "probe"), centi_c, fault)
    if kind == b"D" and len(rest) == 2:
        if rest[1] not in (b"O", b"C"):
            raise ProtocolError("field", f"door state must be O or C, not {rest[1]!r}")
        return Door(seq, uptime, _ident(rest[0], "door"), rest[1] == b"O")
    if kind == b"H" and len(rest) == 3:
        return Heartbeat(
            seq,
            uptime,
            _firmware(rest[0]),
            _int(rest[1], "probes", 0, MAX_COUNT),
            _int(rest[2], "doors", 0, MAX_COUNT),
        )
    if kind == b"S" and len(rest) == 1:
        return SetClock(seq, uptime, _int(rest[0], "unix_ms", 0, MAX_UNIX_MS))
    if kind == b"C" and len(rest) == 1:
        return Configure(seq, uptime, _int(rest[0], "period_ms", *PERIOD_MS))
    raise ProtocolError("field", f"type {kind!r} with {len(rest)} fields in {body!r}")


def _why(line: bytes) -> ProtocolError:
    """What is wrong with a line the syntax did not match, in the order a reader would
    look: its length, its frame, its checksum, then its fields."""
    if len(line) > MAX_LINE:
        return ProtocolError("overlong", f"line of {len(line)} bytes exceeds {MAX_LINE}")
    if line[:3] != b"$VC":
        return ProtocolError("framing", f"line does not start with $VC: {line[:20]!r}")
    star = line.rfind(b"*")
    digits = line[star + 1 :]
    if star < 4 or len(digits) not in (2, 4) or b"*" in line[:star]:
        return ProtocolError("framing", f"no '*XXXX' checksum at the end: {line[-12:]!r}")
    body = line[1:star]
    expected = crc16(body) if len(digits) == 4 else checksum(body)
    if digits != expected:
        return ProtocolError("checksum", f"checksum {digits!r} != {expected!r}")
    fields = body.split(b",")
    if len(fields) < 3:
        return ProtocolError("field", f"too few fields in {body!r}")
    if fields[0][2:] not in (b"T", b"D", b"H", b"S", b"C"):
        return ProtocolError("field", f"unknown type {fields[0][2:]!r} in {body[:40]!r}")
    for field, what in ((fields[1], "seq"), (fields[2], "uptime_ms")):
        if not _PLAIN.fullmatch(field) or field[:1] == b"-" or len(field) > MAX_DIGITS:
            return ProtocolError("field", f"{what} is not a plain integer: {field[:20]!r}")
    return ProtocolError("field", f"a field is not plain text or decimal in {body[:60]!r}")


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


def format_line(msg: Message, version: int = VERSION) -> bytes:
    kind, fields = _fields(msg)
    body = b"VC" + kind + b"," + ",".join([str(msg.seq), str(msg.uptime_ms), *fields]).encode()
    if version not in (1, 2):
        raise ValueError(f"protocol version is 1 or 2, not {version}")
    return b"$" + body + b"*" + (crc16(body) if version == 2 else checksum(body)) + b"\r\n"


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
