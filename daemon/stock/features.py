"""What a still looks like where the facings are: each facing cut into its units' slots,
each slot warped to a small upright patch, and each patch described by its grey pattern
(for correlation with the calibration pictures), its flatness, its colours and the
orientations of its edges (for telling products apart).

Pure computation on uint8 pixels; the warps and the reduction run in the native kernels
(``veilcam_native``), the descriptors in ``veilcam_native.stock`` (kernel and NumPy twin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from veilcam_native import stock as kernels
from veilcam_native import warp_kernels
from veilcam_native.embed import reduce_area

PW, PH = 16, 28  # a unit's patch: products stand taller than wide
WORK_WIDTH = 480  # stills are reduced to about this width before anything else
SHIFTS = [(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]  # patch shifts searched


def reduction(width: int) -> int:
    return max(1, round(width / WORK_WIDTH))


def reduce(pixels: np.ndarray) -> np.ndarray:
    k = reduction(pixels.shape[1])
    return reduce_area(pixels, k) if k > 1 else np.ascontiguousarray(pixels)


def ordered_quad(points: Sequence[tuple[float, float]]) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left of a quadrilateral facing; any other
    polygon stands for its bounding box."""
    p = np.asarray(points, np.float64)
    if len(p) != 4:
        x0, y0 = p.min(axis=0)
        x1, y1 = p.max(axis=0)
        return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
    by_y = p[np.argsort(p[:, 1], kind="stable")]
    top, bottom = by_y[:2], by_y[2:]
    tl, tr = top[np.argsort(top[:, 0])]
    bl, br = bottom[np.argsort(bottom[:, 0])]
    return np.array([tl, tr, br, bl])


@dataclass(frozen=True, slots=True)
class Slot:
    facing: int  # index into the planogram's facings
    unit: int
    inverse: tuple[float, ...]  # patch pixel -> work picture pixel
    box: tuple[float, float, float, float]  # its bounding box in the work picture


def slots(
    polygons: Sequence[Sequence[tuple[float, float]]], capacities: Sequence[int], w: int, h: int
) -> list[Slot]:
    """Each facing's units, side by side along its top and bottom edges; ``polygons`` in
    fractions, the work picture ``w`` x ``h``."""
    out = []
    for i, (poly, cap) in enumerate(zip(polygons, capacities, strict=True)):
        tl, tr, br, bl = ordered_quad([(x * w, y * h) for x, y in poly])
        for u in range(cap):
            t0, t1 = u / cap, (u + 1) / cap
            a, b = tl + (tr - tl) * t0, tl + (tr - tl) * t1
            c = bl + (br - bl) * t0
            d = bl + (br - bl) * t1
            ex, ey = (b - a) / PW, (c - a) / PH
            # pixel centres: patch (0, 0) samples half a step in from the corner
            o = a + 0.5 * ex + 0.5 * ey - 0.5
            inv = (ex[0], ey[0], o[0], ex[1], ey[1], o[1])
            xs = [a[0], b[0], c[0], d[0]]
            ys = [a[1], b[1], c[1], d[1]]
            out.append(
                Slot(i, u, tuple(float(v) for v in inv), (min(xs), min(ys), max(xs), max(ys)))
            )
    return out


def patches(
    work: np.ndarray, where: Sequence[Slot], shift: tuple[float, float] = (0, 0)
) -> np.ndarray:
    """(N, PH, PW, 3) uint8: each slot warped upright, the picture moved by ``shift``."""
    out = np.empty((len(where), PH, PW, 3), np.uint8)
    src = np.ascontiguousarray(work)
    dx, dy = shift
    for n, s in enumerate(where):
        a, b, c, d, e, f = s.inverse
        warp_kernels.warp_affine(src, np.array((a, b, c + dx, d, e, f + dy)), out[n])
    return out


@dataclass(frozen=True, slots=True)
class Described:
    """Descriptors of N patches."""

    zgrey: np.ndarray  # (N, PH*PW) float32, zero mean and unit variance: correlation
    flat: np.ndarray  # (N,) mean gradient over mean brightness: texture
    mean: np.ndarray  # (N, 3) float32 mean colour
    colour: np.ndarray  # (N, COLOUR_BINS) float32, sums to 1
    edges: np.ndarray  # (N, EDGE_BINS) float32, unit length

    def look(self) -> np.ndarray:
        """One vector per patch for telling products apart: colours and edges."""
        return np.concatenate([self.colour, self.edges * 0.5], axis=1)


def describe(p: np.ndarray) -> Described:
    n = len(p)
    zgrey = np.empty((n, PH * PW), np.float32)
    flat = np.empty(n, np.float32)
    mean = np.empty((n, 3), np.float32)
    colour = np.empty((n, kernels.COLOUR_BINS), np.float32)
    edges = np.empty((n, kernels.EDGE_BINS), np.float32)
    if n:
        kernels.describe(np.ascontiguousarray(p), zgrey, flat, mean, colour, edges)
    return Described(zgrey, flat, mean, colour, edges)


def correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise normalised cross-correlation of two (N, D) z-scored arrays."""
    out: np.ndarray = np.einsum("nd,nd->n", a, b) / a.shape[1]
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) similarity of looks: colour histogram intersection plus edge cosine, 0..1.5."""
    c = kernels.COLOUR_BINS
    inter = np.minimum(a[:, None, :c], b[None, :, :c]).sum(axis=2)
    cos = a[:, c:] @ b[:, c:].T * 4  # edges were halved in ``look``
    out: np.ndarray = inter + 0.5 * np.clip(cos, 0, 1)
    return out
