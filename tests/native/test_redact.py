"""Each redaction kernel against its NumPy twin, over random shapes, boxes and radii (where the
native kernels are built); the wrappers' behaviour with each implementation."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.kernels import NATIVE, requires_native
from veilcam_native import _redact_py, mask, redact

native = NATIVE.redact if NATIVE is not None else None


@st.composite
def image_and_boxes(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    h = draw(st.integers(1, 40))
    w = draw(st.integers(1, 40))
    c = draw(st.sampled_from([1, 2, 3, 3, 4, 5]))  # 3 and 4 take the vector prefix path
    seed = draw(st.integers(0, 2**32 - 1))
    img = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)
    coords = st.floats(-10, 50, allow_nan=False)
    raw = draw(st.lists(st.tuples(coords, coords, coords, coords), max_size=4))
    boxes = [(min(a, c_), min(b, d), max(a, c_), max(b, d)) for a, b, c_, d in raw]
    # Unclipped on purpose: the kernels clip, and must never write out of bounds.
    return img, redact.pixel_boxes(boxes) if boxes else np.zeros((0, 4), np.int64)


def both(
    kernel: str, img: np.ndarray, boxes: np.ndarray, *args: object
) -> tuple[np.ndarray, np.ndarray]:
    a, b = img.copy(), img.copy()
    getattr(native, kernel)(a, boxes, *args)
    getattr(_redact_py, kernel)(b, boxes, *args)
    return a, b


@pytest.fixture(params=["wide", "plain"])
def blur_path(request: pytest.FixtureRequest) -> Iterator[str]:
    """The AVX-512 box blur where this CPU has it, and the loops every other board runs."""
    if request.param == "plain":
        native.simd(False)
    elif not native.simd(True):
        pytest.skip("no AVX-512 on this CPU")
    yield request.param
    native.simd(True)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@requires_native
@given(image_and_boxes(), st.integers(0, 60))
def test_box_blur_equals_twin(
    blur_path: str, case: tuple[np.ndarray, np.ndarray], radius: int
) -> None:
    img, boxes = case
    a, b = both("box_blur_boxes", img, boxes, np.full(len(boxes), radius, np.int64))
    np.testing.assert_array_equal(a, b)  # exact: integer sums, rounding half up


@st.composite
def wide_blur_case(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows many 32-value blocks long, ending anywhere in one; every channel count; images
    of 255 (the largest sums) as well as noise; radii each side of the 128-pixel window
    the AVX-512 path takes."""
    h = draw(st.integers(1, 70))
    w = draw(st.integers(1, 300))
    c = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        img = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    else:
        img = np.full((h, w, c), 255, np.uint8)
    x0, x1 = sorted(draw(st.tuples(st.integers(-5, w + 5), st.integers(-5, w + 5))))
    y0, y1 = sorted(draw(st.tuples(st.integers(-5, h + 5), st.integers(-5, h + 5))))
    radius = draw(st.one_of(st.integers(0, 20), st.integers(55, 70)))
    return img, np.array([[x0, y0, x1 + 1, y1 + 1]], np.int64), radius


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@requires_native
@given(wide_blur_case())
def test_wide_box_blur_equals_twin(
    blur_path: str, case: tuple[np.ndarray, np.ndarray, int]
) -> None:
    img, boxes, radius = case
    a, b = both("box_blur_boxes", img, boxes, np.array([radius], np.int64))
    np.testing.assert_array_equal(a, b)


@requires_native
def test_wide_path_is_taken_where_it_should_be() -> None:
    """So the tests above do test it: faces and whole frames at the radii redaction uses
    go the AVX-512 way where the CPU has it; windows wider than 128 pixels or counts past
    the float32 path's never do."""
    if not native.simd(True):
        pytest.skip("no AVX-512 on this CPU")
    assert native.wide_path(1920, 1080, 3, 15)
    assert native.wide_path(100, 100, 3, 15)
    assert native.wide_path(40, 40, 1, 60)  # a window the box cuts to 40 pixels
    assert not native.wide_path(400, 300, 3, 64)  # 129 pixels across
    assert not native.wide_path(400, 300, 3, 60)  # 121 x 121 > FLOAT_EXACT_MAX_N
    assert native.wide_path(100, 100, 8, 5)  # every channel count the API allows
    native.simd(False)
    try:
        assert not native.wide_path(1920, 1080, 3, 15)
    finally:
        native.simd(True)


@requires_native
@settings(max_examples=150, deadline=None)
@given(image_and_boxes(), st.integers(1, 12))
def test_pixelate_equals_twin(case: tuple[np.ndarray, np.ndarray], cell: int) -> None:
    img, boxes = case
    a, b = both("pixelate_boxes", img, boxes, cell)
    np.testing.assert_array_equal(a, b)


@requires_native
@settings(max_examples=100, deadline=None)
@given(image_and_boxes())
def test_fill_equals_twin(case: tuple[np.ndarray, np.ndarray]) -> None:
    img, boxes = case
    colour = np.arange(img.shape[2], dtype=np.uint8) * 40
    a, b = both("fill_boxes", img, boxes, colour)
    np.testing.assert_array_equal(a, b)
    outside = np.ones(img.shape[:2], bool)
    for x0, y0, x1, y1 in redact.clip_boxes(boxes, img.shape):
        outside[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(a[outside], img[outside])  # nothing outside the boxes moves


@requires_native
def test_large_windows_use_the_exact_double_path() -> None:
    img = np.random.default_rng(3).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    boxes = np.array([[0, 0, 400, 300]], np.int64)
    a, b = both("box_blur_boxes", img, boxes, np.array([120], np.int64))  # 241^2 > 32000
    np.testing.assert_array_equal(a, b)


def test_huge_windows_round_exactly(kernels: SimpleNamespace) -> None:
    """A window of more than 10^7 pixels, every pixel's mean just below x.5 by 1/n: a
    double reciprocal with its epsilon would round it up (101); the mean is 100."""
    side = 3200
    n = side * side
    img = np.full((side, side, 1), 100, np.uint8)
    extra = n // 2 - 1  # total + n//2 == 100 n + n - 1
    img.reshape(-1)[: extra // 100] = 200
    img.reshape(-1)[extra // 100] += extra % 100
    redact.box_blur(img, [(0, 0, side, side)], side)
    assert (img == 100).all()


def test_edges_are_clipped_never_an_error(kernels: SimpleNamespace) -> None:
    img = np.zeros((10, 10, 3), np.uint8)
    redact.fill(img, [(-5, -5, 3, 3), (8, 8, 50, 50), (20, 20, 30, 30), (4, 4, 4, 9)], (255, 0, 0))
    assert img[:3, :3, 0].all() and img[8:, 8:, 0].all()
    assert img[3:8, 3:8].sum() == 0
    one = np.full((1, 1), 7, np.uint8)
    redact.box_blur(one, [(0, 0, 1, 1)], 5)
    redact.pixelate(one, [(-1, -1, 2, 2)])
    assert one[0, 0] == 7


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((4, 4, 3), np.float32), "must be uint8"),
        (np.zeros((4, 4, 9), np.uint8), "C <= 8"),
        (np.zeros((4, 8, 3), np.uint8)[:, ::2], "C-contiguous"),
        ([[1, 2]], "numpy array"),
    ],
)
def test_bad_images_are_refused_clearly(image: object, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        redact.fill(image, [(0, 0, 1, 1)])  # type: ignore[arg-type]


def test_bad_parameters_are_refused() -> None:
    img = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="finite"):
        redact.fill(img, [(0, 0, float("nan"), 1)])
    with pytest.raises(ValueError, match="0..255"):
        redact.fill(img, [(0, 0, 1, 1)], (300, 0, 0))
    with pytest.raises(ValueError, match="at least 1"):
        redact.grow_boxes([(0, 0, 1, 1)], 0.5, img.shape)
    with pytest.raises(ValueError, match="negative"):
        redact.box_blur(img, [(0, 0, 2, 2)], -1)


def test_grow_boxes_about_the_centre() -> None:
    grown = redact.grow_boxes([(40, 40, 60, 80)], 1.5, (200, 200))
    assert grown.tolist() == [[35, 30, 65, 90]]
    assert redact.grow_boxes([(0, 0, 10, 10)], 2.0, (8, 8)).tolist() == [[0, 0, 8, 8]]


def test_gaussian_radii_match_sigma() -> None:
    # three odd-width boxes cannot follow sigma below ~2 closely; redaction never goes that low
    for sigma in (2.5, 5.0, 12.0, 30.0):
        radii = redact.gaussian_radii(sigma)
        variance = sum(((2 * r + 1) ** 2 - 1) / 12 for r in radii)
        assert abs(variance - sigma**2) / sigma**2 < 0.1


def test_pixelated_face_keeps_no_detail_finer_than_its_cell(kernels: SimpleNamespace) -> None:
    """Irreversible: inside each cell every pixel is identical, so no finer detail survives."""
    rng = np.random.default_rng(11)
    img = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    box = (30, 20, 130, 110)  # 100 px wide face region
    redact.pixelate(img, [box], max_cells=5)
    region = img[20:110, 30:130].astype(int)
    cell = 20
    for cy in range(0, region.shape[0], cell):
        for cx in range(0, region.shape[1], cell):
            block = region[cy : cy + cell, cx : cx + cell]
            assert (block == block[0, 0]).all()
    assert len(np.unique(region.reshape(-1, 3), axis=0)) <= 25


def test_blurred_region_loses_fine_detail(kernels: SimpleNamespace) -> None:
    """A 1-pixel checkerboard (the finest detail there is) is gone after a radius-4 blur."""
    yy, xx = np.mgrid[0:64, 0:64]
    img = np.repeat((((yy + xx) % 2) * 255).astype(np.uint8)[:, :, None], 3, axis=2)
    img = np.ascontiguousarray(img)
    redact.box_blur(img, [(0, 0, 64, 64)], 4)
    interior = img[8:-8, 8:-8].astype(int)
    assert interior.max() - interior.min() <= 4  # contrast 255 -> at most 4 grey levels


@requires_native
def test_float_path_is_exact_at_its_worst_cases() -> None:
    """The float32 division used for interior windows, replayed op for op in float32, at the
    sums where the exact mean is an integer (the case truncation could get wrong)."""
    max_n, eps = native.FLOAT_PATH
    f32 = np.float32
    ns = np.unique(np.r_[1:200, np.linspace(200, max_n, 400).astype(int), max_n])
    for n in ns:
        inv = f32(1.0) / f32(n)
        bias = f32(n // 2) * inv + f32(eps)
        q = np.arange(0, 256, dtype=np.int64)
        # exact mean q: total + n//2 == q*n; and just below: total + n//2 == (q+1)*n - 1
        for total in (q * n - n // 2, (q + 1) * n - 1 - n // 2):
            ok = (total >= 0) & (total <= 255 * n)
            t = total[ok]
            got = (t.astype(np.float32) * inv + bias).astype(np.int64)
            np.testing.assert_array_equal(got, (t + n // 2) // n, err_msg=f"n={n}")
            # A fused multiply-add (the AVX-512 path, and where the compiler fuses): the
            # product exact in float64, rounded to float32 once.
            fused = (t * np.float64(inv) + np.float64(bias)).astype(np.float32)
            np.testing.assert_array_equal(fused.astype(np.int64), (t + n // 2) // n)


@requires_native
@settings(max_examples=60, deadline=None)
@given(image_and_boxes(), st.integers(0, 2**32 - 1))
def test_blend_equals_twin(case: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    img, _ = case
    rng = np.random.default_rng(seed)
    h, w = rng.integers(1, img.shape[0] + 1), rng.integers(1, img.shape[1] + 1)
    y0, x0 = rng.integers(0, img.shape[0] - h + 1), rng.integers(0, img.shape[1] - w + 1)
    effect = rng.integers(0, 256, (h, w, img.shape[2]), dtype=np.uint8)
    alpha = rng.integers(0, 256, (h, w), dtype=np.uint8)
    alpha[0, 0] = 0
    a, b = img.copy(), img.copy()
    native.blend_region(a, effect, alpha, int(x0), int(y0))
    _redact_py.blend_region(b, effect, alpha, int(x0), int(y0))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", ["fill", "pixelate", "blur"])
@pytest.mark.parametrize("feather", [0, 4])
def test_mask_and_ellipse_redaction(kernels: SimpleNamespace, mode: str, feather: int) -> None:
    rng = np.random.default_rng(8)
    img = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    original = img.copy()
    m = mask.ellipse_mask(img.shape, [(60, 50, 25, 35), (150, 110, 20, 20)])  # 2nd crosses the edge
    boxes = mask.redact_mask(img, m, mode, feather=feather, radius=10)
    assert len(boxes) == 2
    inside = m.astype(bool)
    changed = (img != original).any(axis=2)
    assert changed[inside].mean() > 0.97  # the whole region is redacted ...
    far = redact.grow_boxes(boxes, 1.0, img.shape)  # ... and nothing beyond region + feather
    untouched = np.ones(img.shape[:2], bool)
    for x0, y0, x1, y1 in far:
        untouched[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(img[untouched], original[untouched])
    if mode == "fill":
        assert (img[inside] == 0).all()  # full strength inside, feathered or not
    if feather:
        ring = (mask.ellipse_mask(img.shape, [(60, 50, 28, 38)]) != 0) & ~inside
        partial = (img[ring] != 0).any(axis=1) & (img[ring] != original[ring]).any(axis=1)
        if mode == "fill":
            assert partial.mean() > 0.5  # the edge is softened, not cut


def test_ellipse_mask_shape() -> None:
    m = mask.ellipse_mask((20, 30), [(10, 10, 5, 3)])
    assert (
        m[10, 10] == 1 and m[10, 15] == 1 and m[10, 16] == 0 and m[13, 10] == 1 and m[14, 10] == 0
    )
    assert mask.ellipse_mask((5, 5), [(100, 100, 3, 3), (2, 2, 0, 4)]).sum() == 0
