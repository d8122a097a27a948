# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Face-embedding kernels: top-k by dot product (float32, int8), Hamming top-k over packed
templates, L2 normalisation, int8 quantisation and the keyed rotation. The affine warp that
aligns a face to a fixed chip is in ``_warp``.

Shapes and dtypes are checked by the wrapper (``embed.py``). Results equal
``_embed_py`` (float32 scores within rounding: the sums are reassociated for SIMD).
"""

from libc.math cimport fabsf, lrintf, sqrt
from libc.stdint cimport int8_t, int32_t, int64_t, uint64_t

import numpy as np

cdef extern from "embed_simd.h":
    bint VC_HAS_SIMD
    int vc_popcount64(unsigned long long x) nogil
    void vc_hamming(const uint64_t* q, const uint64_t* g, Py_ssize_t W, Py_ssize_t count,
                    int32_t* out) nogil
    int vc_dot_simd
    int vc_wide_simd
    void vc_dots_f32(const float* v, const float* g, Py_ssize_t rows, Py_ssize_t n,
                     float* out) nogil
    Py_ssize_t vc_above_f32(const float* x, Py_ssize_t n, float t, int32_t* idx) nogil
    void vc_dots_i8(const int8_t* v, const int8_t* g, Py_ssize_t rows, Py_ssize_t n,
                    int32_t* out) nogil


cdef inline void _keep_largest(double score, int64_t idx, double* best, int64_t* where,
                               Py_ssize_t k, Py_ssize_t* filled) noexcept nogil:
    """Insert into the k best (descending); a later equal score never displaces an earlier."""
    cdef Py_ssize_t j
    if filled[0] < k:
        j = filled[0]
        filled[0] += 1
    elif score > best[k - 1]:
        j = k - 1
    else:
        return
    while j > 0 and score > best[j - 1]:
        best[j] = best[j - 1]
        where[j] = where[j - 1]
        j -= 1
    best[j] = score
    where[j] = idx


ctypedef fused dot_t:
    float
    int8_t


DEF BLOCK = 256  # gallery rows scored per call, then selected


cdef void _topk_dot(const dot_t[:, ::1] queries, const dot_t[:, ::1] gallery, Py_ssize_t k,
                    double[:, ::1] best, int64_t[:, ::1] where) noexcept nogil:
    """A block of rows scored in one call, then only the scores that beat the current k-th
    best go through the insertion (after the first k, almost none do)."""
    cdef Py_ssize_t q, n, j, m, filled, N = gallery.shape[0], D = gallery.shape[1]
    cdef float fdots[BLOCK]
    cdef int32_t idots[BLOCK]
    cdef int32_t above[BLOCK]
    cdef Py_ssize_t i, c
    cdef double* b
    for q in range(queries.shape[0]):
        filled = 0
        n = 0
        b = &best[q, 0]
        while n < N:
            m = min(BLOCK, N - n)
            if dot_t is float:
                vc_dots_f32(&queries[q, 0], &gallery[n, 0], m, D, fdots)
                if filled == k:
                    # only the scores that beat the k-th best as it stood (it only rises)
                    c = vc_above_f32(fdots, m, <float>b[k - 1], above)
                    for i in range(c):
                        j = above[i]
                        if fdots[j] > b[k - 1]:
                            _keep_largest(fdots[j], n + j, b, &where[q, 0], k, &filled)
                else:
                    for j in range(m):
                        if filled < k or fdots[j] > b[k - 1]:
                            _keep_largest(fdots[j], n + j, b, &where[q, 0], k, &filled)
            else:
                vc_dots_i8(&queries[q, 0], &gallery[n, 0], m, D, idots)
                for j in range(m):
                    if filled < k or idots[j] > b[k - 1]:
                        _keep_largest(idots[j], n + j, b, &where[q, 0], k, &filled)
            n += m


def topk_dot_f32(const float[:, ::1] queries, const float[:, ::1] gallery, Py_ssize_t k):
    best = np.empty((queries.shape[0], k), np.float64)
    where = np.empty((queries.shape[0], k), np.int64)
    cdef double[:, ::1] b = best
    cdef int64_t[:, ::1] w = where
    with nogil:
        _topk_dot(queries, gallery, k, b, w)
    return best.astype(np.float32), where


def topk_dot_i8(const int8_t[:, ::1] queries, const int8_t[:, ::1] gallery, Py_ssize_t k):
    best = np.empty((queries.shape[0], k), np.float64)
    where = np.empty((queries.shape[0], k), np.int64)
    cdef double[:, ::1] b = best
    cdef int64_t[:, ::1] w = where
    with nogil:
        _topk_dot(queries, gallery, k, b, w)
    return best.astype(np.int32), where


cdef enum:
    HAMMING_BLOCK = 512  # distances computed per block, then scanned for the k nearest


def topk_hamming(const uint64_t[:, ::1] queries, const uint64_t[:, ::1] gallery, Py_ssize_t k):
    """Distances a block at a time (SIMD where the CPU has it); a block whose nearest is no
    nearer than the k-th best so far, the common case once k are found, is passed over
    after one vectorised minimum."""
    cdef Py_ssize_t Q = queries.shape[0], N = gallery.shape[0], W = gallery.shape[1]
    dist = np.empty((Q, k), np.int32)
    index = np.empty((Q, k), np.int64)
    best_np = np.empty(k, np.float64)
    cdef int32_t[:, ::1] d_out = dist
    cdef int64_t[:, ::1] i_out = index
    cdef double[::1] best = best_np
    cdef Py_ssize_t q, n, j, m, filled
    cdef int32_t worst = 0, nearest
    cdef int32_t block[HAMMING_BLOCK]
    with nogil:
        for q in range(Q):
            filled = 0
            n = 0
            while n < N:
                m = min(<Py_ssize_t>HAMMING_BLOCK, N - n)
                vc_hamming(&queries[q, 0], &gallery[n, 0], W, m, block)
                nearest = block[0]
                for j in range(1, m):
                    nearest = min(nearest, block[j])
                if filled < k or nearest < worst:
                    for j in range(m):
                        # smallest distance first: keep the largest negated distance
                        if filled < k or block[j] < worst:
                            _keep_largest(-block[j], n + j, &best[0], &i_out[q, 0], k, &filled)
                            if filled == k:
                                worst = <int32_t>(-best[k - 1])
                n += m
            for j in range(k):
                d_out[q, j] = <int32_t>(-best[j])
    return dist, index


def l2_normalize(float[:, ::1] x):
    cdef Py_ssize_t n, d, N = x.shape[0], D = x.shape[1]
    cdef double acc
    cdef float inv
    with nogil:
        for n in range(N):
            acc = 0
            for d in range(D):
                acc += <double>x[n, d] * x[n, d]
            if acc > 0:
                inv = <float>(1.0 / sqrt(acc))
                for d in range(D):
                    x[n, d] = x[n, d] * inv


def quantize_i8(const float[:, ::1] x, int8_t[:, ::1] out, float[::1] scales):
    cdef Py_ssize_t n, d, N = x.shape[0], D = x.shape[1]
    cdef float peak, inv
    cdef long r
    with nogil:
        for n in range(N):
            peak = 0
            for d in range(D):
                peak = max(peak, fabsf(x[n, d]))
            scales[n] = peak / <float>127
            inv = <float>1 / scales[n] if scales[n] > 0 else 0
            for d in range(D):
                r = lrintf(x[n, d] * inv)
                out[n, d] = <int8_t>(127 if r > 127 else (-127 if r < -127 else r))


HAS_SIMD = VC_HAS_SIMD


def simd(bint allowed, bint wide=True):
    """Allow (the default, where the CPU has them) or forbid the x86 SIMD kernels, and with
    ``wide`` the AVX-512 ones among them; returns whether SIMD kernels will run. For tests:
    the plain loops are what ARM boards run, the AVX2 ones what most x86 boards run."""
    global vc_dot_simd, vc_wide_simd
    vc_dot_simd = -1 if allowed else 0
    vc_wide_simd = -1 if allowed and wide else 0
    return bool(allowed and HAS_SIMD)


def apply_rotation(const float[:, ::1] x, const float[:, ::1] rotation, float[:, ::1] out):
    cdef Py_ssize_t n, i, d, N = x.shape[0], D = x.shape[1]
    cdef float acc
    with nogil:
        for n in range(N):
            for i in range(D):
                acc = 0
                for d in range(D):
                    acc = acc + rotation[i, d] * x[n, d]
                out[n, i] = acc
