"""NumPy twin of ``_stock``: the readable specification of the patch descriptors."""

from __future__ import annotations

import numpy as np

COLOUR_BINS = 15  # 12 hues of coloured pixels, 3 brightness levels of grey ones
EDGE_BINS = 12  # 6 edge orientations, in the upper and the lower half of the patch
MIN_SAT, MIN_VALUE = 0.25, 0.15  # below: a grey pixel


def describe(
    p: np.ndarray,
    zgrey: np.ndarray,
    flat: np.ndarray,
    mean: np.ndarray,
    colour: np.ndarray,
    edges: np.ndarray,
) -> None:
    """Descriptors of N patches ``p`` (N, H, W, 3) uint8, into the given arrays.

    - ``mean`` (N, 3): each channel's mean.
    - ``zgrey`` (N, H*W): grey = (77 R + 150 G + 29 B) / 256, less its mean, over
      sqrt(variance + 1): flat patches correlate with nothing.
    - ``flat`` (N,): mean gradient magnitude (central differences, interior pixels) over
      (mean grey + 8).
    - ``edges`` (N, 12): gradient magnitude by unsigned orientation (6 bins of 30 degrees)
      in the upper and lower halves of the interior (row < H / 2), unit length.
    - ``colour`` (N, 15): share of pixels per hue bin floor(2 * hue), hue in [0, 6) from
      HSV, for pixels with saturation >= 0.25 and value >= 0.15; the others in bin
      12 + min(2, floor(3 * value)).
    """
    n, h, w, _ = p.shape
    rgb = p.astype(np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mean[...] = rgb.mean(axis=(1, 2))
    grey = (77 * r + 150 * g + 29 * b) / 256
    m = grey.mean(axis=(1, 2), keepdims=True)
    var = ((grey - m) ** 2).mean(axis=(1, 2), keepdims=True)
    zgrey[...] = ((grey - m) / np.sqrt(var + 1)).reshape(n, h * w)
    gx = (grey[:, 1:-1, 2:] - grey[:, 1:-1, :-2]) / 2
    gy = (grey[:, 2:, 1:-1] - grey[:, :-2, 1:-1]) / 2
    mag = np.sqrt(gx * gx + gy * gy)
    flat[...] = mag.mean(axis=(1, 2)) / (m[:, 0, 0] + 8)
    theta = np.arctan2(gy, gx) % np.pi
    obin = np.minimum((theta * (6 / np.pi)).astype(np.int64), 5)
    rows = np.arange(1, h - 1)[None, :, None]
    obin = obin + np.where(rows < h // 2, 0, 6)
    e = np.zeros((n, EDGE_BINS))
    for k in range(EDGE_BINS):
        e[:, k] = np.where(obin == k, mag, 0).sum(axis=(1, 2))
    edges[...] = e / (np.sqrt((e * e).sum(axis=1, keepdims=True)) + 1e-6)
    hi = np.maximum(np.maximum(r, g), b)
    lo = np.minimum(np.minimum(r, g), b)
    v = hi / 255
    span = hi - lo
    s = np.where(hi > 0, span / np.where(hi > 0, hi, 1), 0)
    safe = np.where(span > 0, span, 1)
    hue = np.where(
        hi == r, ((g - b) / safe) % 6, np.where(hi == g, (b - r) / safe + 2, (r - g) / safe + 4)
    )
    hbin = np.minimum((hue * 2).astype(np.int64), 11)
    grey_bin = 12 + np.minimum((v * 3).astype(np.int64), 2)
    cbin = np.where((s >= MIN_SAT) & (v >= MIN_VALUE), hbin, grey_bin)
    c = np.zeros((n, COLOUR_BINS))
    for k in range(COLOUR_BINS):
        c[:, k] = (cbin == k).sum(axis=(1, 2))
    colour[...] = c / (h * w)
