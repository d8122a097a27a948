"""Mask helpers against their NumPy twins (where the native kernels are built), and their
behaviour with each implementation."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.kernels import NATIVE, requires_native
from veilcam_native import _mask_py, mask

native = NATIVE.mask if NATIVE is not None else None


@st.composite
def masks(draw: st.DrawFn) -> np.ndarray:
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    density = draw(st.sampled_from([0.02, 0.1, 0.4, 0.8]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return (rng.random((h, w)) < density).astype(np.uint8) * np.uint8(rng.choice([1, 255]))


@requires_native
@settings(max_examples=100, deadline=None)
@given(masks(), st.integers(0, 12))
def test_dilate_equals_twin(m: np.ndarray, r: int) -> None:
    want = np.empty_like(m)
    _mask_py.dilate(m, r, want)
    np.testing.assert_array_equal(mask.dilate(m, r), want)


@requires_native
@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 300),
    st.integers(1, 300),
    st.sampled_from([0.001, 0.01, 0.1]),
    st.integers(0, 2**32 - 1),
    st.one_of(st.integers(0, 40), st.integers(100, 400)),
)
def test_dilate_equals_twin_wide(h: int, w: int, density: float, seed: int, r: int) -> None:
    """Rows many vectors long and windows of every power-of-two split, up to wider than
    the mask (the doubling passes and the two runs that end each window)."""
    m = (np.random.default_rng(seed).random((h, w)) < density).astype(np.uint8)
    want = np.empty_like(m)
    _mask_py.dilate(m, r, want)
    np.testing.assert_array_equal(mask.dilate(m, r), want)


@requires_native
@settings(max_examples=100, deadline=None)
@given(masks())
def test_mask_boxes_equal_twin(m: np.ndarray) -> None:
    np.testing.assert_array_equal(
        native.mask_boxes(np.ascontiguousarray(m)), _mask_py.mask_boxes(m)
    )


def test_mask_boxes_connectivity_and_min_area(kernels: SimpleNamespace) -> None:
    m = np.zeros((10, 12), np.uint8)
    m[1, 1] = m[2, 2] = 1  # diagonal: one 8-connected region
    m[5:8, 6:11] = 1
    m[0, 11] = 1
    assert mask.mask_boxes(m).tolist() == [[11, 0, 12, 1], [1, 1, 3, 3], [6, 5, 11, 8]]
    assert mask.mask_boxes(m, min_area=3).tolist() == [[6, 5, 11, 8]]
    # a U shape: the two arms meet only at the bottom, labelled separately first
    u = np.zeros((5, 5), np.uint8)
    u[0:4, 0] = u[0:4, 4] = 1
    u[4, :] = 1
    assert mask.mask_boxes(u).tolist() == [[0, 0, 5, 5]]
    assert mask.mask_boxes(np.zeros((3, 3), np.uint8)).shape == (0, 4)


@requires_native
@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(1, 30),
    st.sampled_from([1, 3]),
    st.integers(0, 255),
    st.integers(0, 2**32 - 1),
)
def test_absdiff_and_region_fraction(h: int, w: int, c: int, threshold: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    b = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    want = np.empty((h, w), np.uint8)
    _mask_py.absdiff_mask(a, b, threshold, want)
    got = mask.absdiff_mask(a, b, threshold)
    np.testing.assert_array_equal(got, want)
    boxes = [(0, 0, w, h), (w // 2, h // 2, w + 5, h + 5), (-3, -3, 1, 1)]
    frac = mask.region_fraction(got, boxes)
    from veilcam_native.redact import clip_boxes

    want_frac = np.empty(len(frac))
    _mask_py.region_fraction(got, clip_boxes(boxes, got.shape), want_frac)
    np.testing.assert_allclose(frac, want_frac)


def test_reference_difference_catches_an_arm(kernels: SimpleNamespace) -> None:
    """The fridge use: a hand in front of the shelf shows up; sensor noise does not."""
    rng = np.random.default_rng(5)
    shelf = rng.integers(40, 200, (120, 160, 3), dtype=np.uint8)
    now = np.clip(shelf.astype(int) + rng.integers(-6, 7, shelf.shape), 0, 255).astype(np.uint8)
    now[30:90, 50:80] = (205, 160, 140)  # an arm
    changed = mask.dilate(mask.absdiff_mask(now, shelf, 25), 2)
    boxes = mask.mask_boxes(changed, min_area=50)
    assert len(boxes) == 1
    x0, y0, x1, y1 = boxes[0]
    assert x0 <= 50 and y0 <= 30 and x1 >= 80 and y1 >= 90
    assert mask.region_fraction(changed, [(0, 0, 40, 120)])[0] < 0.02


def test_bad_input(kernels: SimpleNamespace) -> None:
    with pytest.raises(TypeError, match="HxW uint8"):
        mask.dilate(np.zeros((3, 3), bool), 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="differ in shape"):
        mask.absdiff_mask(np.zeros((3, 3, 3), np.uint8), np.zeros((3, 4, 3), np.uint8), 10)
    with pytest.raises(ValueError, match="negative"):
        mask.dilate(np.zeros((3, 3), np.uint8), -1)
