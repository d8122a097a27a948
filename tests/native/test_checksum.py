import importlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veilcam_native import _checksum_py

native = pytest.importorskip("veilcam_native._checksum")


@given(st.binary(max_size=300))
def test_native_matches_twin(data: bytes) -> None:
    assert native.xor8(data) == _checksum_py.xor8(data)


def test_known_values() -> None:
    assert _checksum_py.xor8(b"") == 0
    assert native.xor8(b"VCT,1,1000,1,412") == 0x77
    assert native.xor8(bytearray(b"\x0f\xf0")) == 0xFF


def test_rejects_non_bytes() -> None:
    with pytest.raises(TypeError):
        native.xor8("text")  # type: ignore[arg-type]


def test_no_extensions_selects_twin(monkeypatch: pytest.MonkeyPatch) -> None:
    import veilcam_native

    monkeypatch.setenv("VEILCAM_NO_EXTENSIONS", "1")
    try:
        reloaded = importlib.reload(veilcam_native)
        assert reloaded.IMPLEMENTATION.startswith("python")
        assert reloaded.xor8 is _checksum_py.xor8
    finally:
        monkeypatch.delenv("VEILCAM_NO_EXTENSIONS")
        importlib.reload(veilcam_native)
    assert veilcam_native.IMPLEMENTATION == "native"
