"""Patch descriptors for stock monitoring: checks, then the native kernel or its twin."""

from __future__ import annotations

import numpy as np

from veilcam_native import stock_kernels as _k

COLOUR_BINS = _k.COLOUR_BINS
EDGE_BINS = _k.EDGE_BINS


def describe(
    p: np.ndarray,
    zgrey: np.ndarray,
    flat: np.ndarray,
    mean: np.ndarray,
    colour: np.ndarray,
    edges: np.ndarray,
) -> None:
    """Descriptors of the patches ``p`` (N, H, W, 3) uint8 into float32 arrays (see
    ``_stock_py.describe``); patches at least 4 x 4."""
    if not isinstance(p, np.ndarray) or p.dtype != np.uint8 or p.ndim != 4 or p.shape[3] != 3:
        raise TypeError("patches must be an (N, H, W, 3) uint8 numpy array")
    n, h, w, _ = p.shape
    if h < 4 or w < 4:
        raise ValueError(f"patches must be at least 4 x 4, not {w} x {h}")
    want = {
        "zgrey": (zgrey, (n, h * w)),
        "flat": (flat, (n,)),
        "mean": (mean, (n, 3)),
        "colour": (colour, (n, COLOUR_BINS)),
        "edges": (edges, (n, EDGE_BINS)),
    }
    for name, (arr, shape) in want.items():
        if not isinstance(arr, np.ndarray) or arr.dtype != np.float32 or arr.shape != shape:
            raise TypeError(f"{name} must be a float32 array of shape {shape}")
        if not arr.flags.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous")
    _k.describe(np.ascontiguousarray(p), zgrey, flat, mean, colour, edges)
