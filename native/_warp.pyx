# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Image geometry for faces and model inputs: the bilinear affine warp (a face aligned to a
fixed chip, a tile scaled to a model's input) and the area reduction by a whole factor
(a tile shrunk before the warp, so that details average instead of aliasing).

Integer arithmetic throughout: results equal ``_warp_py`` byte for byte. Shapes and
dtypes are checked by the wrapper (``embed.py``).
"""

from libc.math cimport llrint
from libc.stdlib cimport free, malloc
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t

from _rounding cimport rounded_mean

cdef extern from "warp_rows.h":
    int vc_warp_simd
    bint vc_warp_has_simd() nogil
    void vc_warp_row_c3(const uint8_t* src, Py_ssize_t SW, Py_ssize_t SH, const int32_t* px,
                        const int32_t* py, uint8_t* out, Py_ssize_t W) nogil
    void vc_mix_rows(uint16_t* dst, const uint8_t* r0, const uint8_t* r1, int w0, int w1,
                     Py_ssize_t n) nogil
    void vc_add_row_u8(uint32_t* acc, const uint8_t* line, Py_ssize_t w) nogil


HAS_SIMD = vc_warp_has_simd()


def simd(bint allowed):
    """Allow (the default, where the CPU has it) or forbid the SSE4.1 warp row; returns
    whether it will run. For tests: the plain loop is what ARM boards run."""
    global vc_warp_simd
    vc_warp_simd = -1 if allowed else 0
    return bool(allowed and HAS_SIMD)


cdef enum:
    WARP_BITS = 5  # sub-pixel positions in 1/32 pixel, as OpenCV does
    WARP_ONE = 32
    COORD_BITS = 10  # coordinates in 1/1024 pixel, stepped per column and row
    COORD_SHIFT = 5
    COORD_HALF = 16


cdef inline int32_t _px(const uint8_t[:, :, ::1] src, Py_ssize_t y, Py_ssize_t x,
                        Py_ssize_t c) noexcept nogil:
    if 0 <= y < src.shape[0] and 0 <= x < src.shape[1]:
        return src[y, x, c]
    return 0


cdef void _warp_axis(const uint8_t[:, :, ::1] src, double cc, double e, double f,
                     uint8_t[:, :, ::1] dst, int32_t* ax, int32_t* px,
                     uint16_t* mix) noexcept nogil:
    """warp_affine for a matrix that only scales and shifts (a tile scaled to a model's
    input): a row's source row and weight are the same for every column, a column's source
    column and weight the same for every row. So each output row first mixes its two source
    rows over the columns it reads (vectorised), then takes two taps a value from that mix:
    ((p00 (32-iy) + p10 iy)(32-ix) + (p01 (32-iy) + p11 iy) ix + 512) >> 10, the general
    loop's sum regrouped, so the same bytes. Columns outside the source read zeros: the mix
    has two zero pixels each side, and positions further out are moved onto them. ax holds
    the column terms a * x in 1/1024 pixel, as the general loop makes them."""
    cdef Py_ssize_t C = dst.shape[2], W = dst.shape[1], H = dst.shape[0]
    cdef Py_ssize_t SW = src.shape[1], SH = src.shape[0]
    cdef Py_ssize_t x, y, c, x0, y0, lo, hi, n, k0
    cdef int32_t ix, iy, fy
    cdef double scale = 1 << COORD_BITS
    cdef int32_t bx = <int32_t>(llrint(cc * scale) + COORD_HALF)
    cdef uint8_t* out
    cdef const uint16_t* m
    lo, hi = SW, -2
    for x in range(W):
        px[x] = (ax[x] + bx) >> COORD_SHIFT
        x0 = min(max(px[x] >> WARP_BITS, -2), SW)
        lo, hi = min(lo, x0), max(hi, x0 + 1)
    # mix[(x - lo) * C + c] for source columns lo..hi; zeros outside 0..SW-1. Each output
    # column's offset into it (in ax) and weight (in px), once for every row.
    n = (hi - lo + 1) * C
    for x in range(W):
        ax[x] = <int32_t>((min(max(px[x] >> WARP_BITS, -2), SW) - lo) * C)
        px[x] = px[x] & (WARP_ONE - 1)
    for y in range(H):
        fy = <int32_t>(llrint((e * y + f) * scale) + COORD_HALF) >> COORD_SHIFT
        y0, iy = fy >> WARP_BITS, fy & (WARP_ONE - 1)
        for k0 in range(n):
            mix[k0] = 0
        if max(lo, 0) <= min(hi, SW - 1):
            vc_mix_rows(mix + (max(lo, 0) - lo) * C,
                        &src[y0, max(lo, 0), 0] if 0 <= y0 < SH else NULL,
                        &src[y0 + 1, max(lo, 0), 0] if 0 <= y0 + 1 < SH else NULL,
                        WARP_ONE - iy, iy, (min(hi, SW - 1) - max(lo, 0) + 1) * C)
        out = &dst[y, 0, 0]
        if C == 3:
            for x in range(W):
                ix = px[x]
                m = mix + ax[x]
                out[3 * x] = <uint8_t>((m[0] * (WARP_ONE - ix) + m[3] * ix + 512) >> 10)
                out[3 * x + 1] = <uint8_t>((m[1] * (WARP_ONE - ix) + m[4] * ix + 512) >> 10)
                out[3 * x + 2] = <uint8_t>((m[2] * (WARP_ONE - ix) + m[5] * ix + 512) >> 10)
            continue
        for x in range(W):
            ix = px[x]
            m = mix + ax[x]
            for c in range(C):
                out[x * C + c] = <uint8_t>(
                    (m[c] * (WARP_ONE - ix) + m[c + C] * ix + 512) >> 10)


def warp_affine(const uint8_t[:, :, ::1] src, const double[::1] inverse,
                uint8_t[:, :, ::1] dst):
    """Per row: the fixed-point source position of every column (a plain loop the compiler
    vectorises), then the bilinear samples, with bounds checks only near the source edge."""
    cdef Py_ssize_t y, x, c, x0, y0, C = dst.shape[2], W = dst.shape[1]
    cdef Py_ssize_t SW = src.shape[1], SH = src.shape[0]
    cdef int64_t by, ey
    cdef int32_t ix, iy, w00, w01, w10, w11, fx, fy
    cdef const uint8_t* p0
    cdef const uint8_t* p1
    cdef uint8_t* out
    cdef double a = inverse[0], b = inverse[1], cc = inverse[2]
    cdef double d = inverse[3], e = inverse[4], f = inverse[5]
    cdef double scale = 1 << COORD_BITS
    cdef Py_ssize_t row = SW * C
    # The column terms of the source coordinates, once for every row; then one row's positions.
    cdef int32_t* ax = <int32_t*>malloc((W + 1) * sizeof(int32_t))
    cdef int32_t* dx = <int32_t*>malloc((W + 1) * sizeof(int32_t))
    cdef int32_t* px = <int32_t*>malloc((W + 1) * sizeof(int32_t))
    cdef int32_t* py = <int32_t*>malloc((W + 1) * sizeof(int32_t))
    cdef uint16_t* mix = NULL
    try:
        if ax == NULL or dx == NULL or px == NULL or py == NULL:
            raise MemoryError("warp buffers")
        if max(abs(a), abs(d)) * W + max(abs(b), abs(e)) * dst.shape[0] + abs(cc) + abs(f) > 1e6:
            raise ValueError("warp reaches more than a million pixels away")
        if b == 0 and d == 0:  # scale and shift only: separable (see _warp_axis)
            mix = <uint16_t*>malloc((SW + 4) * C * sizeof(uint16_t))
            if mix == NULL:
                raise MemoryError("warp buffers")
            with nogil:
                for x in range(W):
                    ax[x] = <int32_t>llrint(a * x * scale)
                _warp_axis(src, cc, e, f, dst, ax, px, mix)
            return
        with nogil:
            for x in range(W):
                ax[x] = <int32_t>llrint(a * x * scale)
                dx[x] = <int32_t>llrint(d * x * scale)
            for y in range(dst.shape[0]):
                out = &dst[y, 0, 0]
                by = llrint((b * y + cc) * scale) + COORD_HALF
                ey = llrint((e * y + f) * scale) + COORD_HALF
                for x in range(W):  # positions in 1/32 pixel
                    px[x] = (ax[x] + <int32_t>by) >> COORD_SHIFT
                    py[x] = (dx[x] + <int32_t>ey) >> COORD_SHIFT
                if C == 3:
                    vc_warp_row_c3(&src[0, 0, 0], SW, SH, px, py, out, W)
                    continue
                for x in range(W):
                    fx, fy = px[x], py[x]
                    x0, ix = fx >> WARP_BITS, fx & (WARP_ONE - 1)
                    y0, iy = fy >> WARP_BITS, fy & (WARP_ONE - 1)
                    w00 = (WARP_ONE - ix) * (WARP_ONE - iy)
                    w01 = ix * (WARP_ONE - iy)
                    w10 = (WARP_ONE - ix) * iy
                    w11 = ix * iy
                    if 0 <= x0 and x0 + 1 < SW and 0 <= y0 and y0 + 1 < SH:
                        p0 = &src[y0, x0, 0]  # inside: no bounds checks
                        p1 = p0 + row
                        for c in range(C):
                            out[x * C + c] = <uint8_t>(
                                (p0[c] * w00 + p0[c + C] * w01 + p1[c] * w10
                                 + p1[c + C] * w11 + 512) >> 10)
                    else:
                        for c in range(C):
                            out[x * C + c] = <uint8_t>((_px(src, y0, x0, c) * w00
                                                        + _px(src, y0, x0 + 1, c) * w01
                                                        + _px(src, y0 + 1, x0, c) * w10
                                                        + _px(src, y0 + 1, x0 + 1, c) * w11
                                                        + 512) >> 10)
    finally:
        free(ax)
        free(dx)
        free(px)
        free(py)
        free(mix)


def reduce_area(const uint8_t[:, :, :] src, Py_ssize_t k, uint8_t[:, :, ::1] out):
    """Each k x k block's rounded mean (blocks cut by the edge: over the pixels they have).
    Rows may be strided (a tile of a frame, no copy); the wrapper checks that a row's pixels
    are packed. Per output row, the block's source rows are summed column by column (a loop
    the compiler vectorises), then each block's columns."""
    cdef Py_ssize_t H = src.shape[0], W = src.shape[1], C = src.shape[2]
    cdef Py_ssize_t i, j, y, x, c, y1, x1, n
    cdef Py_ssize_t w = W * C, n_inv = 0
    cdef uint32_t total, t0, t1, t2
    cdef double inv = 0
    if not 1 <= k <= 1024:  # blocks of at most 2^20 pixels: sums well inside 32 bits
        raise ValueError(f"reduction factor must be 1..1024, not {k}")
    if (C > 1 and src.strides[2] != 1) or src.strides[1] != C:
        raise ValueError("a row's pixels must be packed (channels last, no gaps)")
    if (out.shape[0], out.shape[1], out.shape[2]) != ((H + k - 1) // k, (W + k - 1) // k, C):
        raise ValueError("out must be ceil(H / k) x ceil(W / k) x C")
    cdef uint32_t* acc = <uint32_t*>malloc((w + 1) * sizeof(uint32_t))
    if acc == NULL:
        raise MemoryError("reduce buffer")
    try:
        with nogil:
            for i in range(out.shape[0]):
                y1 = min((i + 1) * k, H)
                for x in range(w):
                    acc[x] = 0
                for y in range(i * k, y1):
                    vc_add_row_u8(acc, &src[y, 0, 0], w)
                for j in range(out.shape[1]):
                    x1 = min((j + 1) * k, W)
                    n = (y1 - i * k) * (x1 - j * k)
                    if n != n_inv:  # the last block of a row or column may be cut
                        n_inv, inv = n, 1.0 / n
                    if C == 3 and k == 2 and n == 4:  # whole 2x2 blocks (tiles at twice the input)
                        x = 6 * j
                        out[i, j, 0] = <uint8_t>((acc[x] + acc[x + 3] + 2) >> 2)
                        out[i, j, 1] = <uint8_t>((acc[x + 1] + acc[x + 4] + 2) >> 2)
                        out[i, j, 2] = <uint8_t>((acc[x + 2] + acc[x + 5] + 2) >> 2)
                        continue
                    if C == 3:  # one pass over the block's columns for the three channels
                        t0 = t1 = t2 = 0
                        for x in range(j * k, x1):
                            t0 += acc[3 * x]
                            t1 += acc[3 * x + 1]
                            t2 += acc[3 * x + 2]
                        out[i, j, 0] = rounded_mean(t0, n, inv)
                        out[i, j, 1] = rounded_mean(t1, n, inv)
                        out[i, j, 2] = rounded_mean(t2, n, inv)
                        continue
                    for c in range(C):
                        total = 0
                        for x in range(j * k, x1):
                            total += acc[x * C + c]
                        out[i, j, c] = rounded_mean(total, n, inv)
    finally:
        free(acc)
