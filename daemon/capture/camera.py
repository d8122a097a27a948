"""A camera: its source and its own one-thread executor, with a timeout on every grab."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from veilcam.capture.sources import Source
from veilcam.capture.sources.base import Frame
from veilcam.config import CameraConfig
from veilcam.errors import SourceError
from veilcam.health import Health

log = logging.getLogger(__name__)


class Camera:
    """A source plus its own one-thread executor, so device calls never overlap."""

    def __init__(self, cfg: CameraConfig, source: Source, health: Health) -> None:
        self.cfg = cfg
        self.source = source
        self.health = health
        self.component = f"camera:{cfg.name}"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"cam-{cfg.name}")
        self._timeout = cfg.grab_timeout
        self.grabs = 0
        self.failures = 0

    async def grab(self) -> Frame:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                frame = await loop.run_in_executor(self._pool, self.source.grab)
        except TimeoutError:
            self.failures += 1
            self.health.set(self.component, "error", f"no frame within {self._timeout:g}s")
            raise SourceError(
                f"camera {self.cfg.name}: no frame within {self._timeout:g}s"
            ) from None
        except SourceError as exc:
            self.failures += 1
            self.health.set(self.component, "error", str(exc))
            raise
        self.grabs += 1
        if (st := self.health.get(self.component)) is None or st.state != "ok":
            self.health.set(self.component, "ok", f"delivering frames from {frame.origin}")
        return frame

    def close(self) -> None:
        # Not waiting: a device read that never returns must not hold up the daemon's
        # shutdown (the final snapshot and audit entry come after this).
        self._pool.submit(self.source.close)
        self._pool.shutdown(wait=False, cancel_futures=True)
