# cython: boundscheck=False, wraparound=False, initializedcheck=False
"""XOR checksum of the sensor line (NMEA style)."""

from libc.stdint cimport uint8_t


cdef inline uint8_t _xor8(const uint8_t[::1] data) noexcept nogil:
    cdef Py_ssize_t i
    cdef uint8_t acc = 0
    for i in range(data.shape[0]):
        acc ^= data[i]
    return acc


def xor8(const uint8_t[::1] data not None) -> int:
    # A sensor line is ~30 bytes: releasing the GIL would cost more than the loop.
    return _xor8(data)
