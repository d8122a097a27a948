/* Dot products, Hamming distances and score scans, plain and x86 SIMD.
   Part of veilcam_native._embed: the .pyx declares what it calls, this holds the C. */
#ifndef VC_EMBED_SIMD_H
#define VC_EMBED_SIMD_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

static inline int vc_popcount64(unsigned long long x) { return __builtin_popcountll(x); }

/* Hamming distances of one query to `count` templates of W 64-bit words. */
static void vc_hamming_plain(const uint64_t* q, const uint64_t* g, Py_ssize_t W,
                             Py_ssize_t count, int32_t* out) {
    if (W == 4) { /* 256-bit templates: no inner loop */
        const uint64_t v0 = q[0], v1 = q[1], v2 = q[2], v3 = q[3];
        for (Py_ssize_t n = 0; n < count; n++, g += 4)
            out[n] = vc_popcount64(v0 ^ g[0]) + vc_popcount64(v1 ^ g[1])
                     + vc_popcount64(v2 ^ g[2]) + vc_popcount64(v3 ^ g[3]);
        return;
    }
    for (Py_ssize_t n = 0; n < count; n++, g += W) {
        int32_t acc = 0;
        for (Py_ssize_t w = 0; w < W; w++) acc += vc_popcount64(q[w] ^ g[w]);
        out[n] = acc;
    }
}

/* Four dot products of one query with four gallery rows, for element type T summed in
   ACC: the plain loop (ARM boards, old x86); x86-64 CPUs with AVX2 and FMA run the
   hand-vectorised versions below, picked by CPU feature as OpenCV and faiss pick theirs. */
#define VC_DOT4(NAME, T, ACC)                                                          \
static void NAME(const T* __restrict__ v, const T* __restrict__ g0,          \
                           const T* __restrict__ g1, const T* __restrict__ g2,          \
                           const T* __restrict__ g3, Py_ssize_t n, ACC* out) {          \
    ACC a0 = 0, a1 = 0, a2 = 0, a3 = 0;                                                \
    for (Py_ssize_t d = 0; d < n; d++) {                                               \
        ACC x = v[d];                                                                  \
        a0 += x * g0[d]; a1 += x * g1[d]; a2 += x * g2[d]; a3 += x * g3[d];            \
    }                                                                                  \
    out[0] = a0; out[1] = a1; out[2] = a2; out[3] = a3;                                \
}
VC_DOT4(vc_dot4_f32_plain, float, float)
VC_DOT4(vc_dot4_i8_plain, int8_t, int32_t)
/* Dot products of one query with `rows` consecutive gallery rows of n values, four at a
   time (the last four repeat the final row as needed): one call per block of rows, so
   the four-row kernel is inlined and its loads run on from one group into the next. */
#define VC_DOTS(NAME, ATTR, T, ACC, DOT4)                                                \
ATTR static void NAME(const T* __restrict__ v, const T* __restrict__ g, Py_ssize_t rows, \
                      Py_ssize_t n, ACC* __restrict__ out) {                             \
    Py_ssize_t r = 0;                                                                    \
    for (; r + 4 <= rows; r += 4)                                                        \
        DOT4(v, g + r * n, g + (r + 1) * n, g + (r + 2) * n, g + (r + 3) * n, n, out + r); \
    if (r < rows) {                                                                      \
        ACC tail[4];                                                                     \
        const T* last = g + (rows - 1) * n;                                              \
        DOT4(v, g + r * n, r + 1 < rows ? g + (r + 1) * n : last,                        \
             r + 2 < rows ? g + (r + 2) * n : last, last, n, tail);                      \
        for (Py_ssize_t j = 0; r + j < rows; j++) out[r + j] = tail[j];                  \
    }                                                                                    \
}
VC_DOTS(vc_dots_f32_plain, , float, float, vc_dot4_f32_plain)
/* Where the scores beat the threshold t: their positions into idx, how many returned;
   NaN never beats it. */
static inline Py_ssize_t vc_above_f32_plain(const float* x, Py_ssize_t n, float t,
                                            int32_t* idx) {
    Py_ssize_t c = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (x[i] > t) idx[c++] = (int32_t)i;
    return c;
}
VC_DOTS(vc_dots_i8_plain, , int8_t, int32_t, vc_dot4_i8_plain)
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#ifndef VC_AHEAD
#define VC_AHEAD 16
#endif
/* Float32: fused multiply-adds, two accumulators per row so eight chains are in flight
   (an FMA's latency is four or five cycles, two issue per cycle). */
__attribute__((target("avx2,fma")))
static void vc_dot4_f32_avx2(const float* __restrict__ v, const float* __restrict__ g0,
                             const float* __restrict__ g1, const float* __restrict__ g2,
                             const float* __restrict__ g3, Py_ssize_t n, float* out) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    Py_ssize_t d = 0;
    for (; d + 16 <= n; d += 16) {
        /* Rows VC_AHEAD further on (a gallery is stored row after row): asking for them
           now hides the L3 latency that otherwise bounds this loop. Into L2, not L1:
           into L1 they held up the loads of a gallery read from memory (51 MB at 11
           GB/s instead of 28 on AMD Zen 4). Prefetching past the end is harmless. */
        _mm_prefetch((const char*)(g0 + VC_AHEAD * n + d), _MM_HINT_T1);
        _mm_prefetch((const char*)(g1 + VC_AHEAD * n + d), _MM_HINT_T1);
        _mm_prefetch((const char*)(g2 + VC_AHEAD * n + d), _MM_HINT_T1);
        _mm_prefetch((const char*)(g3 + VC_AHEAD * n + d), _MM_HINT_T1);
        const __m256 x = _mm256_loadu_ps(v + d), y = _mm256_loadu_ps(v + d + 8);
        a0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(g0 + d), a0);
        a1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(g1 + d), a1);
        a2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(g2 + d), a2);
        a3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(g3 + d), a3);
        b0 = _mm256_fmadd_ps(y, _mm256_loadu_ps(g0 + d + 8), b0);
        b1 = _mm256_fmadd_ps(y, _mm256_loadu_ps(g1 + d + 8), b1);
        b2 = _mm256_fmadd_ps(y, _mm256_loadu_ps(g2 + d + 8), b2);
        b3 = _mm256_fmadd_ps(y, _mm256_loadu_ps(g3 + d + 8), b3);
    }
    a0 = _mm256_add_ps(a0, b0); a1 = _mm256_add_ps(a1, b1);
    a2 = _mm256_add_ps(a2, b2); a3 = _mm256_add_ps(a3, b3);
    __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    __m128 t = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
    float r[4];
    _mm_storeu_ps(r, t);
    for (; d < n; d++) {
        float x = v[d];
        r[0] += x * g0[d]; r[1] += x * g1[d]; r[2] += x * g2[d]; r[3] += x * g3[d];
    }
    out[0] = r[0]; out[1] = r[1]; out[2] = r[2]; out[3] = r[3];
}
/* 128-dimensional float32 galleries (the usual face embedding) with AVX-512: the query
   stays in registers, so each row costs its loads and multiply-adds, and the gallery
   streams at the cache's full read speed (0.05 ms for 10,000 rows on Zen 4, where the
   four-row AVX2 loop, reloading the query, takes 0.085). Rows may start s floats
   (0..15) past a 64-byte line, as NumPy places most large arrays (16 bytes past), and a
   load of 16 floats from there would straddle two lines (7% slower): so each row is read
   as the whole lines it touches, aligned, with the query shifted by s to match and the
   first and last lines masked to the row's own lanes (masked-off lanes are neither read
   nor faulted on, so nothing outside the row counts, whatever it holds). 52 us for
   10,000 rows at any offset on Zen 4. The products add up lane by lane, so a score can
   differ in its last bit between copies of a row at different offsets. */
__attribute__((target("avx512f")))
static void vc_dots_f32_d128_avx512(const float* __restrict__ v,
                                    const float* __restrict__ g, Py_ssize_t rows,
                                    float* __restrict__ out) {
    const int s = (int)(((uintptr_t)g & 63) / sizeof(float));
    float shifted[160] __attribute__((aligned(64)));
    for (int i = 0; i < 160; i++) shifted[i] = 0.0f;
    for (int i = 0; i < 128; i++) shifted[s + i] = v[i];
    const __m512 q0 = _mm512_load_ps(shifted), q1 = _mm512_load_ps(shifted + 16);
    const __m512 q2 = _mm512_load_ps(shifted + 32), q3 = _mm512_load_ps(shifted + 48);
    const __m512 q4 = _mm512_load_ps(shifted + 64), q5 = _mm512_load_ps(shifted + 80);
    const __m512 q6 = _mm512_load_ps(shifted + 96), q7 = _mm512_load_ps(shifted + 112);
    const __m512 q8 = _mm512_load_ps(shifted + 128);
    /* s = 0: every lane of the first line, none of the ninth (which is not read) */
    const __mmask16 head = (__mmask16)(0xFFFFu << s), tail = (__mmask16)~head;
    const float* p = g - s;
    for (Py_ssize_t r = 0; r < rows; r++, p += 128) {
        __m512 a = _mm512_mul_ps(q0, _mm512_maskz_load_ps(head, p));
        __m512 b = _mm512_mul_ps(q1, _mm512_load_ps(p + 16));
        a = _mm512_fmadd_ps(q2, _mm512_load_ps(p + 32), a);
        b = _mm512_fmadd_ps(q3, _mm512_load_ps(p + 48), b);
        a = _mm512_fmadd_ps(q4, _mm512_load_ps(p + 64), a);
        b = _mm512_fmadd_ps(q5, _mm512_load_ps(p + 80), b);
        a = _mm512_fmadd_ps(q6, _mm512_load_ps(p + 96), a);
        b = _mm512_fmadd_ps(q7, _mm512_load_ps(p + 112), b);
        a = _mm512_fmadd_ps(q8, _mm512_maskz_load_ps(tail, p + 128), a);
        out[r] = _mm512_reduce_add_ps(_mm512_add_ps(a, b));
    }
}
/* gcc widens int8 products through 16-bit multiplies and separate adds; sign-extending
   sixteen values and one multiply-add into 32-bit sums (vpmaddwd) does half the work,
   exactly, for every int8 value. */
__attribute__((target("avx2")))
static void vc_dot4_i8_avx2(const int8_t* __restrict__ v, const int8_t* __restrict__ g0,
                            const int8_t* __restrict__ g1, const int8_t* __restrict__ g2,
                            const int8_t* __restrict__ g3, Py_ssize_t n, int32_t* out) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    Py_ssize_t d = 0;
    for (; d + 16 <= n; d += 16) {
#define VC_WIDE(p) _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i*)((p) + d)))
        const __m256i x = VC_WIDE(v);
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x, VC_WIDE(g0)));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x, VC_WIDE(g1)));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(x, VC_WIDE(g2)));
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(x, VC_WIDE(g3)));
#undef VC_WIDE
    }
    /* Horizontal sums of the four accumulators at once. */
    __m256i s01 = _mm256_hadd_epi32(a0, a1), s23 = _mm256_hadd_epi32(a2, a3);
    __m256i s = _mm256_hadd_epi32(s01, s23);
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    int32_t r[4];
    _mm_storeu_si128((__m128i*)r, t);
    for (; d < n; d++) {
        int32_t x = v[d];
        r[0] += x * g0[d]; r[1] += x * g1[d]; r[2] += x * g2[d]; r[3] += x * g3[d];
    }
    out[0] = r[0]; out[1] = r[1]; out[2] = r[2]; out[3] = r[3];
}
/* 256-bit templates: a template is one register, four templates per pass. With AVX2,
   bits are counted a nibble at a time by table lookup (vpshufb) and summed by vpsadbw
   (Mula, Kurz and Lemire 2018); with AVX-512 VPOPCNTDQ (Ice Lake, Zen 4), by vpopcntq,
   one instruction a template. */
#define VC_HAMMING256(NAME, ATTR, COUNT)                                                  \
ATTR static void NAME(const uint64_t* q, const uint64_t* g, Py_ssize_t count,            \
                      int32_t* out) {                                                    \
    const __m256i lut = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, \
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4); \
    const __m256i low = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();          \
    const __m256i v = _mm256_loadu_si256((const __m256i*)q);                             \
    const __m256i evens = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);                     \
    (void)lut; (void)low; (void)zero;                                                    \
    Py_ssize_t n = 0;                                                                    \
    for (; n + 4 <= count; n += 4) {                                                     \
        __m256i s[4];                                                                    \
        for (int j = 0; j < 4; j++) {                                                    \
            const __m256i* t = (const __m256i*)(g + 4 * (n + j));                        \
            __m256i x = _mm256_xor_si256(v, _mm256_loadu_si256(t));                      \
            s[j] = COUNT(x); /* four partial counts per template */                      \
        }                                                                                \
        /* The four partial counts of each template summed: y = [d0, d1, d2, d3]. */     \
        __m256i x01 = _mm256_add_epi64(_mm256_unpacklo_epi64(s[0], s[1]),                \
                                       _mm256_unpackhi_epi64(s[0], s[1]));               \
        __m256i x23 = _mm256_add_epi64(_mm256_unpacklo_epi64(s[2], s[3]),                \
                                       _mm256_unpackhi_epi64(s[2], s[3]));               \
        __m256i y = _mm256_add_epi64(_mm256_permute2x128_si256(x01, x23, 0x20),          \
                                     _mm256_permute2x128_si256(x01, x23, 0x31));         \
        _mm_storeu_si128((__m128i*)(out + n),                                            \
                         _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(y, evens))); \
    }                                                                                    \
    if (n < count) vc_hamming_plain(q, g + 4 * n, 4, count - n, out + n);                \
}
#define VC_COUNT_LUT(x) _mm256_sad_epu8(_mm256_add_epi8(                                  \
        _mm256_shuffle_epi8(lut, _mm256_and_si256(x, low)),                              \
        _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(x, 4), low))), zero)
VC_HAMMING256(vc_hamming256_avx2, __attribute__((target("avx2"))), VC_COUNT_LUT)
VC_HAMMING256(vc_hamming256_vpopcnt,
              __attribute__((target("avx2,avx512f,avx512vl,avx512vpopcntdq"))),
              _mm256_popcnt_epi64)
static int vc_dot_simd = -1; /* -1: ask the CPU once; tests may force 0 */
/* AVX-512 where it helps, as bits: 1 AVX-512F, 2 VPOPCNTDQ with VL; -1: ask the CPU
   once; tests may force 0 (the AVX2 loops). */
#define VC_WIDE_F 1
#define VC_WIDE_POPCNT 2
static int vc_wide_simd = -1;
static inline int vc_wide(void) {
    if (vc_wide_simd < 0)
        vc_wide_simd = (__builtin_cpu_supports("avx512f") ? VC_WIDE_F : 0)
                       | (__builtin_cpu_supports("avx512vpopcntdq")
                          && __builtin_cpu_supports("avx512vl") ? VC_WIDE_POPCNT : 0);
    return vc_wide_simd;
}
static void vc_hamming(const uint64_t* q, const uint64_t* g, Py_ssize_t W,
                       Py_ssize_t count, int32_t* out) {
    if (vc_dot_simd < 0)
        vc_dot_simd = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (vc_dot_simd && W == 4) {
        if (vc_wide() & VC_WIDE_POPCNT) vc_hamming256_vpopcnt(q, g, count, out);
        else vc_hamming256_avx2(q, g, count, out);
    } else vc_hamming_plain(q, g, W, count, out);
}
VC_DOTS(vc_dots_f32_avx2, __attribute__((target("avx2,fma"))), float, float,
        vc_dot4_f32_avx2)
VC_DOTS(vc_dots_i8_avx2, __attribute__((target("avx2"))), int8_t, int32_t, vc_dot4_i8_avx2)
static void vc_dots_f32(const float* v, const float* g, Py_ssize_t rows, Py_ssize_t n,
                        float* out) {
    if (vc_dot_simd < 0)
        vc_dot_simd = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    /* (a gallery not even 4-byte aligned, from a foreign buffer, takes the AVX2 loop) */
    if (vc_dot_simd && n == 128 && (vc_wide() & VC_WIDE_F)
            && (uintptr_t)g % sizeof(float) == 0)
        vc_dots_f32_d128_avx512(v, g, rows, out);
    else if (vc_dot_simd) vc_dots_f32_avx2(v, g, rows, n, out);
    else vc_dots_f32_plain(v, g, rows, n, out);
}
/* The same eight scores at a time: one compare (ordered, so NaN never beats t) and a
   bit mask, then only the set bits are visited. Once the top k has filled, almost no
   score beats it: a 256-score block costs about 40 cycles, where the plain loop (GCC
   keeps it scalar) costs one compare a score. */
__attribute__((target("avx2"))) static Py_ssize_t vc_above_f32_avx2(
        const float* x, Py_ssize_t n, float t, int32_t* idx) {
    const __m256 tv = _mm256_set1_ps(t);
    Py_ssize_t c = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        unsigned m = (unsigned)_mm256_movemask_ps(
            _mm256_cmp_ps(_mm256_loadu_ps(x + i), tv, _CMP_GT_OQ));
        while (m) {
            idx[c++] = (int32_t)(i + __builtin_ctz(m));
            m &= m - 1;
        }
    }
    for (; i < n; i++)
        if (x[i] > t) idx[c++] = (int32_t)i;
    return c;
}
static Py_ssize_t vc_above_f32(const float* x, Py_ssize_t n, float t, int32_t* idx) {
    if (vc_dot_simd < 0)
        vc_dot_simd = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return vc_dot_simd ? vc_above_f32_avx2(x, n, t, idx) : vc_above_f32_plain(x, n, t, idx);
}
static void vc_dots_i8(const int8_t* v, const int8_t* g, Py_ssize_t rows, Py_ssize_t n,
                       int32_t* out) {
    if (vc_dot_simd < 0)
        vc_dot_simd = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (vc_dot_simd) vc_dots_i8_avx2(v, g, rows, n, out);
    else vc_dots_i8_plain(v, g, rows, n, out);
}
#else
static int vc_dot_simd = 0;
static int vc_wide_simd = 0;
#define vc_dots_f32 vc_dots_f32_plain
#define vc_hamming vc_hamming_plain
#define vc_dots_i8 vc_dots_i8_plain
#define vc_above_f32 vc_above_f32_plain
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#define VC_HAS_SIMD (__builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("avx2") \
                     && __builtin_cpu_supports("fma"))
#else
#define VC_HAS_SIMD 0
#endif

#endif /* VC_EMBED_SIMD_H */
