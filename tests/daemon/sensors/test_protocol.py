import pytest
from hypothesis import given
from hypothesis import strategies as st

from veilcam.errors import ProtocolError
from veilcam.sensors.protocol import (
    Configure,
    Door,
    Heartbeat,
    LineSplitter,
    SequenceTracker,
    SetClock,
    Temperature,
    format_line,
    parse_line,
)

ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
seqs = st.integers(0, 65535)
ups = st.integers(0, 2**40)
messages = st.one_of(
    st.builds(
        Temperature,
        seqs,
        ups,
        ids,
        st.integers(-5500, 12500).filter(lambda v: v != 8500),
        st.none(),
    ),
    st.builds(
        Temperature,
        seqs,
        ups,
        ids,
        st.none(),
        st.sampled_from(["power_on_value", "probe_disconnected", "board_E3"]),
    ),
    st.builds(Door, seqs, ups, ids, st.booleans()),
    st.builds(
        Heartbeat,
        seqs,
        ups,
        st.text("abc.-0123456789", min_size=1, max_size=12),
        st.integers(0, 8),
        st.integers(0, 8),
    ),
    st.builds(SetClock, seqs, ups, st.integers(0, 2**45)),
    st.builds(Configure, seqs, ups, st.integers(100, 3_600_000)),
)


@given(messages)
def test_round_trip(msg) -> None:
    line = format_line(msg)
    assert line.endswith(b"\r\n") and line.startswith(b"$VC")
    assert parse_line(line) == msg


def test_known_line() -> None:
    assert format_line(Temperature(1, 1000, "1", 412)) == b"$VCT,1,1000,1,412*77\r\n"
    assert parse_line(b"$VCD,7,99,2,O*" + b"%02X" % _xor(b"VCD,7,99,2,O")) == Door(7, 99, "2", True)


def _xor(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        ("8500", "power_on_value"),
        ("-12700", "probe_disconnected"),
        ("13000", "out_of_range"),
        ("E07", "board_07"),
    ],
)
def test_ds18b20_fault_values_are_faults_not_readings(value: str, fault: str) -> None:
    body = f"VCT,3,500,1,{value}".encode()
    msg = parse_line(b"$" + body + b"*%02X" % _xor(body))
    assert isinstance(msg, Temperature) and msg.centi_c is None and msg.fault == fault


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (b"hello world", "framing"),
        (b"$VCT,1,1000,1,412", "framing"),
        (b"$VCT,1,1000,1,413*77", "checksum"),
        (b"$VCT,1,1000,1,412*7", "framing"),
        (b"$VC" + b"X" * 200, "overlong"),
    ],
)
def test_bad_lines_name_their_fault(line: bytes, kind: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_line(line)
    assert err.value.kind == kind


@pytest.mark.parametrize(
    "body",
    [
        b"VCT,1,2,1",
        b"VCT,x,2,1,400",
        b"VCT,70000,2,1,400",
        b"VCD,1,2,1,X",
        b"VCQ,1,2,3",
        b"VCT,1,2,,400",
        b"VCT,1,2,1,4a0",
    ],
)
def test_field_errors(body: bytes) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_line(b"$" + body + b"*%02X" % _xor(body))
    assert err.value.kind == "field"


def test_splitter_reassembles_split_lines() -> None:
    s = LineSplitter()
    line = format_line(Door(1, 2, "1", False))
    assert s.feed(line[:5]) == []
    assert s.feed(line[5:] + line[:3]) == [line]
    assert s.feed(line[3:]) == [line]
    assert s.feed(b"\r\n\r\n") == []


def test_splitter_reports_runaway_noise_once() -> None:
    s = LineSplitter()
    out = s.feed(b"x" * 500)
    out += s.feed(b"y" * 500)
    assert [e.kind for e in out] == ["overlong"]  # type: ignore[union-attr]
    line = format_line(Door(1, 2, "1", False))
    assert s.feed(b"tail\n" + line) == [line]


def test_splitter_reset_returns_partial() -> None:
    s = LineSplitter()
    s.feed(b"$VCT,1,")
    assert s.reset() == b"$VCT,1,"
    assert s.reset() == b""


def test_sequence_tracker() -> None:
    t = SequenceTracker()
    assert t.check(10, 1000) == "new"
    assert t.check(10, 1000) == "duplicate"
    assert t.check(13, 3000) == "new" and t.lost == 2
    assert t.check(0, 50) == "reset" and t.resets == 1
    t.check(65535, 100)
    assert t.check(0, 200) == "new"  # wrap, not a reset
    assert t.resets == 1
