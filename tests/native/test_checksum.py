"""The sensor line's XOR checksum, native against its twin, and with each implementation."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

import veilcam_native
from tests.support.kernels import NATIVE, requires_native
from veilcam_native import _checksum_py


@requires_native
@given(st.binary(max_size=300))
def test_native_matches_twin(data: bytes) -> None:
    assert NATIVE is not None and NATIVE.checksum.xor8(data) == _checksum_py.xor8(data)


def test_known_values(kernels: SimpleNamespace) -> None:
    xor8 = kernels.checksum.xor8
    assert xor8(b"") == 0
    assert xor8(b"VCT,1,1000,1,412") == 0x77
    assert xor8(bytearray(b"\x0f\xf0")) == 0xFF
    assert xor8(memoryview(b"\x01\x02\x04")) == 0x07


def test_rejects_non_bytes(kernels: SimpleNamespace) -> None:
    with pytest.raises(TypeError):
        kernels.checksum.xor8("text")


def test_no_extensions_selects_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    before = veilcam_native.IMPLEMENTATION
    monkeypatch.setenv("VEILCAM_NO_EXTENSIONS", "1")
    try:
        reloaded = importlib.reload(veilcam_native)
        assert reloaded.IMPLEMENTATION == "python (VEILCAM_NO_EXTENSIONS set)"
        assert reloaded.xor8 is _checksum_py.xor8
        assert reloaded.redact_kernels.__name__ == "veilcam_native._redact_py"
    finally:
        monkeypatch.undo()
        importlib.reload(veilcam_native)
    assert veilcam_native.IMPLEMENTATION == before
