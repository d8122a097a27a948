# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Mask helpers for the vision pipeline: dilation, difference against a reference picture,
share of a mask inside boxes, and connected-component bounding boxes.

Shapes and dtypes are checked by the wrapper (``mask.py``); results equal ``_mask_py``.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.stdlib cimport free, malloc

import numpy as np


cdef extern from "mask_rows.h":
    void vc_count_rows(int32_t* cnt, const uint8_t* add, const uint8_t* sub,
                       Py_ssize_t w) nogil
    void vc_any(uint8_t* dst, const int32_t* cnt, Py_ssize_t w) nogil
    void vc_or_shifted(uint8_t* dst, const uint8_t* src, Py_ssize_t s, Py_ssize_t n) nogil


def dilate(const uint8_t[:, ::1] mask, Py_ssize_t r, uint8_t[:, ::1] out):
    """Square dilation, separable. Down the columns, a running count of set pixels in the
    window (vectorised adds). Along each row, with r zeros either side, ORs of runs of 1, 2,
    4, ... pixels by doubling, then each window of 2r+1 as the OR of the two longest runs
    that fit at its ends (they overlap: OR does not mind): log2(r) vectorised passes a row
    instead of a sequential running sum."""
    cdef Py_ssize_t H = mask.shape[0], W = mask.shape[1], y, x, s
    r = min(r, max(H, W))  # a wider window covers nothing more
    cdef Py_ssize_t span = 2 * r + 1, L = W + 2 * r
    cdef int32_t* col = <int32_t*>malloc((W + 1) * sizeof(int32_t))
    cdef uint8_t* a = <uint8_t*>malloc(L + 1)
    cdef uint8_t* b = <uint8_t*>malloc(L + 1)
    cdef uint8_t* t
    if col == NULL or a == NULL or b == NULL:
        free(col)
        free(a)
        free(b)
        raise MemoryError("dilate buffers")
    try:
        with nogil:
            for x in range(W):
                col[x] = 0
            for y in range(min(r, H)):
                vc_count_rows(col, &mask[y, 0], NULL, W)
            for y in range(H):
                vc_count_rows(col, &mask[y + r, 0] if y + r < H else NULL,
                              &mask[y - r - 1, 0] if y - r - 1 >= 0 else NULL, W)
                for x in range(r):
                    a[x] = 0
                    a[r + W + x] = 0
                vc_any(a + r, col, W)
                # a[x] = OR of the padded row's x .. x+s-1, valid for x <= L - s
                s = 1
                while 2 * s <= span:
                    vc_or_shifted(b, a, s, L - 2 * s + 1)
                    t = a
                    a = b
                    b = t
                    s *= 2
                vc_or_shifted(&out[y, 0], a, span - s, W)
    finally:
        free(col)
        free(a)
        free(b)


def absdiff_mask(const uint8_t[:, :, ::1] a, const uint8_t[:, :, ::1] b, int threshold,
                 uint8_t[:, ::1] out):
    cdef Py_ssize_t y, x, c, C = a.shape[2]
    cdef int d
    cdef uint8_t hit
    with nogil:
        for y in range(a.shape[0]):
            for x in range(a.shape[1]):
                hit = 0
                for c in range(C):
                    d = <int>a[y, x, c] - <int>b[y, x, c]
                    hit |= (d > threshold) | (-d > threshold)
                out[y, x] = hit


def region_fraction(const uint8_t[:, ::1] mask, const int64_t[:, ::1] boxes, double[::1] out):
    cdef Py_ssize_t i, y, x
    cdef int64_t n
    with nogil:
        for i in range(boxes.shape[0]):
            n = 0
            for y in range(boxes[i, 1], boxes[i, 3]):
                for x in range(boxes[i, 0], boxes[i, 2]):
                    n += mask[y, x] != 0
            out[i] = <double>n / ((boxes[i, 2] - boxes[i, 0]) * (boxes[i, 3] - boxes[i, 1]))


cdef inline int32_t _find(int32_t* parent, int32_t i) noexcept nogil:
    while parent[i] != i:
        parent[i] = parent[parent[i]]  # path halving
        i = parent[i]
    return i


cdef inline void _union(int32_t* parent, int32_t a, int32_t b) noexcept nogil:
    a = _find(parent, a)
    b = _find(parent, b)
    if a < b:
        parent[b] = a
    elif b < a:
        parent[a] = b


def mask_boxes(const uint8_t[:, ::1] mask):
    """Run-based labelling with union-find (8-connectivity): each row's runs of set pixels
    are labelled in raster order and joined to the runs of the row above that touch them,
    so the work follows the number of runs, not of pixels. A component's root is its
    earliest run, so components come out in raster order of their first pixel."""
    cdef Py_ssize_t H = mask.shape[0], W = mask.shape[1], y, x, start
    cdef Py_ssize_t prev_lo = 0, prev_hi = 0, cur_lo = 0, j, k
    cdef int32_t label, root, nruns = 0
    # A row holds at most (W + 1) / 2 runs; every run is (y, x0, x1).
    cdef Py_ssize_t cap = (W + 1) // 2 * H + 1
    cdef int32_t* parent = <int32_t*>malloc(cap * sizeof(int32_t))
    cdef int32_t* rx0 = <int32_t*>malloc(cap * sizeof(int32_t))
    cdef int32_t* rx1 = <int32_t*>malloc(cap * sizeof(int32_t))
    cdef int32_t* ry = <int32_t*>malloc(cap * sizeof(int32_t))
    cdef int64_t* box = NULL
    cdef const uint8_t* row
    try:
        if parent == NULL or rx0 == NULL or rx1 == NULL or ry == NULL:
            raise MemoryError("labelling buffers")
        with nogil:
            for y in range(H):
                row = &mask[y, 0]
                cur_lo = nruns
                x = 0
                while x < W:
                    if not row[x]:
                        x += 1
                        continue
                    start = x
                    while x < W and row[x]:
                        x += 1
                    label = nruns
                    nruns += 1
                    parent[label] = label
                    rx0[label], rx1[label], ry[label] = <int32_t>start, <int32_t>x, <int32_t>y
                    # Runs of the row above that touch [start - 1, x] (8-connectivity).
                    j = prev_lo
                    while j < prev_hi and rx1[j] < start:
                        j += 1
                    while j < prev_hi and rx0[j] <= x:
                        _union(parent, label, <int32_t>j)
                        j += 1
                    # The next run starts further right: skip the runs already passed.
                    while prev_lo < prev_hi and rx1[prev_lo] < x:
                        prev_lo += 1
                prev_lo, prev_hi = cur_lo, nruns
        box = <int64_t*>malloc(max(nruns, 1) * 5 * sizeof(int64_t))
        if box == NULL:
            raise MemoryError("box buffer")
        with nogil:
            for k in range(nruns):
                box[5 * k] = W
                box[5 * k + 1] = H
                box[5 * k + 2] = -1
                box[5 * k + 3] = -1
                box[5 * k + 4] = 0
            for k in range(nruns):
                root = _find(parent, <int32_t>k)
                box[5 * root] = min(box[5 * root], <int64_t>rx0[k])
                box[5 * root + 1] = min(box[5 * root + 1], <int64_t>ry[k])
                box[5 * root + 2] = max(box[5 * root + 2], <int64_t>rx1[k])
                box[5 * root + 3] = max(box[5 * root + 3], <int64_t>ry[k] + 1)
                box[5 * root + 4] += rx1[k] - rx0[k]
        rows = []
        for k in range(nruns):
            if box[5 * k + 4] > 0:
                rows.append([box[5 * k + m] for m in range(5)])
        return np.array(rows, np.int64).reshape(-1, 5)
    finally:
        free(parent)
        free(rx0)
        free(rx1)
        free(ry)
        free(box)
