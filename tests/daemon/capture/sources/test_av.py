from pathlib import Path

import av
import numpy as np
import pytest

from veilcam.capture.sources.av import AVSource
from veilcam.errors import SourceError


def make_video(path: Path, frames: int = 5) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            img = np.full((48, 64, 3), i * 40, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def test_reads_a_video_file_frame_by_frame_then_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    make_video(path)
    src = AVSource("v", str(path))
    levels = [int(src.grab().pixels.mean()) for _ in range(5)]
    assert levels == sorted(levels) and levels[-1] > levels[0] + 100
    with pytest.raises(SourceError, match="end of video"):
        src.grab()
    assert src.grab().pixels.shape == (48, 64, 3)
    src.close()


def test_unreachable_stream_is_a_clear_error(tmp_path: Path) -> None:
    src = AVSource("v", str(tmp_path / "missing.mp4"), timeout=2)
    with pytest.raises(SourceError, match="missing.mp4: cannot open video"):
        src.grab()
