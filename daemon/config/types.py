"""The small types every part of the configuration schema shares."""

from __future__ import annotations

from typing import Annotated

import msgspec

from veilcam.durations import Range

# Retention: at least an hour; the caps of veilcam.retention are the upper limits.
KEEP = Range("1h", "36500d")
Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
TimeOfDay = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass
