"""Redaction kernels' API: checks shapes, dtypes and ranges, clips regions, then calls the
native kernel (or its NumPy twin under ``VEILCAM_NO_EXTENSIONS=1``).

Every function modifies ``image`` in place: a ``uint8`` array HxWx3 (or HxW, or HxWxC with
C <= 8), C-contiguous. Boxes are ``(x0, y0, x1, y1)`` in pixels, end-exclusive; boxes that
touch or cross the image edge are clipped, empty ones are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from veilcam_native import redact_kernels as _k

BoxesLike = np.ndarray | Sequence[Sequence[float]]


def checked_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array, not {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(f"image must be uint8, not {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or not 1 <= image.shape[2] <= 8:
        raise ValueError(f"image must be HxW or HxWxC with C <= 8, not shape {image.shape}")
    if not image.flags.c_contiguous or not image.flags.writeable:
        raise ValueError("image must be C-contiguous and writeable (kernels work in place)")
    return image


def pixel_boxes(boxes: BoxesLike) -> np.ndarray:
    """Boxes rounded outwards to whole pixels -> C-contiguous int64 (N, 4), not clipped.

    Integer boxes pass through without a copy; the kernels clip them to the image.
    """
    arr = np.asarray(boxes)
    if arr.size % 4:
        raise ValueError(f"boxes must be rows of (x0, y0, x1, y1), not shape {arr.shape}")
    if arr.dtype.kind in "iu":  # whole pixels already: no rounding, no finiteness check
        if arr.dtype == np.uint64 and arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ValueError("box coordinates out of range")
        return np.ascontiguousarray(arr.reshape(-1, 4), dtype=np.int64)
    arr = np.asarray(arr, dtype=np.float64).reshape(-1, 4)
    if not np.isfinite(arr).all():
        raise ValueError("boxes must be finite numbers")
    bound = 2.0**62  # far past any image, and still an int64
    return (
        np.concatenate([np.floor(arr[:, :2]), np.ceil(arr[:, 2:])], 1)
        .clip(-bound, bound)
        .astype(np.int64)
    )


def clip_boxes(boxes: BoxesLike, shape: tuple[int, ...]) -> np.ndarray:
    """Round outwards to whole pixels, clip to ``shape``, drop empty boxes -> int64 (N, 4)."""
    out = np.clip(pixel_boxes(boxes), 0, (shape[1], shape[0], shape[1], shape[0]))
    kept: np.ndarray = out[(out[:, 2] > out[:, 0]) & (out[:, 3] > out[:, 1])]
    return kept


def grow_boxes(boxes: BoxesLike, factor: float, shape: tuple[int, ...]) -> np.ndarray:
    """Scale each box about its centre by ``factor`` (>= 1), then clip."""
    if not factor >= 1.0:
        raise ValueError(f"growth factor must be at least 1, not {factor}")
    arr = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    cx, cy = (arr[:, 0] + arr[:, 2]) / 2, (arr[:, 1] + arr[:, 3]) / 2
    hw, hh = (arr[:, 2] - arr[:, 0]) * factor / 2, (arr[:, 3] - arr[:, 1]) * factor / 2
    return clip_boxes(np.stack([cx - hw, cy - hh, cx + hw, cy + hh], axis=1), shape)


def _colour(colour: Sequence[int] | int, channels: int) -> bytes:
    values = [colour] * channels if isinstance(colour, int) else list(colour)
    if len(values) == 1:
        values *= channels
    if len(values) != channels:
        raise ValueError(f"colour needs 1 or {channels} values, not {len(values)}")
    if not all(isinstance(v, int | np.integer) and 0 <= v <= 255 for v in values):
        raise ValueError(f"colour values must be whole numbers 0..255, not {values}")
    return bytes(values)


def fill(image: np.ndarray, boxes: BoxesLike, colour: Sequence[int] | int = 0) -> None:
    img = checked_image(image)
    _k.fill_boxes(img, pixel_boxes(boxes), _colour(colour, img.shape[2]))


def pixelate(image: np.ndarray, boxes: BoxesLike, max_cells: int = 5) -> None:
    """Square cells, at most ``max_cells`` across each box; each cell its mean colour."""
    if max_cells < 1:
        raise ValueError(f"max_cells must be at least 1, not {max_cells}")
    _k.pixelate_boxes(checked_image(image), pixel_boxes(boxes), int(max_cells))


def box_blur(image: np.ndarray, boxes: BoxesLike, radius: int | Sequence[int]) -> None:
    """Mean over a (2r+1)x(2r+1) window clamped to each box; O(1) per pixel for any radius."""
    img = checked_image(image)
    b = pixel_boxes(boxes)
    if isinstance(radius, int | np.integer):
        if radius < 0:
            raise ValueError(f"blur radius must not be negative, not {radius}")
        radii = np.full(len(b), radius, np.int64)
    else:
        radii = np.ascontiguousarray(radius, dtype=np.int64).reshape(-1)
        if len(radii) != len(b):
            raise ValueError(f"{len(radii)} radii for {len(b)} boxes")
        if (radii < 0).any():
            raise ValueError("blur radius must not be negative")
    _k.box_blur_boxes(img, b, radii)


def gaussian_radii(sigma: float, passes: int = 3) -> list[int]:
    """Box radii whose repeated blur approximates a Gaussian of ``sigma`` (Kovesi 2010)."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, not {sigma}")
    ideal = math.sqrt(12 * sigma * sigma / passes + 1)
    lower = int(math.floor(ideal))
    if lower % 2 == 0:
        lower -= 1
    upper = lower + 2
    m = round(
        (12 * sigma * sigma - passes * lower**2 - 4 * passes * lower - 3 * passes)
        / (-4 * lower - 4)
    )
    return [(lower if i < m else upper) // 2 for i in range(passes)]


def gaussian_blur(image: np.ndarray, boxes: BoxesLike, sigma: float) -> None:
    """Three box passes: a Gaussian of ``sigma`` within a few percent."""
    for r in gaussian_radii(sigma):
        box_blur(image, boxes, r)
