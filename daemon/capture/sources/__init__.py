"""Camera sources; ``make_source`` builds one from its configuration."""

from __future__ import annotations

from veilcam.capture.sources.base import Frame, Source
from veilcam.config import AVSourceConfig, CameraConfig, ReplaySourceConfig, V4L2SourceConfig


def make_source(cam: CameraConfig) -> Source:
    src = cam.source
    if isinstance(src, ReplaySourceConfig):
        from veilcam.capture.sources.replay import ReplaySource

        return ReplaySource(cam.name, src.path, loop=src.loop)
    if isinstance(src, V4L2SourceConfig):
        from veilcam.capture.sources.v4l2 import V4L2Source

        return V4L2Source(
            cam.name,
            src.device,
            width=src.width,
            height=src.height,
            fps=src.fps,
            pixel_format=src.pixel_format,
        )
    if isinstance(src, AVSourceConfig):
        from veilcam.capture.sources.av import AVSource

        return AVSource(cam.name, src.url, timeout=src.timeout)
    raise TypeError(f"unknown source {src!r}")


__all__ = ["Frame", "Source", "make_source"]
