# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Mask helpers for the vision pipeline: dilation, difference against a reference picture,
share of a mask inside boxes, and connected-component bounding boxes.

Shapes and dtypes are checked by the wrapper (``mask.py``); results equal ``_mask_py``.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.stdlib cimport free, malloc

import numpy as np


def dilate(const uint8_t[:, ::1] mask, Py_ssize_t r, uint8_t[:, ::1] out):
    """Square dilation as counts: a running count of set pixels down each column, then
    along each row; set where the count is not zero. O(1) per pixel for any radius."""
    cdef Py_ssize_t H = mask.shape[0], W = mask.shape[1], y, x, lo, hi
    cdef int32_t* col = <int32_t*>malloc((W + 1) * sizeof(int32_t))
    cdef int32_t* pre = <int32_t*>malloc((W + 2) * sizeof(int32_t))
    if col == NULL or pre == NULL:
        free(col)
        free(pre)
        raise MemoryError("dilate buffers")
    try:
        with nogil:
            for x in range(W):
                col[x] = 0
            for y in range(min(r, H)):
                for x in range(W):
                    col[x] += mask[y, x] != 0
            for y in range(H):
                if y + r < H:
                    for x in range(W):
                        col[x] += mask[y + r, x] != 0
                if y - r - 1 >= 0:
                    for x in range(W):
                        col[x] -= mask[y - r - 1, x] != 0
                pre[0] = 0
                for x in range(W):
                    pre[x + 1] = pre[x] + col[x]
                for x in range(W):
                    lo = x - r if x - r > 0 else 0
                    hi = x + r + 1 if x + r + 1 < W else W
                    out[y, x] = pre[hi] - pre[lo] > 0
    finally:
        free(col)
        free(pre)


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
    """Two-pass labelling with union-find (8-connectivity); a component's root is its
    first pixel in raster order, so components come out in that order."""
    cdef Py_ssize_t H = mask.shape[0], W = mask.shape[1], y, x
    cdef int32_t label, root, nxt = 0
    labels_np = np.full((H, W), -1, np.int32)
    cdef int32_t[:, ::1] labels = labels_np
    cdef int32_t* parent = <int32_t*>malloc((H * W + 1) * sizeof(int32_t))
    cdef int64_t* box = NULL
    if parent == NULL:
        raise MemoryError("labelling buffer")
    try:
        with nogil:
            for y in range(H):
                for x in range(W):
                    if not mask[y, x]:
                        continue
                    label = -1
                    if x > 0 and labels[y, x - 1] >= 0:
                        label = labels[y, x - 1]
                    if y > 0:
                        if x > 0 and labels[y - 1, x - 1] >= 0:
                            if label < 0:
                                label = labels[y - 1, x - 1]
                            else:
                                _union(parent, label, labels[y - 1, x - 1])
                        if labels[y - 1, x] >= 0:
                            if label < 0:
                                label = labels[y - 1, x]
                            else:
                                _union(parent, label, labels[y - 1, x])
                        if x + 1 < W and labels[y - 1, x + 1] >= 0:
                            if label < 0:
                                label = labels[y - 1, x + 1]
                            else:
                                _union(parent, label, labels[y - 1, x + 1])
                    if label < 0:
                        label = nxt
                        parent[nxt] = nxt
                        nxt += 1
                    labels[y, x] = label
        # Roots in raster order of their first pixel: the lowest label of each set is the
        # earliest-created, and labels are created in raster order.
        box = <int64_t*>malloc(max(nxt, 1) * 5 * sizeof(int64_t))
        if box == NULL:
            raise MemoryError("box buffer")
        with nogil:
            for label in range(nxt):
                box[5 * label] = W
                box[5 * label + 1] = H
                box[5 * label + 2] = -1
                box[5 * label + 3] = -1
                box[5 * label + 4] = 0
            for y in range(H):
                for x in range(W):
                    if labels[y, x] < 0:
                        continue
                    root = _find(parent, labels[y, x])
                    box[5 * root] = min(box[5 * root], x)
                    box[5 * root + 1] = min(box[5 * root + 1], y)
                    box[5 * root + 2] = max(box[5 * root + 2], x + 1)
                    box[5 * root + 3] = max(box[5 * root + 3], y + 1)
                    box[5 * root + 4] += 1
        rows = []
        for label in range(nxt):
            if box[5 * label + 4] > 0:
                rows.append([box[5 * label + k] for k in range(5)])
        return np.array(rows, np.int64).reshape(-1, 5)
    finally:
        free(parent)
        free(box)
