/* The box blur with AVX-512, horizontal window first.
   Part of veilcam_native._redact: the .pyx declares what it calls, this holds the C. */
#ifndef VC_BLUR_AVX512_H
#define VC_BLUR_AVX512_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Box blur with AVX-512 (x86-64 with AVX-512BW/VL: Zen 4, Ice Lake and later). The
   horizontal window comes first, on 16-bit running sums of each original row (32 values
   a vector; a window of at most 128 pixels sums to at most 32640, so differences of
   running sums taken mod 2^16 are exact, and so is the change of a window sum from one
   row to another in a signed 16-bit lane), and these window sums wait in a ring of
   2r+1 rows. Each output row then needs one pass: the incoming row's window sums are
   made from its running sums and replace, in the ring slot they share, the outgoing
   row's, the 32-bit column sums move by the difference, and the means are written. No
   32-bit running sums along the row (the sequential step of the column-sums-first path
   other CPUs take), no separate pass for the means, and the box edges' own counts in the
   same vector loop. */
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

#endif /* VC_BLUR_AVX512_H */
