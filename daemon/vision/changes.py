"""Changes against a fridge camera's calibrated reference picture that could be a person:
an arm the models miss.

A fridge's picture is never its reference again pixel for pixel: the light differs, the
camera shakes with the door, products are taken and put back a little elsewhere. So the
comparison is made at a quarter of the size, after bringing the frame's light to the
reference's, and a pixel only counts as changed when no reference pixel near it (within
1% of the picture) is within the threshold of it. Of what changed, a blob is kept when it
could be someone: it touches the picture's edge (an arm reaching in from where the shopper
stands) or has skin in it. A blob inside the shelves without skin is the stock changing,
which stock monitoring must see, so it is not painted.
"""

from __future__ import annotations

import numpy as np

from veilcam_native import mask as masks
from veilcam_native.embed import reduce_area

SCALE = 4  # the comparison runs at a quarter of the frame's size
SKIN_SHARE = 0.15  # of a changed blob's pixels, to count as a hand or arm


GAIN_SAMPLES = 20_000  # pixels the light's median is taken over: plenty, and 10x quicker


def light_gain(
    frame: np.ndarray, reference: np.ndarray, where: np.ndarray | None = None
) -> np.ndarray:
    """Per-channel factors bringing ``reference``'s light to ``frame``'s: the median ratio
    where the reference is neither dark nor blown out (and ``where`` is set, if given; all
    of that if ``where`` leaves under 5% of the picture), over an even sample of pixels."""
    step = max(1, int((frame.shape[0] * frame.shape[1] / GAIN_SAMPLES) ** 0.5))
    frame, reference = frame[::step, ::step], reference[::step, ::step]
    ok = (reference.min(axis=2) > 30) & (reference.max(axis=2) < 245)
    if where is not None and (ok & where[::step, ::step]).sum() >= 0.05 * ok.size:
        ok &= where[::step, ::step]
    if ok.sum() < 100:
        return np.ones(3, np.float32)
    ratio = (frame[ok].astype(np.float32) + 1) / (reference[ok].astype(np.float32) + 1)
    out: np.ndarray = np.clip(np.median(ratio, axis=0), 0.2, 5.0).astype(np.float32)
    return out


def _range(a: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's per-channel minimum and maximum over the (2r+1)^2 window around it."""
    pad = np.pad(a, ((r, r), (r, r), (0, 0)), mode="edge")
    h, w = a.shape[:2]
    rows_lo = np.minimum.reduce([pad[i : i + h] for i in range(2 * r + 1)])
    rows_hi = np.maximum.reduce([pad[i : i + h] for i in range(2 * r + 1)])
    lo = np.minimum.reduce([rows_lo[:, j : j + w] for j in range(2 * r + 1)])
    hi = np.maximum.reduce([rows_hi[:, j : j + w] for j in range(2 * r + 1)])
    return lo, hi


def skin_share(pixels: np.ndarray, within: np.ndarray) -> float:
    """Share of the set pixels of ``within`` whose colour is skin's: inside the classic
    YCbCr box (Cr 133-173, Cb 77-127) and the RGB rule of Kovac et al. (red above green
    and blue by a margin, not grey): wide enough for any skin tone, while white cartons
    with a pink tint, which the YCbCr box alone takes for skin, are not."""
    rgb = pixels.astype(np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cr = (r - y) * 0.713 + 128
    cb = (b - y) * 0.564 + 128
    box = (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127) & (y > 40)
    rule = (r > 48) & (r - g > 15) & (r > b) & (rgb.max(axis=2) - rgb.min(axis=2) > 15)
    skin = box & rule
    n = int(np.count_nonzero(within))
    return float(np.count_nonzero(skin & (within != 0)) / n) if n else 0.0


_PREPARED: dict[tuple[int, tuple[int, ...], bytes], tuple[np.ndarray, ...]] = {}


def _reference(reference: np.ndarray, r: int) -> tuple[np.ndarray, ...]:
    """The reference at a quarter of its size and its local minimum and maximum, made once
    per calibration picture (a camera's reference is the same array until recalibrated;
    a sample of its pixels in the key tells a new picture at a reused address)."""
    key = (id(reference), reference.shape, reference[::61, ::59].tobytes())
    got = _PREPARED.get(key)
    if got is None:
        ref = reduce_area(reference, SCALE).astype(np.float32)
        lo, hi = _range(ref, r)
        got = (ref, lo, hi)
        if len(_PREPARED) >= 8:  # a few cameras; a recalibrated one's old entry goes
            _PREPARED.pop(next(iter(_PREPARED)))
        _PREPARED[key] = got
    return got


def changed(
    frame: np.ndarray, reference: np.ndarray, threshold: int = 40, min_area: float = 0.001
) -> np.ndarray:
    """0/1 HxW mask of the changes that could be a person (see the module's text): a
    channel off by more than ``threshold`` from every reference pixel near it, in blobs of
    at least ``min_area`` of the picture."""
    if reference.shape != frame.shape:
        raise ValueError(
            f"reference picture is {reference.shape[1]}x{reference.shape[0]}, the frame "
            f"{frame.shape[1]}x{frame.shape[0]}: recalibrate the camera"
        )
    h, w = frame.shape[:2]
    small = reduce_area(frame, SCALE).astype(np.int16)
    ref, lo, hi = _reference(reference, max(1, round(max(h, w) / 100 / SCALE)))
    # The frame brought to the reference's light (rather than the other way round, so that
    # the reference's side is worked out once per calibration, not once per frame).
    gain = light_gain(small, ref)
    seen = small.astype(np.float32) / gain
    t = threshold / gain
    diff = np.asarray(((seen > hi + t) | (seen < lo - t)).any(axis=2), np.uint8)
    sh, sw = diff.shape
    keep = np.zeros_like(diff)
    least = max(1, int(min_area * diff.size))
    edge = 1
    for x0, y0, x1, y1 in masks.mask_boxes(diff, min_area=least):
        blob = diff[y0:y1, x0:x1]
        touches = x0 <= edge or y0 <= edge or x1 >= sw - edge or y1 >= sh - edge
        if touches or skin_share(small[y0:y1, x0:x1], blob) >= SKIN_SHARE:
            keep[y0:y1, x0:x1] |= blob
    if not keep.any():
        return np.zeros((h, w), np.uint8)
    # Back to the frame's size; growing the regions closes the holes where an arm matches
    # the shelf behind it and covers the soft edge.
    full = np.kron(keep, np.ones((SCALE, SCALE), np.uint8))[:h, :w]
    return masks.dilate(np.ascontiguousarray(full), max(2, max(h, w) // 50))
