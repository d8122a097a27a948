/* Row loops of the mask dilation.
   Part of veilcam_native._mask: the .pyx declares what it calls, this holds the C. */
#ifndef VC_MASK_ROWS_H
#define VC_MASK_ROWS_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Row loops the compiler vectorises (restrict: the buffers never overlap). */
static void vc_count_rows(int32_t* __restrict__ cnt, const uint8_t* __restrict__ add,
                          const uint8_t* __restrict__ sub, Py_ssize_t w) {
    if (add)
        for (Py_ssize_t x = 0; x < w; x++) cnt[x] += add[x] != 0;
    if (sub)
        for (Py_ssize_t x = 0; x < w; x++) cnt[x] -= sub[x] != 0;
}
static void vc_any(uint8_t* __restrict__ dst, const int32_t* __restrict__ cnt,
                   Py_ssize_t w) {
    for (Py_ssize_t x = 0; x < w; x++) dst[x] = cnt[x] != 0;
}
static void vc_or_shifted(uint8_t* __restrict__ dst, const uint8_t* __restrict__ src,
                          Py_ssize_t s, Py_ssize_t n) {
    for (Py_ssize_t x = 0; x < n; x++) dst[x] = src[x] | src[x + s];
}

#endif /* VC_MASK_ROWS_H */
