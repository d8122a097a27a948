"""Both implementations of the kernels, for tests parametrised over them (as aiohttp's parser
tests are): the NumPy twins always, the compiled modules where they are built and not
switched off by ``VEILCAM_NO_EXTENSIONS``. ``VEILCAM_REQUIRE_NATIVE=1`` (CI) makes a
missing build an error instead of a skip."""

from __future__ import annotations

import os
from types import ModuleType, SimpleNamespace

import pytest

import veilcam_native
from veilcam_native import _checksum_py, _embed_py, _mask_py, _redact_py, _warp_py

TWINS = SimpleNamespace(
    checksum=_checksum_py, embed=_embed_py, mask=_mask_py, redact=_redact_py, warp=_warp_py
)


def _native() -> SimpleNamespace | None:
    if veilcam_native.NO_EXTENSIONS:
        return None
    try:
        from veilcam_native import _checksum, _embed, _mask, _redact, _warp
    except ImportError as exc:
        if os.environ.get("VEILCAM_REQUIRE_NATIVE", "") not in ("", "0"):
            raise RuntimeError(
                f"the native kernels are required here but not built: {exc}"
            ) from exc
        return None
    return SimpleNamespace(checksum=_checksum, embed=_embed, mask=_mask, redact=_redact, warp=_warp)


NATIVE = _native()
IMPLEMENTATIONS = {"python": TWINS} | ({"native": NATIVE} if NATIVE is not None else {})
WHY_NOT = (
    "VEILCAM_NO_EXTENSIONS is set"
    if veilcam_native.NO_EXTENSIONS
    else "the native kernels are not built"
)
requires_native = pytest.mark.skipif(NATIVE is None, reason=WHY_NOT)


def use(monkeypatch: pytest.MonkeyPatch, kernels: SimpleNamespace) -> None:
    """Point every wrapper (redact, mask, embed) at one implementation's kernels."""
    from veilcam_native import embed, mask, redact

    wiring: list[tuple[ModuleType, str, ModuleType]] = [
        (redact, "_k", kernels.redact),
        (mask, "_k", kernels.mask),
        (mask, "redact_kernels", kernels.redact),
        (embed, "_k", kernels.embed),
        (embed, "_warp", kernels.warp),
    ]
    for module, name, value in wiring:
        monkeypatch.setattr(module, name, value)
