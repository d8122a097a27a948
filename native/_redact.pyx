# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Redaction kernels: fill, pixelate and box blur over boxes, in place.

Shapes and dtypes are checked by the wrapper (``redact.py``); these loops trust them.
Images are HxWxC uint8, C-contiguous; boxes are (x0, y0, x1, y1) int64, end-exclusive,
and are clipped to the image here (empty ones skipped), so no box can write out of
bounds. Results equal ``_redact_py`` exactly.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from _rounding cimport rounded_mean

cdef extern from *:
    # Byte pointers may alias anything in C, which stops the compiler from vectorising
    # the row loops; these buffers never overlap, and restrict says so.
    ctypedef uint8_t* u8_restrict "uint8_t* __restrict__"
    ctypedef uint32_t* u32_restrict "uint32_t* __restrict__"

cdef extern from "redact_rows.h":
    void vc_prefix_px(const uint32_t* vs, uint32_t* pre, Py_ssize_t W, Py_ssize_t C) nogil
    void vc_vslide(uint32_t* vs, const uint8_t* add, const uint8_t* sub, Py_ssize_t w) nogil
    void vc_means_f32(uint8_t* row, const uint32_t* pre, Py_ssize_t k_lo, Py_ssize_t k_hi,
                      Py_ssize_t hi, Py_ssize_t lo, float inv, float bias) nogil

cdef extern from "blur_avx512.h":
    ctypedef struct vc_scan_t:
        int C
    int VC_WIDE_OK
    int vc_blur_wide
    bint vc_blur_has_wide() nogil
    void vc_scan_init(vc_scan_t* t, int C) nogil
    Py_ssize_t VC_VS_INDEX(Py_ssize_t k) nogil
    void vc_blur_row_wide(const vc_scan_t* t, const uint8_t* add, int sub, uint16_t* q,
                          Py_ssize_t hi, Py_ssize_t lo, uint16_t* slot, uint32_t* vs,
                          uint8_t* out, Py_ssize_t w, Py_ssize_t vn, const int32_t* hn,
                          Py_ssize_t edge_lo, Py_ssize_t edge_hi, float eps,
                          const uint8_t* ahead) nogil


cdef inline void _pattern(u8_restrict dst, const uint8_t* colour, Py_ssize_t n,
                          Py_ssize_t C) noexcept nogil:
    cdef Py_ssize_t x, c
    for x in range(n):
        for c in range(C):
            dst[x * C + c] = colour[c]


cdef inline bint _clip(const int64_t[:, ::1] boxes, Py_ssize_t i, Py_ssize_t H,
                       Py_ssize_t W, Py_ssize_t* b) noexcept nogil:
    """Box i clipped to a WxH image into b[0..3]; false when nothing of it is left."""
    b[0] = <Py_ssize_t>min(max(boxes[i, 0], 0), W)
    b[1] = <Py_ssize_t>min(max(boxes[i, 1], 0), H)
    b[2] = <Py_ssize_t>min(max(boxes[i, 2], 0), W)
    b[3] = <Py_ssize_t>min(max(boxes[i, 3], 0), H)
    return b[2] > b[0] and b[3] > b[1]


def fill_boxes(uint8_t[:, :, ::1] image, const int64_t[:, ::1] boxes,
               const uint8_t[::1] colour):
    cdef Py_ssize_t i, y, w, C = image.shape[2]
    cdef Py_ssize_t H = image.shape[0], W = image.shape[1]
    cdef Py_ssize_t wmax = 0
    cdef Py_ssize_t b[4]
    for i in range(boxes.shape[0]):
        if _clip(boxes, i, H, W, b):
            wmax = max(wmax, b[2] - b[0])
    cdef uint8_t* line = <uint8_t*>malloc(wmax * C + 1)
    if line == NULL:
        raise MemoryError("fill buffer")
    try:
        with nogil:
            # One row of the colour, copied onto every row of every box.
            _pattern(line, &colour[0], wmax, C)
            for i in range(boxes.shape[0]):
                if not _clip(boxes, i, H, W, b):
                    continue
                w = (b[2] - b[0]) * C
                for y in range(b[1], b[3]):
                    memcpy(&image[y, b[0], 0], line, w)
    finally:
        free(line)


def pixelate_boxes(uint8_t[:, :, ::1] image, const int64_t[:, ::1] boxes,
                   Py_ssize_t max_cells):
    """Square cells of ceil(width / max_cells) pixels (width after clipping)."""
    cdef Py_ssize_t i, cy, cx, y, x, c, ye, xe, n, cell
    cdef Py_ssize_t C = image.shape[2]
    cdef Py_ssize_t H = image.shape[0], W = image.shape[1]
    cdef Py_ssize_t b[4]
    if max_cells < 1:
        raise ValueError(f"max_cells must be at least 1, not {max_cells}")
    cdef int64_t total[8]
    cdef uint8_t mean[8]
    cdef const uint8_t* px
    cdef uint8_t* line = <uint8_t*>malloc(image.shape[1] * C + 1)
    if line == NULL:
        raise MemoryError("pixelate buffer")
    try:
        with nogil:
            for i in range(boxes.shape[0]):
                if not _clip(boxes, i, H, W, b):
                    continue
                cell = max(1, (b[2] - b[0] + max_cells - 1) // max_cells)
                cy = b[1]
                while cy < b[3]:
                    ye = min(cy + cell, b[3])
                    cx = b[0]
                    # The means of one band of cells go into one row, then that row is
                    # copied onto every row of the band.
                    while cx < b[2]:
                        xe = min(cx + cell, b[2])
                        n = (ye - cy) * (xe - cx)
                        for c in range(C):
                            total[c] = 0
                        for y in range(cy, ye):
                            px = &image[y, cx, 0]
                            for x in range(xe - cx):
                                for c in range(C):
                                    total[c] += px[x * C + c]
                        for c in range(C):
                            mean[c] = <uint8_t>((total[c] + n // 2) // n)
                        _pattern(line + (cx - b[0]) * C, mean, xe - cx, C)
                        cx += cell
                    for y in range(cy, ye):
                        memcpy(&image[y, b[0], 0], line, (b[2] - b[0]) * C)
                    cy += cell
    finally:
        free(line)


cdef enum:
    FLOAT_EXACT_MAX_N = 12000
cdef float FLOAT_EPSILON = 4e-5
# For tests: the window counts and epsilon of the float32 path.
FLOAT_PATH = (FLOAT_EXACT_MAX_N, FLOAT_EPSILON)


cdef inline uint8_t _mean(int64_t total, int64_t n) noexcept nogil:
    return rounded_mean(total, n, 1.0 / n)


cdef inline void _prefix(u32_restrict vs, u32_restrict pre, Py_ssize_t W,
                         Py_ssize_t C) noexcept nogil:
    """pre[k + C] = vs[c] + vs[c + C] + ... + vs[k]: running sums held in registers (a
    loop through memory would wait on store forwarding at every step)."""
    cdef Py_ssize_t x, c
    cdef uint32_t s0 = 0
    cdef uint32_t acc[8]
    if C == 3 or C == 4:
        vc_prefix_px(vs, pre, W, C)
    elif C == 1:
        for x in range(W):
            s0 += vs[x]
            pre[x + 1] = s0
    else:
        for c in range(C):
            acc[c] = 0
        for x in range(W):
            for c in range(C):
                acc[c] += vs[x * C + c]
                pre[(x + 1) * C + c] = acc[c]


cdef inline void _edge(u8_restrict row, u32_restrict pre, Py_ssize_t x, Py_ssize_t rh,
                       Py_ssize_t W, Py_ssize_t C, Py_ssize_t vn) noexcept nogil:
    """Output pixel x of a row where the box edge cuts the window: exact count, scalar."""
    cdef Py_ssize_t lo = x - rh if x - rh > 0 else 0
    cdef Py_ssize_t hi = x + rh if x + rh < W - 1 else W - 1
    cdef Py_ssize_t c, n = vn * (hi - lo + 1)
    for c in range(C):
        row[x * C + c] = _mean(pre[(hi + 1) * C + c] - pre[lo * C + c], n)


cdef void _blur_box(uint8_t[:, :, ::1] image, Py_ssize_t x0, Py_ssize_t y0, Py_ssize_t x1,
                    Py_ssize_t y1, Py_ssize_t radius, uint32_t* vsum, uint32_t* prefix,
                    uint8_t* ring) noexcept nogil:
    """Column sums over the vertical window are kept current row by row (vector adds); a
    prefix sum over them turns every horizontal window into one subtraction. Original rows
    the vertical window still needs after they are overwritten are kept in a ring."""
    cdef Py_ssize_t C = image.shape[2]
    cdef Py_ssize_t W = x1 - x0
    cdef Py_ssize_t w = W * C
    # A radius past the box's size reaches the same pixels as one the size of the box.
    cdef Py_ssize_t r = min(radius, y1 - y0)
    cdef Py_ssize_t rh = min(radius, W)
    cdef Py_ssize_t y, x, k, c, vn, n, slot, k_lo, k_hi
    cdef u8_restrict row
    cdef u8_restrict old
    cdef u32_restrict vs = vsum
    cdef u32_restrict pre = prefix
    cdef float inv, bias
    for k in range(w):
        vs[k] = 0
    for y in range(y0, min(y0 + r, y1)):  # the window of row y0 - 1: rows y0..y0+r-1
        row = &image[y, x0, 0]
        for k in range(w):
            vs[k] += row[k]
    for c in range(C):
        pre[c] = 0
    for y in range(y0, y1):
        slot = y % (r + 1)
        old = ring + slot * w  # original row y - r - 1, once there is one
        # The window slides: row y + r comes in, row y - r - 1 (kept in the ring) goes out.
        vc_vslide(vs, &image[y + r, x0, 0] if y + r < y1 else NULL,
                  old if y - r - 1 >= y0 else NULL, w)
        vn = min(y1 - 1, y + r) - max(y0, y - r) + 1
        row = &image[y, x0, 0]
        memcpy(ring + slot * w, row, w)  # rows y+1..y+r+1 still need the original row y
        _prefix(vs, pre, W, C)
        for x in range(min(rh, W)):
            _edge(row, pre, x, rh, W, C, vn)
        for x in range(max(W - rh, rh), W):
            _edge(row, pre, x, rh, W, C, vn)
        # Interior: one window size, so one reciprocal; a plain loop the compiler vectorises.
        if W - 2 * rh > 0:
            n = vn * (2 * rh + 1)
            k_lo, k_hi = rh * C, (W - rh) * C
            if n <= FLOAT_EXACT_MAX_N:
                # float32 is exact here: near 255 its rounding error is at most ~3.1e-5,
                # which FLOAT_EPSILON covers, and the two stay below the 1/n gap between
                # a mean and the next integer (1/12000 > 4e-5 + 3.1e-5).
                inv = 1.0 / n
                bias = <float>(n // 2) * inv + FLOAT_EPSILON  # rounding half up
                vc_means_f32(row, pre, k_lo, k_hi, C + rh * C, rh * C, inv, bias)
            else:
                for k in range(k_lo, k_hi):
                    row[k] = _mean(pre[k + C + rh * C] - pre[k - rh * C], n)


cdef enum:
    # The wide path's ring holds 2r+1 rows of 16-bit window sums; past this it is left to
    # the column-sums-first path (every other CPU's), whose ring holds r+1 rows of bytes.
    WIDE_RING_MAX_BYTES = 16 << 20


cdef inline bint _wide_ok(bint wide, Py_ssize_t W, Py_ssize_t h, Py_ssize_t C,
                          Py_ssize_t radius) noexcept nogil:
    """Whether a W x h box takes the AVX-512 path (where ``wide``, the CPU has it): a
    horizontal window sum must fit a signed 16-bit lane (at most 128 pixels), every count
    the float32 means (FLOAT_EXACT_MAX_N)."""
    cdef Py_ssize_t r = min(radius, h), rh = min(radius, W)
    cdef Py_ssize_t across = min(2 * rh + 1, W), down = min(2 * r + 1, h)
    return (wide and C <= 16 and across <= 128
            and across * down <= FLOAT_EXACT_MAX_N
            and (2 * r + 1) * W * C * 2 <= WIDE_RING_MAX_BYTES)


cdef void _blur_box_wide(uint8_t[:, :, ::1] image, Py_ssize_t x0, Py_ssize_t y0,
                         Py_ssize_t x1, Py_ssize_t y1, Py_ssize_t radius, vc_scan_t* scan,
                         uint32_t* vs, uint16_t* q, uint16_t* ring,
                         int32_t* hn) noexcept nogil:
    """The same means as _blur_box, horizontal window first (see vc_blur_row_wide)."""
    cdef Py_ssize_t C = image.shape[2]
    cdef Py_ssize_t W = x1 - x0
    cdef Py_ssize_t w = W * C
    cdef Py_ssize_t r = min(radius, y1 - y0)
    cdef Py_ssize_t rh = min(radius, W)
    cdef Py_ssize_t hi = rh * C, lo = (rh + 1) * C, nslot = 2 * r + 1
    cdef Py_ssize_t y, x, k
    cdef const uint8_t* add
    vc_scan_init(scan, <int>C)
    for k in range(lo):
        q[k] = 0
    for k in range(w + 32):
        vs[k] = 0
        hn[k] = 1
    for k in range(w):  # window widths, in vs's order
        x = k // C
        hn[VC_VS_INDEX(k)] = min(x + rh, W - 1) - max(x - rh, 0) + 1
    for y in range(y0, min(y0 + r, y1)):  # the window of row y0 - 1: rows y0..y0+r-1
        vc_blur_row_wide(scan, &image[y, x0, 0], 0, q, hi, lo, ring + ((y - y0) % nslot) * w,
                         vs, NULL, w, 0, hn, 0, 0, 0, &image[y + 1, x0, 0] if y + 1 < y1 else NULL)
    for y in range(y0, y1):
        # Row y + r comes in and row y - r - 1 goes out, through the ring slot they share.
        add = &image[y + r, x0, 0] if y + r < y1 else NULL
        vc_blur_row_wide(scan, add, y - r - 1 >= y0, q, hi, lo,
                         ring + ((y + r - y0) % nslot) * w, vs, &image[y, x0, 0], w,
                         min(y1 - 1, y + r) - max(y0, y - r) + 1, hn, min(rh, W) * C,
                         max(W - rh, rh) * C, FLOAT_EPSILON,
                         &image[y + r + 1, x0, 0] if y + r + 1 < y1 else NULL)


def box_blur_boxes(uint8_t[:, :, ::1] image, const int64_t[:, ::1] boxes,
                   const int64_t[::1] radii):
    cdef Py_ssize_t i, wmax = 0, rmax = 0, qmax = 0, ringmax = 0, w, r
    cdef Py_ssize_t C = image.shape[2]
    cdef Py_ssize_t H = image.shape[0], W = image.shape[1]
    cdef Py_ssize_t b[4]
    cdef vc_scan_t* scan = NULL
    cdef uint16_t* q = NULL
    cdef uint16_t* ring16 = NULL
    cdef int32_t* hn = NULL
    # Asked once: the buffers below are sized for the paths the boxes will take.
    cdef bint wide = vc_blur_has_wide()
    if radii.shape[0] != boxes.shape[0]:
        raise ValueError(f"{radii.shape[0]} radii for {boxes.shape[0]} boxes")
    for i in range(boxes.shape[0]):
        if radii[i] < 0:
            raise ValueError("blur radius must not be negative")
        if _clip(boxes, i, H, W, b):
            w = (b[2] - b[0]) * C
            wmax = max(wmax, w)
            r = min(radii[i], b[3] - b[1])
            if _wide_ok(wide, b[2] - b[0], b[3] - b[1], C, radii[i]):
                qmax = max(qmax, w + (2 * min(radii[i], b[2] - b[0]) + 1) * C + 64)
                ringmax = max(ringmax, (2 * r + 1) * w)
            else:
                rmax = max(rmax, r)
    cdef uint32_t* vsum = <uint32_t*>malloc((wmax + 33) * sizeof(uint32_t))  # 32: wide path
    cdef uint32_t* prefix = <uint32_t*>malloc((wmax + C + 1) * sizeof(uint32_t))
    cdef uint8_t* ring = <uint8_t*>malloc((wmax + 1) * (rmax + 1))
    try:
        if vsum == NULL or prefix == NULL or ring == NULL:
            raise MemoryError("box blur buffers")
        if qmax:
            scan = <vc_scan_t*>malloc(sizeof(vc_scan_t))
            q = <uint16_t*>malloc(qmax * sizeof(uint16_t))
            ring16 = <uint16_t*>malloc(ringmax * sizeof(uint16_t))
            hn = <int32_t*>malloc((wmax + 32) * sizeof(int32_t))
            if scan == NULL or q == NULL or ring16 == NULL or hn == NULL:
                raise MemoryError("box blur buffers")
        vsum[wmax] = 0  # read as a junk lane by vc_prefix_px: defined, never used
        with nogil:
            for i in range(boxes.shape[0]):
                if not _clip(boxes, i, H, W, b):
                    continue
                if _wide_ok(wide, b[2] - b[0], b[3] - b[1], C, radii[i]):
                    _blur_box_wide(image, b[0], b[1], b[2], b[3], radii[i], scan, vsum, q,
                                   ring16, hn)
                else:
                    _blur_box(image, b[0], b[1], b[2], b[3], radii[i], vsum, prefix, ring)
    finally:
        free(vsum)
        free(prefix)
        free(ring)
        free(scan)
        free(q)
        free(ring16)
        free(hn)


# Whether this CPU runs the AVX-512 box blur (x86-64 with AVX-512BW and VL).
HAS_WIDE = bool(VC_WIDE_OK and vc_blur_has_wide())


def simd(bint allowed):
    """Allow (the default, where the CPU has it) or forbid the AVX-512 box blur; returns
    whether it will run. For tests: the other path is what every other board runs."""
    global vc_blur_wide
    vc_blur_wide = -1 if allowed else 0
    return bool(allowed and HAS_WIDE)


def wide_path(Py_ssize_t width, Py_ssize_t height, Py_ssize_t channels, Py_ssize_t radius):
    """Whether a box of this size (after clipping) and radius takes the AVX-512 path now."""
    return bool(_wide_ok(vc_blur_has_wide(), width, height, channels, radius))


def blend_region(uint8_t[:, :, ::1] image, const uint8_t[:, :, ::1] effect,
                 const uint8_t[:, ::1] alpha, Py_ssize_t x0, Py_ssize_t y0):
    cdef Py_ssize_t y, x, c, C = image.shape[2]
    cdef int32_t a
    with nogil:
        for y in range(alpha.shape[0]):
            for x in range(alpha.shape[1]):
                a = alpha[y, x]
                if a == 0:
                    continue
                for c in range(C):
                    image[y0 + y, x0 + x, c] = <uint8_t>(
                        (effect[y, x, c] * a + image[y0 + y, x0 + x, c] * (255 - a) + 127) // 255)
