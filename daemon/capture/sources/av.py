"""RTSP streams and video files through PyAV.

A live stream must be read continuously or it falls behind, so a thread keeps
decoding and holds only the newest frame; a file is read frame by frame.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import av
import numpy as np

from veilcam.capture.sources.base import Frame, check_frame
from veilcam.errors import SourceError

log = logging.getLogger(__name__)


def _is_live(url: str) -> bool:
    return "://" in url and not url.startswith("file://")


class AVSource:
    def __init__(self, name: str, url: str, *, timeout: float = 10.0) -> None:
        self.name = name
        self.url = url
        self.timeout = timeout
        self._container: Any = None
        self._frames: Any = None
        self._latest: np.ndarray | None = None
        self._error: BaseException | None = None
        self._fresh = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def open(self) -> None:
        options = {"rtsp_transport": "tcp"} if self.url.startswith("rtsp") else {}
        try:
            self._container = av.open(self.url, options=options, timeout=self.timeout)
            stream = self._container.streams.video[0]
        except (av.FFmpegError, OSError, IndexError) as exc:
            self.close()
            raise SourceError(f"{self.url}: cannot open video ({exc})") from exc
        stream.thread_type = "AUTO"
        self._frames = self._container.decode(stream)
        if _is_live(self.url):
            self._stop.clear()
            self._thread = threading.Thread(target=self._pump, name=f"av-{self.name}", daemon=True)
            self._thread.start()

    def _pump(self) -> None:
        try:
            for frame in self._frames:
                if self._stop.is_set():
                    return
                pixels = frame.to_ndarray(format="rgb24")
                with self._fresh:
                    self._latest = pixels
                    self._fresh.notify_all()
            raise SourceError(f"{self.url}: stream ended")
        except (av.FFmpegError, OSError, SourceError) as exc:
            with self._fresh:
                self._error = exc
                self._fresh.notify_all()

    def grab(self) -> Frame:
        if self._frames is None:
            self.open()
        if self._thread is None:
            try:
                pixels = next(self._frames).to_ndarray(format="rgb24")
            except StopIteration:
                self.close()  # a file: start over on the next grab
                raise SourceError(f"{self.url}: end of video") from None
            except (av.FFmpegError, OSError) as exc:
                self.close()
                raise SourceError(f"{self.url}: cannot decode ({exc})") from exc
            return Frame(check_frame(pixels, self.url), self.url)
        with self._fresh:
            self._latest = None
            ok = self._fresh.wait_for(lambda: self._latest is not None or self._error, self.timeout)
            pixels, error = self._taken()
        if error is not None or not ok or pixels is None:
            self.close()
            raise SourceError(f"{self.url}: no frame ({error or 'timed out'})")
        return Frame(check_frame(pixels, self.url), self.url)

    def _taken(self) -> tuple[np.ndarray | None, BaseException | None]:
        """What the reader thread left (read under the lock, after waiting for it)."""
        return self._latest, self._error

    def close(self) -> None:
        self._stop.set()
        if self._container is not None:
            try:
                self._container.close()
            except (av.FFmpegError, OSError):
                pass
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._container = self._frames = self._thread = None
        self._latest = self._error = None
