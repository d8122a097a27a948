# cython: boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Patch descriptors for stock monitoring, one pass per patch; results equal ``_stock_py``
(to float rounding). Shapes and dtypes are checked by the wrapper (``stock.py``)."""

from libc.math cimport M_PI, atan2, sqrt
from libc.stdint cimport uint8_t
from libc.stdlib cimport free, malloc

COLOUR_BINS = 15
EDGE_BINS = 12
cdef double MIN_SAT = 0.25, MIN_VALUE = 0.15


def describe(const uint8_t[:, :, :, ::1] p, float[:, ::1] zgrey, float[::1] flat,
             float[:, ::1] mean, float[:, ::1] colour, float[:, ::1] edges):
    cdef Py_ssize_t n = p.shape[0], h = p.shape[1], w = p.shape[2]
    cdef Py_ssize_t i, y, x, k, hb
    cdef double r, g, b, hi, lo, v, s, span, hue, m, var, d, gx, gy, mag, t, total, norm
    cdef double sr, sg, sb
    cdef double cnt[15]
    cdef double e[12]
    cdef double* grey = <double*>malloc(h * w * sizeof(double))
    if grey == NULL:
        raise MemoryError("patch buffer")
    try:
        with nogil:
            for i in range(n):
                sr = sg = sb = 0
                for k in range(15):
                    cnt[k] = 0
                for k in range(12):
                    e[k] = 0
                for y in range(h):
                    for x in range(w):
                        r = p[i, y, x, 0]
                        g = p[i, y, x, 1]
                        b = p[i, y, x, 2]
                        sr += r
                        sg += g
                        sb += b
                        grey[y * w + x] = (77 * r + 150 * g + 29 * b) / 256
                        hi = r if r >= g else g
                        hi = hi if hi >= b else b
                        lo = r if r <= g else g
                        lo = lo if lo <= b else b
                        v = hi / 255
                        span = hi - lo
                        s = span / hi if hi > 0 else 0
                        if s >= MIN_SAT and v >= MIN_VALUE:
                            if hi == r:
                                hue = (g - b) / span
                                if hue < 0:
                                    hue = hue + 6
                            elif hi == g:
                                hue = (b - r) / span + 2
                            else:
                                hue = (r - g) / span + 4
                            hb = <Py_ssize_t>(hue * 2)
                            cnt[hb if hb < 11 else 11] += 1
                        else:
                            hb = <Py_ssize_t>(v * 3)
                            cnt[12 + (hb if hb < 2 else 2)] += 1
                total = h * w
                mean[i, 0] = sr / total
                mean[i, 1] = sg / total
                mean[i, 2] = sb / total
                for k in range(15):
                    colour[i, k] = cnt[k] / total
                m = 0
                for k in range(h * w):
                    m += grey[k]
                m /= total
                var = 0
                for k in range(h * w):
                    d = grey[k] - m
                    var += d * d
                var /= total
                norm = sqrt(var + 1)
                for k in range(h * w):
                    zgrey[i, k] = (grey[k] - m) / norm
                total = 0
                for y in range(1, h - 1):
                    for x in range(1, w - 1):
                        gx = (grey[y * w + x + 1] - grey[y * w + x - 1]) / 2
                        gy = (grey[(y + 1) * w + x] - grey[(y - 1) * w + x]) / 2
                        mag = sqrt(gx * gx + gy * gy)
                        total += mag
                        t = atan2(gy, gx)
                        if t < 0:
                            t = t + M_PI
                        if t >= M_PI:
                            t = t - M_PI
                        hb = <Py_ssize_t>(t * (6 / M_PI))
                        hb = hb if hb < 5 else 5
                        e[hb + (0 if y < h // 2 else 6)] += mag
                flat[i] = total / ((h - 2) * (w - 2)) / (m + 8)
                norm = 0
                for k in range(12):
                    norm += e[k] * e[k]
                norm = sqrt(norm) + 1e-6
                for k in range(12):
                    edges[i, k] = e[k] / norm
    finally:
        free(grey)
