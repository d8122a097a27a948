# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Redaction kernels: fill, pixelate and box blur over boxes, in place.

Shapes and dtypes are checked by the wrapper (``redact.py``); these loops trust them.
Images are HxWxC uint8, C-contiguous; boxes are (x0, y0, x1, y1) int64, end-exclusive,
and are clipped to the image here (empty ones skipped), so no box can write out of
bounds. Results equal ``_redact_py`` exactly.
"""

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t

cdef extern from *:
    # Byte pointers may alias anything in C, which stops the compiler from vectorising
    # the row loops; these buffers never overlap, and restrict says so.
    ctypedef uint8_t* u8_restrict "uint8_t* __restrict__"
    ctypedef uint32_t* u32_restrict "uint32_t* __restrict__"

cdef extern from *:
    """
    #include <string.h>
    #include <stdint.h>
    /* Running sums of 3- or 4-channel pixels, one pixel per vector: pre[3(x+1) + c] =
       vs[c] + vs[3 + c] + ... + vs[3x + c]. Scalar code needs one store per channel and
       stores, one a cycle, bound the blur; here a pixel is one unaligned load, one vector
       add and one store. With 3 channels the fourth lane is the next pixel's first channel:
       it carries junk that is never read, and each store's fourth lane is overwritten by the
       next one. Reads vs[3W] and writes pre[3W + 3], one past the sums (the buffers have
       room). GCC vector extensions: SSE2 on x86-64, NEON on ARM. */
    /* x86-64 also gets AVX2 clones of the row loops, picked at load time by CPU feature
       (not by CPU model, which never matches AMD); the plain loops are SSE2 or NEON. */
    #if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    #define VC_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define VC_CLONES
    #endif

    /* Column sums of the vertical window slide one row: vs += add - sub (either may be
       NULL). */
    VC_CLONES static void vc_vslide(uint32_t* __restrict__ vs, const uint8_t* __restrict__ add,
                                    const uint8_t* __restrict__ sub, Py_ssize_t w) {
        if (add && sub)
            for (Py_ssize_t k = 0; k < w; k++) vs[k] += (uint32_t)add[k] - sub[k];
        else if (add)
            for (Py_ssize_t k = 0; k < w; k++) vs[k] += add[k];
        else if (sub)
            for (Py_ssize_t k = 0; k < w; k++) vs[k] -= sub[k];
    }

    /* Interior outputs of one row, all with the same window size: row[k] = the rounded mean
       (pre[k + hi] - pre[k - lo]) * inv, float32 (exactness: see FLOAT_EXACT_MAX_N). */
    VC_CLONES static void vc_means_f32(uint8_t* __restrict__ row,
                                       const uint32_t* __restrict__ pre, Py_ssize_t k_lo,
                                       Py_ssize_t k_hi, Py_ssize_t hi, Py_ssize_t lo,
                                       float inv, float bias) {
        for (Py_ssize_t k = k_lo; k < k_hi; k++)
            row[k] = (uint8_t)((float)(int32_t)(pre[k + hi] - pre[k - lo]) * inv + bias);
    }

    typedef uint32_t vc_u32x4 __attribute__((vector_size(16)));
    static inline void vc_prefix_px(const uint32_t* vs, uint32_t* pre, Py_ssize_t W,
                                    Py_ssize_t C) {
        vc_u32x4 acc = {0, 0, 0, 0}, v;
        for (Py_ssize_t x = 0; x < W; x++) {
            memcpy(&v, vs + C * x, sizeof v);
            acc += v;
            memcpy(pre + C * (x + 1), &acc, sizeof acc);
        }
    }
    """
    void vc_prefix_px(const uint32_t* vs, uint32_t* pre, Py_ssize_t W, Py_ssize_t C) nogil

cdef extern from *:
    """
    /* Box blur with AVX-512 (x86-64 with AVX-512BW/VL: Zen 4, Ice Lake and later). The
       horizontal window comes first, on 16-bit running sums of each original row (32 values
       a vector; a window of at most 128 pixels sums to at most 32640, so differences of
       running sums taken mod 2^16 are exact, and so is the change of a window sum from one
       row to another in a signed 16-bit lane), and these window sums wait in a ring of
       2r+1 rows. Each output row then needs one pass: the incoming row's window sums are
       made from its running sums and replace, in the ring slot they share, the outgoing
       row's, the 32-bit column sums move by the difference, and the means are written. No
       32-bit running sums along the row (the old path's sequential step), no separate
       pass for the means, and the box edges' own counts in the same vector loop. */
    #if defined(__x86_64__) && defined(__GNUC__)
    #include <immintrin.h>
    #define VC_WIDE_OK 1
    #define VC_WIDE __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))
    static int vc_blur_wide = -1; /* -1: ask the CPU once; tests may force 0 */
    static int vc_blur_has_wide(void) {
        if (vc_blur_wide < 0)
            vc_blur_wide = __builtin_cpu_supports("avx512f")
                           && __builtin_cpu_supports("avx512bw")
                           && __builtin_cpu_supports("avx512vl")
                           && __builtin_cpu_supports("fma");
        return vc_blur_wide;
    }

    /* Lane shuffles of the 16-bit running sum for C channels (1 <= C <= 16), made once a
       box. Within a vector, lanes add the lane C, 2C, 4C, ... before them (masked vpermw);
       across vectors, carry[c] keeps channel c's total. A vector starting at value b has
       phase p = b mod C: lane i is channel (p + i) mod C (put[p]), and channel c's last
       lane is take[p][c]. Shuffles bound this loop: Zen 4 runs one 512-bit shuffle a
       cycle, within 128-bit blocks (pshufb) or across them (vpermw) alike; a two-level
       version (pshufb within blocks, then across) measured no faster. */
    typedef struct {
        int C, nsh;
        uint16_t shift[5][32];
        __mmask32 keep[5];
        uint16_t put[16][32], take[16][32];
    } vc_scan_t;

    static void vc_scan_init(vc_scan_t* t, int C) {
        t->C = C;
        t->nsh = 0;
        for (int s = C; s < 32; s *= 2, t->nsh++) {
            for (int i = 0; i < 32; i++) t->shift[t->nsh][i] = (uint16_t)(i >= s ? i - s : 0);
            t->keep[t->nsh] = (__mmask32)(0xFFFFFFFFu << s);
        }
        for (int p = 0; p < C; p++)
            for (int i = 0; i < 32; i++) {
                t->put[p][i] = (uint16_t)((p + i) % C);
                /* the lane l in 32-C..31 with (p + l) mod C == i */
                t->take[p][i] = (uint16_t)(i < C ? 32 - C + ((i - p - 32 + 64 * C) % C) : 0);
            }
    }

    /* q[k] = row[k] + row[k - C] + row[k - 2C] + ... (mod 2^16), k < w; writes q up to
       the next multiple of 32 (the buffer has room). NSH shuffle steps (a constant, so the
       loop over them unrolls). */
    #define VC_SCAN16(NAME, NSH)                                                            \
    VC_WIDE static void NAME(const vc_scan_t* t, const uint8_t* __restrict__ row,          \
                             uint16_t* __restrict__ q, Py_ssize_t w) {                     \
        const int C = t->C, step = 32 % C;                                                  \
        __m512i carry = _mm512_setzero_si512();                                             \
        __m512i sh[NSH];                                                                    \
        __mmask32 keep[NSH];                                                                \
        for (int j = 0; j < NSH; j++) {                                                     \
            sh[j] = _mm512_loadu_si512(t->shift[j]);                                        \
            keep[j] = t->keep[j];                                                           \
        }                                                                                   \
        int p = 0;                                                                          \
        for (Py_ssize_t k = 0; k < w; k += 32) {                                            \
            __m512i v = w - k >= 32                                                         \
                ? _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i*)(row + k)))       \
                : _mm512_cvtepu8_epi16(                                                     \
                      _mm256_maskz_loadu_epi8((__mmask32)((1u << (w - k)) - 1), row + k)); \
            for (int j = 0; j < NSH; j++)                                                   \
                v = _mm512_add_epi16(v, _mm512_maskz_permutexvar_epi16(keep[j], sh[j], v)); \
            /* the carry's chain is one add a vector; the shuffles stay off it */           \
            __m512i in = _mm512_permutexvar_epi16(_mm512_loadu_si512(t->put[p]), carry);    \
            carry = _mm512_add_epi16(                                                       \
                carry, _mm512_permutexvar_epi16(_mm512_loadu_si512(t->take[p]), v));        \
            _mm512_storeu_si512(q + k, _mm512_add_epi16(v, in));                            \
            p += step;                                                                      \
            if (p >= C) p -= C;                                                             \
        }                                                                                   \
    }
    VC_SCAN16(vc_scan16_1, 1)
    VC_SCAN16(vc_scan16_2, 2)
    VC_SCAN16(vc_scan16_3, 3)
    VC_SCAN16(vc_scan16_4, 4)
    VC_SCAN16(vc_scan16_5, 5)
    static void vc_scan16(const vc_scan_t* t, const uint8_t* row, uint16_t* q, Py_ssize_t w) {
        switch (t->nsh) {
            case 1: vc_scan16_1(t, row, q, w); break;
            case 2: vc_scan16_2(t, row, q, w); break;
            case 3: vc_scan16_3(t, row, q, w); break;
            case 4: vc_scan16_4(t, row, q, w); break;
            default: vc_scan16_5(t, row, q, w); break;
        }
    }

    /* 32 values of a row (vc_blur_row_wide); m: the lanes of a last, short block (0: all,
       unmasked). */
    VC_WIDE static inline __attribute__((always_inline)) void vc_blur_block(
            const uint8_t* add, int sub, const uint16_t* qk, Py_ssize_t hi, Py_ssize_t lo,
            uint16_t* slot, uint32_t* vs, uint8_t* out, __m512 inv_e, __m512 bias_e,
            __m512 inv_o, __m512 bias_o, __mmask32 m) {
        __m512i d = _mm512_setzero_si512();
        if (add) {
            d = _mm512_sub_epi16(_mm512_loadu_si512(qk + hi), _mm512_loadu_si512(qk - lo));
            __m512i old = _mm512_setzero_si512();
            if (sub) old = m ? _mm512_maskz_loadu_epi16(m, slot) : _mm512_loadu_si512(slot);
            if (m) _mm512_mask_storeu_epi16(slot, m, d);
            else _mm512_storeu_si512(slot, d);
            d = _mm512_sub_epi16(d, old);
        } else if (sub) {
            d = _mm512_sub_epi16(d, m ? _mm512_maskz_loadu_epi16(m, slot)
                                      : _mm512_loadu_si512(slot));
        }
        __m512i se = _mm512_loadu_si512(vs), so = _mm512_loadu_si512(vs + 16);
        if (add || sub) {
            se = _mm512_add_epi32(se, _mm512_srai_epi32(_mm512_slli_epi32(d, 16), 16));
            so = _mm512_add_epi32(so, _mm512_srai_epi32(d, 16));
            _mm512_storeu_si512(vs, se);
            _mm512_storeu_si512(vs + 16, so);
        }
        if (out) {
            __m512i oe = _mm512_cvttps_epi32(
                _mm512_fmadd_ps(_mm512_cvtepi32_ps(se), inv_e, bias_e));
            __m512i oo = _mm512_cvttps_epi32(
                _mm512_fmadd_ps(_mm512_cvtepi32_ps(so), inv_o, bias_o));
            __m256i b = _mm512_cvtepi16_epi8(_mm512_or_si512(oe, _mm512_slli_epi32(oo, 16)));
            /* the register form: GCC would fold the store into vpmovwb to memory, which
               Zen 4 runs many times slower */
            __asm__("" : "+v"(b));
            if (m) _mm256_mask_storeu_epi8(out, m, b);
            else _mm256_storeu_si256((__m256i*)out, b);
        }
    }

    /* Reciprocal and rounding bias of the means of 16 lanes whose windows are hn (int32)
       pixels wide and vn rows high: exactly the float32 figures _blur_box uses. */
    VC_WIDE static inline __attribute__((always_inline)) void vc_edge_scale(
            __m512i hn, Py_ssize_t vn, float eps, __m512* inv, __m512* bias) {
        __m512i n = _mm512_mullo_epi32(hn, _mm512_set1_epi32((int)vn));
        *inv = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_cvtepi32_ps(n));
        __m512 half = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(n, 1)), *inv);
        __asm__("" : "+v"(half)); /* rounded as in _blur_box: a product, then a sum */
        *bias = _mm512_add_ps(half, _mm512_set1_ps(eps));
    }

    /* One row of the blur. add: the incoming original row (NULL: none), whose running sums
       go to q + lo; hi = rh * C and lo = (rh + 1) * C for a radius rh. q[0..lo) are zero
       and the hi values past the row's end repeat its last pixel's totals, so every
       horizontal window, clipped at the box edge or not, is q[lo + k + hi] - q[k].
       slot: the ring row the incoming window sums replace (and the outgoing row's, if
       sub). vs: 32-bit column sums, 32 values a block, the even ones first, then the odd
       ones (VC_VS_INDEX): 16-bit lanes split into 32-bit ones by shifts, not shuffles, which
       Zen 4 runs at one a cycle. A window sum is at most 128 * 255, so the change of a
       column sum fits a signed 16-bit lane. out: the row to write (NULL: none yet), with
       vn rows in its window; hn: each value's window width in vs's order, read in the
       blocks the box edge reaches (values below edge_lo or from edge_hi on); the means are
       vs * inv + bias in float32, as in _blur_box. ahead: the row that comes in next
       (NULL: none), fetched into the cache during this one. */
    VC_WIDE static void vc_blur_row_wide(const vc_scan_t* t, const uint8_t* add, int sub,
                                         uint16_t* __restrict__ q, Py_ssize_t hi,
                                         Py_ssize_t lo, uint16_t* __restrict__ slot,
                                         uint32_t* __restrict__ vs, uint8_t* out,
                                         Py_ssize_t w, Py_ssize_t vn, const int32_t* hn,
                                         Py_ssize_t edge_lo, Py_ssize_t edge_hi, float eps,
                                         const uint8_t* ahead) {
        const int C = t->C;
        if (!add && !sub && !out) return;
        if (add) {
            vc_scan16(t, add, q + lo, w);
            for (Py_ssize_t j = lo + w; j < lo + w + hi; j++) q[j] = q[j - C];
        }
        __m512 inv = _mm512_setzero_ps(), bias = inv;
        if (out) vc_edge_scale(_mm512_set1_epi32((int)((hi + lo) / C)), vn, eps, &inv, &bias);
        for (Py_ssize_t k = 0; k < w; k += 32) {
            __m512 inv_e = inv, bias_e = bias, inv_o = inv, bias_o = bias;
            if (out && (k < edge_lo || k + 32 > edge_hi)) {
                vc_edge_scale(_mm512_loadu_si512(hn + k), vn, eps, &inv_e, &bias_e);
                vc_edge_scale(_mm512_loadu_si512(hn + k + 16), vn, eps, &inv_o, &bias_o);
            }
            /* the next incoming row, a line at a time, while this one is worked on: a frame
               fresh from memory (as a captured one is) blurs in 1.36 ms instead of 1.46 on
               Zen 4; one held in cache pays about 0.05 ms for it */
            if (ahead && !(k & 63)) _mm_prefetch((const char*)(ahead + k), _MM_HINT_T0);
            /* masked stores are slow on Zen 4: only in the last block */
            __mmask32 m = w - k >= 32 ? 0 : (__mmask32)((1u << (w - k)) - 1);
            if (!m)
                vc_blur_block(add, sub, q + lo + k, hi, lo, slot + k, vs + k,
                              out ? out + k : NULL, inv_e, bias_e, inv_o, bias_o, 0);
            else
                vc_blur_block(add, sub, q + lo + k, hi, lo, slot + k, vs + k,
                              out ? out + k : NULL, inv_e, bias_e, inv_o, bias_o, m);
        }
    }
    #define VC_VS_INDEX(k) (((k) & ~(Py_ssize_t)31) + ((k) & 1) * 16 + (((k) & 31) >> 1))
    #else
    #define VC_WIDE_OK 0
    static int vc_blur_wide = 0;
    static int vc_blur_has_wide(void) { return 0; }
    typedef struct { int C; } vc_scan_t;
    static void vc_scan_init(vc_scan_t* t, int C) { t->C = C; }
    static void vc_blur_row_wide(const vc_scan_t* t, const uint8_t* add, int sub,
                                 uint16_t* q, Py_ssize_t hi, Py_ssize_t lo,
                                 uint16_t* slot, uint32_t* vs, uint8_t* out,
                                 Py_ssize_t w, Py_ssize_t vn, const int32_t* hn,
                                 Py_ssize_t edge_lo, Py_ssize_t edge_hi, float eps,
                                 const uint8_t* ahead) {}
    #define VC_VS_INDEX(k) (k)
    #endif
    """
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
    void vc_vslide(uint32_t* vs, const uint8_t* add, const uint8_t* sub, Py_ssize_t w) nogil
    void vc_means_f32(uint8_t* row, const uint32_t* pre, Py_ssize_t k_lo, Py_ssize_t k_hi,
                      Py_ssize_t hi, Py_ssize_t lo, float inv, float bias) nogil
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

from _rounding cimport rounded_mean


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
    # the old path, whose ring holds r+1 rows of bytes.
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
