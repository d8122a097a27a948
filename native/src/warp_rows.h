/* Row loops of the affine warp and the area reduction.
   Part of veilcam_native._warp: the .pyx declares what it calls, this holds the C. */
#ifndef VC_WARP_ROWS_H
#define VC_WARP_ROWS_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

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
static int vc_warp_has_simd(void) { return __builtin_cpu_supports("sse4.1"); }
static void vc_warp_row_c3(const uint8_t* src, ptrdiff_t SW, ptrdiff_t SH,
                           const int32_t* px, const int32_t* py, uint8_t* out,
                           ptrdiff_t W) {
    if (vc_warp_simd < 0) vc_warp_simd = __builtin_cpu_supports("sse4.1") ? 1 : 0;
    if (vc_warp_simd) vc_warp_row_c3_sse41(src, SW, SH, px, py, out, W);
    else vc_warp_row_c3_plain(src, SW, SH, px, py, out, W);
}
#else
static int vc_warp_simd = 0;
static int vc_warp_has_simd(void) { return 0; }
#define vc_warp_row_c3 vc_warp_row_c3_plain
#endif

/* dst[i] = r0[i] * w0 + r1[i] * w1 (either row may be NULL: zeros), 16-bit: at most
   255 * 32. A loop the compiler vectorises. */
static void vc_mix_rows(uint16_t* __restrict__ dst, const uint8_t* __restrict__ r0,
                        const uint8_t* __restrict__ r1, int w0, int w1, Py_ssize_t n) {
    if (r0 && r1)
        for (Py_ssize_t i = 0; i < n; i++)
            dst[i] = (uint16_t)(r0[i] * w0 + r1[i] * w1);
    else if (r0)
        for (Py_ssize_t i = 0; i < n; i++) dst[i] = (uint16_t)(r0[i] * w0);
    else if (r1)
        for (Py_ssize_t i = 0; i < n; i++) dst[i] = (uint16_t)(r1[i] * w1);
    else
        memset(dst, 0, n * sizeof(uint16_t));
}

/* acc[x] += line[x]: restrict tells the compiler the two never overlap (a byte pointer
   may alias anything), so the loop is vectorised. */
static void vc_add_row_u8(uint32_t* __restrict__ acc, const uint8_t* __restrict__ line,
                          Py_ssize_t w) {
    for (Py_ssize_t x = 0; x < w; x++) acc[x] += line[x];
}

#endif /* VC_WARP_ROWS_H */
