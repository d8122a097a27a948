"""Plain-Python twin of ``_checksum``: the readable specification."""

from functools import reduce
from operator import xor


def xor8(data: bytes | bytearray | memoryview) -> int:
    """XOR of every byte; 0 for empty input."""
    return reduce(xor, bytes(data), 0)
