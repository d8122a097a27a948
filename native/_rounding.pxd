# Shared by the kernels that average pixels (box blur, area reduction).
from libc.stdint cimport int64_t, uint8_t


cdef inline uint8_t rounded_mean(int64_t total, int64_t n, double inv) noexcept nogil:
    """floor((total + n/2) / n), the mean of n pixel values rounded half up; inv = 1.0 / n.

    Through the reciprocal while n is at most 2^20: the product's error is far below the
    1/n steps the quotient moves in, and the epsilon below them too, so the result is exact.
    Past 10^7 that fails (a quotient 1/n below the next integer would be rounded up), so
    larger counts divide."""
    if n > (1 << 20):
        return <uint8_t>((total + n // 2) // n)
    return <uint8_t>(<double>(total + n // 2) * inv + 1e-7)
