"""Image-geometry kernels (affine warp, area reduction) against their NumPy twins (where the
native kernels are built), and the wrappers' behaviour with each implementation."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.kernels import NATIVE, requires_native
from veilcam_native import _warp_py, embed

native = NATIVE.warp if NATIVE is not None else None


@pytest.fixture(params=["simd", "plain"])
def code_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """The SSE4.1 warp row where the CPU has it, and the plain loop (what ARM boards run)."""
    if not native.simd(request.param == "simd") and request.param == "simd":
        pytest.skip("no SIMD kernels on this CPU")
    yield request.param
    native.simd(True)


# The fixture only picks the code path, the same for every example.
@requires_native
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(1, 60),
    st.integers(1, 60),
    st.sampled_from([1, 3, 3, 4]),
    st.integers(0, 2**32 - 1),
    st.floats(-3.2, 3.2),
    st.floats(0.2, 3.0),
    st.floats(-80, 80),
    st.floats(-80, 80),
    st.integers(1, 40),
    st.integers(1, 40),
)
def test_warp_affine_equals_twin(code_path, h, w, c, seed, angle, scale, tx, ty, ow, oh) -> None:  # type: ignore[no-untyped-def]
    img = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    m = np.array(
        [
            [scale * np.cos(angle), -scale * np.sin(angle), tx],
            [scale * np.sin(angle), scale * np.cos(angle), ty],
        ]
    )
    got = embed.warp_affine(img, m, (ow, oh))
    full = np.linalg.inv(np.vstack([m, [0, 0, 1]]))[:2].ravel()
    want = np.empty((oh, ow, c), np.uint8)
    _warp_py.warp_affine(img, full, want)
    np.testing.assert_array_equal(got, want)


@requires_native
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(1, 60),
    st.integers(1, 60),
    st.sampled_from([1, 3, 4]),
    st.integers(0, 2**32 - 1),
    st.floats(0.2, 4.0).flatmap(lambda v: st.sampled_from([v, -v])),
    st.floats(0.2, 4.0).flatmap(lambda v: st.sampled_from([v, -v])),
    st.floats(-80, 80),
    st.floats(-80, 80),
    st.integers(1, 90),
    st.integers(1, 90),
)
def test_scale_and_shift_warp_equals_twin(  # type: ignore[no-untyped-def]
    code_path, h, w, c, seed, ax, ey, cx, fy, ow, oh
) -> None:
    """The separable path for matrices that only scale and shift (tiles scaled to a model's
    input): flips, shifts off the source, outputs larger and smaller than it."""
    img = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    inverse = np.array([ax, 0.0, cx, 0.0, ey, fy])
    got = np.empty((oh, ow, c), np.uint8)
    native.warp_affine(img, inverse, got)
    want = np.empty_like(got)
    _warp_py.warp_affine(img, inverse, want)
    np.testing.assert_array_equal(got, want)
    # and the general loop, made to run by an off-diagonal term too small to move a pixel
    general = np.empty_like(got)
    native.warp_affine(img, np.array([ax, 1e-300, cx, 0.0, ey, fy]), general)
    np.testing.assert_array_equal(got, general)


def test_identity_warp_copies_and_outside_is_black(kernels: SimpleNamespace) -> None:
    img = np.random.default_rng(4).integers(0, 256, (50, 60, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        embed.warp_affine(img, np.array([[1.0, 0, 0], [0, 1.0, 0]]), (60, 50)), img
    )
    shifted = embed.warp_affine(img, np.array([[1.0, 0, 10], [0, 1.0, 0]]), (60, 50))
    np.testing.assert_array_equal(shifted[:, 10:], img[:, :50])
    assert not shifted[:, :9].any()
    grey = embed.warp_affine(img[:, :, 0].copy(), np.array([[2.0, 0, 0], [0, 2.0, 0]]), (20, 20))
    assert grey.shape == (20, 20)


def test_warp_refuses_bad_matrices(kernels: SimpleNamespace) -> None:
    img = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="singular"):
        embed.warp_affine(img, np.zeros((2, 3)), (4, 4))
    with pytest.raises(ValueError, match="2x3"):
        embed.warp_affine(img, np.eye(3), (4, 4))
    with pytest.raises(ValueError, match="size"):
        embed.warp_affine(img, np.array([[1.0, 0, 0], [0, 1.0, 0]]), (0, 4))


@requires_native
@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 60),
    st.integers(1, 60),
    st.sampled_from([1, 3, 4]),
    st.integers(1, 12),
    st.integers(0, 2**32 - 1),
)
def test_reduce_area_equals_twin(h: int, w: int, c: int, k: int, seed: int) -> None:
    """On a tile of a larger frame (strided rows, no copy), every size against every
    factor, so blocks the edge cuts are common."""
    frame = np.random.default_rng(seed).integers(0, 256, (h + 7, w + 5, c), dtype=np.uint8)
    tile = frame[3 : 3 + h, 2 : 2 + w]
    got = embed.reduce_area(tile, k)
    want = np.empty_like(got)
    _warp_py.reduce_area(np.ascontiguousarray(tile), k, want)
    np.testing.assert_array_equal(got, want)
    assert got.shape == (-(-h // k), -(-w // k), c)


def test_reduce_area_means(kernels: SimpleNamespace) -> None:
    img = np.array([[0, 1, 255], [2, 3, 255], [9, 9, 9]], np.uint8)
    # 0+1+2+3 = 6 over 4 -> 1.5 -> 2 (half up); the cut blocks average what they have.
    np.testing.assert_array_equal(embed.reduce_area(img, 2), [[2, 255], [9, 9]])
    grey = np.random.default_rng(2).integers(0, 256, (40, 50), dtype=np.uint8)
    tile = grey[3:33, 4:44]  # HxW, strided rows: read in place
    np.testing.assert_array_equal(
        embed.reduce_area(tile, 3), embed.reduce_area(tile.copy()[:, :, None], 3)[:, :, 0]
    )
    flat = np.full((31, 17, 3), 77, np.uint8)
    assert (embed.reduce_area(flat, 5) == 77).all()
    np.testing.assert_array_equal(embed.reduce_area(flat, 1), flat)
    with pytest.raises(ValueError, match="whole number"):
        embed.reduce_area(flat, 0)
    with pytest.raises(ValueError, match="empty"):
        embed.reduce_area(flat[:0], 2)
    with pytest.raises(TypeError, match="uint8"):
        embed.reduce_area(flat.astype(np.float32), 2)
