"""The stock patch descriptors: native kernel against its NumPy twin, and what they mean."""

from __future__ import annotations

import numpy as np
import pytest

import veilcam_native
from veilcam_native import _stock_py, stock

COLOUR, EDGE = _stock_py.COLOUR_BINS, _stock_py.EDGE_BINS


def run(impl, p):  # type: ignore[no-untyped-def]
    n, h, w, _ = p.shape
    out = (
        np.empty((n, h * w), np.float32),
        np.empty(n, np.float32),
        np.empty((n, 3), np.float32),
        np.empty((n, COLOUR), np.float32),
        np.empty((n, EDGE), np.float32),
    )
    impl(p, *out)
    return out


@pytest.mark.skipif(veilcam_native.IMPLEMENTATION != "native", reason="extensions not in use")
def test_kernel_equals_its_twin() -> None:
    from veilcam_native import _stock

    rng = np.random.default_rng(1)
    p = rng.integers(0, 256, (40, 28, 16, 3), dtype=np.uint8)
    p[3] = 128  # flat
    p[4, :, :, :] = (200, 30, 30)  # one colour
    p[5, :, :8] = 255  # an edge at every row
    for a, b in zip(run(_stock.describe, p), run(_stock_py.describe, p), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_descriptors_mean_what_they_say() -> None:
    p = np.zeros((3, 28, 16, 3), np.uint8)
    p[0] = 128  # flat grey
    p[1] = (220, 40, 40)  # flat red
    p[2, :, :8] = 250  # a vertical edge on black
    zgrey, flat, mean, colour, edges = run(stock.describe, p)
    assert flat[0] == 0 and flat[2] > 0.1
    assert np.abs(zgrey[0]).max() == 0  # a flat patch correlates with nothing
    np.testing.assert_allclose(mean[1], (220, 40, 40))
    assert colour[1, 0] == 1.0  # red: hue bin 0
    assert colour[0, 13] == 1.0  # mid grey
    assert edges[2, 0] > 0.7 and edges[2, 6] > 0.7  # horizontal gradient, both halves
    np.testing.assert_allclose(np.linalg.norm(edges[2]), 1.0, rtol=1e-5)


def test_wrong_arrays_are_refused_by_name() -> None:
    p = np.zeros((1, 28, 16, 3), np.uint8)
    out = list(run(stock.describe, p))
    out[3] = np.empty((1, 3), np.float32)
    with pytest.raises(TypeError, match="colour"):
        stock.describe(p, *out)
    with pytest.raises(TypeError, match="patches"):
        stock.describe(p.astype(np.float32), *run(stock.describe, p))
