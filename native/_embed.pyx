# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Face-embedding kernels: top-k by dot product (float32, int8), Hamming top-k over packed
templates, L2 normalisation, int8 quantisation, and the bilinear affine warp that aligns a
face to a fixed chip.

Shapes and dtypes are checked by the wrapper (``embed.py``). Results equal
``_embed_py`` (float32 scores within rounding: the sums are reassociated for SIMD).
"""

from libc.math cimport fabsf, llrint, lrintf, sqrt
from libc.stdlib cimport free, malloc
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint64_t

import numpy as np

cdef extern from *:
    """
    static inline int vc_popcount64(unsigned long long x) { return __builtin_popcountll(x); }

    /* Four dot products of one query with four gallery rows, for element type T summed in
       ACC. On x86-64, gcc also builds an AVX2 clone and the loader picks it on CPUs that have
       AVX2 (selected by feature, not by CPU model), as OpenCV and faiss dispatch theirs;
       elsewhere it is the plain loop. */
    #if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    #define VC_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define VC_CLONES
    #endif
    #define VC_DOT4(NAME, T, ACC)                                                          \
    VC_CLONES static void NAME(const T* __restrict__ v, const T* __restrict__ g0,          \
                               const T* __restrict__ g1, const T* __restrict__ g2,          \
                               const T* __restrict__ g3, Py_ssize_t n, ACC* out) {          \
        ACC a0 = 0, a1 = 0, a2 = 0, a3 = 0;                                                \
        for (Py_ssize_t d = 0; d < n; d++) {                                               \
            ACC x = v[d];                                                                  \
            a0 += x * g0[d]; a1 += x * g1[d]; a2 += x * g2[d]; a3 += x * g3[d];            \
        }                                                                                  \
        out[0] = a0; out[1] = a1; out[2] = a2; out[3] = a3;                                \
    }
    VC_DOT4(vc_dot4_f32, float, float)
    VC_DOT4(vc_dot4_i8, int8_t, int32_t)

    /* One output row of the bilinear warp for 3-channel pictures. px, py: source positions
       in 1/32 pixel; weights in 1/1024; samples outside the source are 0. With SSE4.1 (every
       x86-64 CPU since 2008) a pixel's 2x2x3 neighbourhood is two 8-byte loads, a shuffle and
       two multiply-adds, the same integer arithmetic as the scalar loop, so results are
       identical; elsewhere the scalar loop runs. */
    #include <stddef.h>
    #include <string.h>
    #include <stdint.h>
    static inline int32_t vc_warp_px(const uint8_t* src, ptrdiff_t SW, ptrdiff_t SH,
                                     ptrdiff_t y, ptrdiff_t x, int c) {
        return (0 <= y && y < SH && 0 <= x && x < SW) ? src[(y * SW + x) * 3 + c] : 0;
    }
    #define VC_WARP_ROW(NAME, ATTR, FAST)                                                   \
    ATTR static void NAME(const uint8_t* src, ptrdiff_t SW, ptrdiff_t SH,                  \
                          const int32_t* px, const int32_t* py, uint8_t* out, ptrdiff_t W) { \
        const ptrdiff_t row = SW * 3;                                                      \
        for (ptrdiff_t x = 0; x < W; x++) {                                                \
            const ptrdiff_t x0 = px[x] >> 5, y0 = py[x] >> 5;                             \
            const int32_t ix = px[x] & 31, iy = py[x] & 31;                                \
            const int32_t w00 = (32 - ix) * (32 - iy), w01 = ix * (32 - iy);               \
            const int32_t w10 = (32 - ix) * iy, w11 = ix * iy;                             \
            uint8_t* o = out + 3 * x;                                                      \
            if (0 <= x0 && x0 + 1 < SW && 0 <= y0 && y0 + 1 < SH) {                        \
                const uint8_t* p0 = src + y0 * row + x0 * 3;                               \
                const uint8_t* p1 = p0 + row;                                              \
                FAST                                                                       \
                for (int c = 0; c < 3; c++)                                                \
                    o[c] = (uint8_t)((p0[c] * w00 + p0[c + 3] * w01 + p1[c] * w10          \
                                      + p1[c + 3] * w11 + 512) >> 10);                     \
            } else {                                                                       \
                for (int c = 0; c < 3; c++)                                                \
                    o[c] = (uint8_t)((vc_warp_px(src, SW, SH, y0, x0, c) * w00             \
                                      + vc_warp_px(src, SW, SH, y0, x0 + 1, c) * w01       \
                                      + vc_warp_px(src, SW, SH, y0 + 1, x0, c) * w10       \
                                      + vc_warp_px(src, SW, SH, y0 + 1, x0 + 1, c) * w11   \
                                      + 512) >> 10);                                       \
            }                                                                              \
        }                                                                                  \
    }
    VC_WARP_ROW(vc_warp_row_c3_plain, , )
    #if defined(__x86_64__) && defined(__GNUC__)
    #include <immintrin.h>
    /* Both 8-byte loads must stay inside the source, and the 4-byte store inside the row. */
    #define VC_WARP_SSE41                                                                  \
        if (p1 - src <= SH * row - 8 && x + 1 < W) {                                       \
            const __m128i pairs = _mm_setr_epi8(0, 3, 1, 4, 2, 5, -1, -1,                  \
                                                -1, -1, -1, -1, -1, -1, -1, -1);           \
            __m128i top = _mm_cvtepu8_epi16(_mm_shuffle_epi8(                              \
                _mm_loadl_epi64((const __m128i*)p0), pairs));                              \
            __m128i bot = _mm_cvtepu8_epi16(_mm_shuffle_epi8(                              \
                _mm_loadl_epi64((const __m128i*)p1), pairs));                              \
            __m128i sum = _mm_add_epi32(                                                   \
                _mm_madd_epi16(top, _mm_set1_epi32((w01 << 16) | w00)),                    \
                _mm_madd_epi16(bot, _mm_set1_epi32((w11 << 16) | w10)));                   \
            sum = _mm_srli_epi32(_mm_add_epi32(sum, _mm_set1_epi32(512)), 10);             \
            sum = _mm_packus_epi16(_mm_packus_epi32(sum, sum), sum);                       \
            int32_t bytes = _mm_cvtsi128_si32(sum);                                        \
            memcpy(o, &bytes, 4); /* the 4th byte is pixel x+1's, written next */          \
            continue;                                                                      \
        }
    VC_WARP_ROW(vc_warp_row_c3_sse41, __attribute__((target("ssse3,sse4.1"))), VC_WARP_SSE41)
    static int vc_warp_simd = -1; /* -1: ask the CPU once; tests may force 0 */
    static void vc_warp_row_c3(const uint8_t* src, ptrdiff_t SW, ptrdiff_t SH,
                               const int32_t* px, const int32_t* py, uint8_t* out,
                               ptrdiff_t W) {
        if (vc_warp_simd < 0) vc_warp_simd = __builtin_cpu_supports("sse4.1") ? 1 : 0;
        if (vc_warp_simd) vc_warp_row_c3_sse41(src, SW, SH, px, py, out, W);
        else vc_warp_row_c3_plain(src, SW, SH, px, py, out, W);
    }
    #else
    static int vc_warp_simd = 0;
    #define vc_warp_row_c3 vc_warp_row_c3_plain
    #endif
    """
    int vc_popcount64(unsigned long long x) nogil
    int vc_warp_simd
    void vc_warp_row_c3(const uint8_t* src, Py_ssize_t SW, Py_ssize_t SH, const int32_t* px,
                        const int32_t* py, uint8_t* out, Py_ssize_t W) nogil
    void vc_dot4_f32(const float* v, const float* g0, const float* g1, const float* g2,
                     const float* g3, Py_ssize_t n, float* out) nogil
    void vc_dot4_i8(const int8_t* v, const int8_t* g0, const int8_t* g1, const int8_t* g2,
                    const int8_t* g3, Py_ssize_t n, int32_t* out) nogil


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


cdef void _topk_dot(const dot_t[:, ::1] queries, const dot_t[:, ::1] gallery, Py_ssize_t k,
                    double[:, ::1] best, int64_t[:, ::1] where) noexcept nogil:
    """Four gallery rows per pass (four independent sums in flight); the last pass repeats the
    final row to fill its four slots and keeps only the real ones."""
    cdef Py_ssize_t q, n, j, filled, N = gallery.shape[0], D = gallery.shape[1], last = N - 1
    cdef float fdots[4]
    cdef int32_t idots[4]
    for q in range(queries.shape[0]):
        filled = 0
        n = 0
        while n < N:
            if dot_t is float:
                vc_dot4_f32(&queries[q, 0], &gallery[n, 0], &gallery[min(n + 1, last), 0],
                            &gallery[min(n + 2, last), 0], &gallery[min(n + 3, last), 0], D,
                            fdots)
                for j in range(min(4, N - n)):
                    _keep_largest(fdots[j], n + j, &best[q, 0], &where[q, 0], k, &filled)
            else:
                vc_dot4_i8(&queries[q, 0], &gallery[n, 0], &gallery[min(n + 1, last), 0],
                           &gallery[min(n + 2, last), 0], &gallery[min(n + 3, last), 0], D,
                           idots)
                for j in range(min(4, N - n)):
                    _keep_largest(idots[j], n + j, &best[q, 0], &where[q, 0], k, &filled)
            n += 4


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


def topk_hamming(const uint64_t[:, ::1] queries, const uint64_t[:, ::1] gallery, Py_ssize_t k):
    cdef Py_ssize_t Q = queries.shape[0], N = gallery.shape[0], W = gallery.shape[1]
    dist = np.empty((Q, k), np.int32)
    index = np.empty((Q, k), np.int64)
    best_np = np.empty(k, np.float64)
    cdef int32_t[:, ::1] d_out = dist
    cdef int64_t[:, ::1] i_out = index
    cdef double[::1] best = best_np
    cdef Py_ssize_t q, n, w, j, filled
    cdef int32_t acc, worst = 0
    cdef int32_t d4[4]
    cdef uint64_t v0 = 0, v1 = 0, v2 = 0, v3 = 0
    cdef const uint64_t* g
    cdef const uint64_t* v
    with nogil:
        for q in range(Q):
            filled = 0
            v = &queries[q, 0]
            if W == 4:
                v0, v1, v2, v3 = v[0], v[1], v[2], v[3]
            n = 0
            if W == 4:  # 256-bit templates, four per pass: sixteen popcounts in flight
                while n + 4 <= N:
                    g = &gallery[n, 0]
                    d4[0] = (vc_popcount64(v0 ^ g[0]) + vc_popcount64(v1 ^ g[1])
                             + vc_popcount64(v2 ^ g[2]) + vc_popcount64(v3 ^ g[3]))
                    d4[1] = (vc_popcount64(v0 ^ g[4]) + vc_popcount64(v1 ^ g[5])
                             + vc_popcount64(v2 ^ g[6]) + vc_popcount64(v3 ^ g[7]))
                    d4[2] = (vc_popcount64(v0 ^ g[8]) + vc_popcount64(v1 ^ g[9])
                             + vc_popcount64(v2 ^ g[10]) + vc_popcount64(v3 ^ g[11]))
                    d4[3] = (vc_popcount64(v0 ^ g[12]) + vc_popcount64(v1 ^ g[13])
                             + vc_popcount64(v2 ^ g[14]) + vc_popcount64(v3 ^ g[15]))
                    for j in range(4):
                        if filled < k or d4[j] < worst:
                            _keep_largest(-d4[j], n + j, &best[0], &i_out[q, 0], k, &filled)
                            if filled == k:
                                worst = <int32_t>(-best[k - 1])
                    n += 4
            while n < N:
                g = &gallery[n, 0]
                if W == 4:
                    acc = (vc_popcount64(v0 ^ g[0]) + vc_popcount64(v1 ^ g[1])
                           + vc_popcount64(v2 ^ g[2]) + vc_popcount64(v3 ^ g[3]))
                else:
                    acc = 0
                    for w in range(W):
                        acc += vc_popcount64(v[w] ^ g[w])
                # smallest distance first: keep the largest negated distance
                if filled < k or acc < worst:  # else, the common case: not among the k nearest
                    _keep_largest(-acc, n, &best[0], &i_out[q, 0], k, &filled)
                    if filled == k:
                        worst = <int32_t>(-best[k - 1])
                n += 1
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


cdef enum:
    WARP_BITS = 5  # sub-pixel positions in 1/32 pixel, as OpenCV does
    WARP_ONE = 32
    COORD_BITS = 10  # coordinates in 1/1024 pixel, stepped per column and row
    COORD_SHIFT = 5
    COORD_HALF = 16


cdef extern from *:
    """
    #if defined(__x86_64__) && defined(__GNUC__)
    #define VC_WARP_HAS_SIMD __builtin_cpu_supports("sse4.1")
    #else
    #define VC_WARP_HAS_SIMD 0
    #endif
    """
    bint VC_WARP_HAS_SIMD
WARP_HAS_SIMD = VC_WARP_HAS_SIMD


cdef inline int32_t _px(const uint8_t[:, :, ::1] src, Py_ssize_t y, Py_ssize_t x,
                        Py_ssize_t c) noexcept nogil:
    if 0 <= y < src.shape[0] and 0 <= x < src.shape[1]:
        return src[y, x, c]
    return 0


def warp_simd(bint allowed):
    """Allow (the default, where the CPU has it) or forbid the SSE4.1 warp; returns whether it
    will run. For tests: the plain loop is what ARM boards run."""
    global vc_warp_simd
    vc_warp_simd = -1 if allowed else 0
    return bool(allowed and WARP_HAS_SIMD)


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
    try:
        if ax == NULL or dx == NULL or px == NULL or py == NULL:
            raise MemoryError("warp buffers")
        if max(abs(a), abs(d)) * W + max(abs(b), abs(e)) * dst.shape[0] + abs(cc) + abs(f) > 1e6:
            raise ValueError("warp reaches more than a million pixels away")
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
