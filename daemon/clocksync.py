"""Whether the system clock is synchronised (the kernel's NTP state, as ``timedatectl``
reports it), for the health page: records and retention depend on the clock."""

from __future__ import annotations

import ctypes
import ctypes.util

TIME_ERROR = 5  # adjtimex(2): the clock is not synchronised


def synchronised() -> bool | None:
    """True or False from the kernel; None where it cannot be asked (not Linux/glibc)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        adjtimex = ctypes.CDLL(name, use_errno=True).adjtimex
    except (OSError, AttributeError):
        return None
    buf = ctypes.create_string_buffer(512)  # struct timex, modes = 0: read only
    state = adjtimex(buf)
    if state < 0:
        return None
    return state != TIME_ERROR
