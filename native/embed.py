"""Face-embedding kernels' API: checks shapes, dtypes and ranges, then calls the native
kernel (or its NumPy twin under ``VEILCAM_NO_EXTENSIONS=1``).

Galleries are row-major ``(N, D)``; queries ``(Q, D)`` or a single ``(D,)`` vector. Top-k
results come best first, with the gallery row index of each; ties keep the lower index.
"""

from __future__ import annotations

import math

import numpy as np

from veilcam_native import embed_kernels as _k
from veilcam_native import warp_kernels as _warp


def _matrix(a: np.ndarray, dtype: type, name: str) -> np.ndarray:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, not {type(a).__name__}")
    if a.dtype != dtype:
        raise TypeError(f"{name} must be {np.dtype(dtype).name}, not {a.dtype}")
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"{name} must be (N, D) or (D,), not shape {a.shape}")
    return np.ascontiguousarray(a)


def _pair(
    queries: np.ndarray, gallery: np.ndarray, dtype: type, k: int
) -> tuple[np.ndarray, np.ndarray]:
    q, g = _matrix(queries, dtype, "queries"), _matrix(gallery, dtype, "gallery")
    if q.shape[1] != g.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} dimensions, the gallery {g.shape[1]}")
    if not 1 <= k <= g.shape[0]:
        raise ValueError(f"k must be between 1 and the gallery size {g.shape[0]}, not {k}")
    return q, g


def topk_dot(queries: np.ndarray, gallery: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Largest dot products: float32 -> float32 scores, int8 -> int32 scores."""
    if isinstance(gallery, np.ndarray) and gallery.dtype == np.int8:
        q, g = _pair(queries, gallery, np.int8, k)
        return _k.topk_dot_i8(q, g, k)
    q, g = _pair(queries, gallery, np.float32, k)
    return _k.topk_dot_f32(q, g, k)


def topk_hamming(
    queries: np.ndarray, gallery: np.ndarray, k: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest Hamming distances between packed binary templates (uint8, bytes % 8 == 0)."""
    q, g = _pair(queries, gallery, np.uint8, k)
    if g.shape[1] % 8:
        raise ValueError(f"templates must be whole 64-bit words, not {g.shape[1]} bytes")
    return _k.topk_hamming(q.view(np.uint64), g.view(np.uint64), k)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    """Rows of float32 ``x`` to unit length, in place (returned for convenience)."""
    m = _matrix(x, np.float32, "x")
    if m is not x and m.base is not x:
        raise ValueError("x must be C-contiguous (normalised in place)")
    _k.l2_normalize(m)
    return x


def quantize_i8(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8 codes and the float32 scale that maps them back (x ~ q * s)."""
    m = _matrix(x, np.float32, "x")
    if not np.isfinite(m).all():
        raise ValueError("x must be finite")
    out = np.empty(m.shape, np.int8)
    scales = np.empty(m.shape[0], np.float32)
    _k.quantize_i8(m, out, scales)
    return out, scales


def warp_affine(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Warp ``image`` (HxWxC uint8) by the 2x3 ``matrix`` (source -> destination, as OpenCV's
    ``warpAffine``) into a new ``size`` = (width, height) image; bilinear, zeros outside."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise TypeError("image must be an HxW or HxWxC uint8 numpy array")
    # Checked on plain floats: on a face chip, NumPy's own calls here cost a tenth of the warp.
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (2, 3):
        raise ValueError(f"matrix must be a finite 2x3 affine matrix, not shape {m.shape}")
    (p, q, tx), (r, s, ty) = m.tolist()
    if not all(map(math.isfinite, (p, q, tx, r, s, ty))):
        raise ValueError("matrix must be a finite 2x3 affine matrix, not one with inf or nan")
    width, height = size
    if not (0 < width <= 4096 and 0 < height <= 4096):
        raise ValueError(f"size must be within 1..4096 pixels each way, not {size}")
    det = p * s - q * r
    if abs(det) < 1e-12:
        raise ValueError("matrix is singular: it cannot be inverted")
    # The inverse of [[p, q, tx], [r, s, ty]], written out (np.linalg.inv costs more than
    # warping a face chip).
    inverse = np.array(
        [s / det, -q / det, (q * ty - s * tx) / det, -r / det, p / det, (r * tx - p * ty) / det]
    )
    src = np.ascontiguousarray(image if image.ndim == 3 else image[:, :, None])
    out = np.empty((height, width, src.shape[2]), np.uint8)
    _warp.warp_affine(src, inverse, out)
    return out if image.ndim == 3 else out[:, :, 0]


def reduce_area(image: np.ndarray, k: int) -> np.ndarray:
    """``image`` (HxWxC or HxW uint8, rows may be strided: a tile of a frame) shrunk by the
    whole factor ``k``: each k x k block's mean, rounded half up; blocks the edge cuts
    average the pixels they have, so the result is ceil(H / k) x ceil(W / k)."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise TypeError("image must be an HxW or HxWxC uint8 numpy array")
    # Up to 1024: blocks of at most 2^20 pixels, whose sums stay well inside 32 bits.
    if not isinstance(k, int | np.integer) or not 1 <= k <= 1024:
        raise ValueError(f"reduction factor must be a whole number 1..1024, not {k!r}")
    if not image.size:
        raise ValueError(f"image must not be empty, not shape {image.shape}")
    src = image if image.ndim == 3 else image[:, :, None]
    if (src.shape[2] > 1 and src.strides[2] != 1) or src.strides[1] != src.shape[2]:
        src = np.ascontiguousarray(src)  # pixels must be packed within a row
    h, w = -(-src.shape[0] // k), -(-src.shape[1] // k)
    out = np.empty((h, w, src.shape[2]), np.uint8)
    _warp.reduce_area(src, int(k), out)
    return out if image.ndim == 3 else out[:, :, 0]


def keyed_rotation(key: bytes, dim: int) -> np.ndarray:
    """A ``dim`` x ``dim`` orthogonal float32 matrix determined by ``key`` (>= 16 bytes).

    Templates transformed under different keys cannot be compared with each other, and a
    new key renews them all: this is what makes a site's templates unlinkable to another's.
    Distances and dot products are preserved, so matching within one key works as before.
    """
    import hashlib

    if not isinstance(key, bytes | bytearray) or len(key) < 16:
        raise ValueError("key must be at least 16 bytes")
    if not 1 <= dim <= 4096:
        raise ValueError(f"dim must be 1..4096, not {dim}")
    seed = int.from_bytes(hashlib.sha256(b"veilcam-rotation\0" + bytes(key)).digest(), "big")
    gauss = np.random.Generator(np.random.PCG64(seed)).standard_normal((dim, dim))
    q, r = np.linalg.qr(gauss)
    q *= np.sign(np.diag(r))  # unique Q: the Haar-random orthogonal matrix for this seed
    return np.ascontiguousarray(q, dtype=np.float32)


def apply_rotation(x: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Rows of ``x`` (N, D) float32 multiplied by the orthogonal ``rotation`` (D, D)."""
    m = _matrix(x, np.float32, "x")
    r = _matrix(rotation, np.float32, "rotation")
    if r.shape != (m.shape[1], m.shape[1]):
        raise ValueError(f"rotation must be {m.shape[1]}x{m.shape[1]}, not {r.shape}")
    out = np.empty_like(m)
    _k.apply_rotation(m, r, out)
    return out if x.ndim == 2 else out[0]
