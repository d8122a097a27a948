/* Row loops of the box blur: column sums, means, running sums of pixels.
   Part of veilcam_native._redact: the .pyx declares what it calls, this holds the C. */
#ifndef VC_REDACT_ROWS_H
#define VC_REDACT_ROWS_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

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

#endif /* VC_REDACT_ROWS_H */
