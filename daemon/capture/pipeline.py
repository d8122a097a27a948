"""One capture: grab -> redact -> JPEG without metadata -> encrypt -> store.

The raw frame exists only in this module's locals and the executor call that
redacts it. If redaction fails, times out, or the frame is too large, the stored
picture is a blank frame with the reason: never the original.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

import numpy as np

from veilcam.capture.camera import Camera
from veilcam.config import CameraConfig
from veilcam.errors import FeatureClosed, PrivacyRefused, StoreError, VeilcamError
from veilcam.health import Health
from veilcam.redaction.imaging import encode_jpeg
from veilcam.redaction.redactor import Redacted, Redactor, blanked
from veilcam.store import Picture, Store

log = logging.getLogger(__name__)

REDACT_TIMEOUT = 20.0


REDACT_WORKERS = 2  # redactions at once; the vision models keep one interpreter per worker


def redact_frame(redactor: Redactor, pixels: np.ndarray, cfg: CameraConfig) -> Redacted:
    """Blocking; runs in the CPU executor. Any error becomes a blank frame with the reason."""
    h, w = pixels.shape[:2]
    if h * w > cfg.max_pixels:
        return blanked(pixels, f"frame of {w}x{h} exceeds the {cfg.max_pixels}-pixel limit")
    try:
        result = redactor.redact(pixels, cfg)
    except Exception as exc:  # noqa: BLE001 - fail closed on anything
        return blanked(pixels, f"redaction failed: {type(exc).__name__}: {exc}")
    if result.pixels is pixels or np.shares_memory(result.pixels, pixels):
        return blanked(pixels, "redactor handed back the original frame")
    return result


class Inspector(Protocol):
    """A face feature looking at raw frames before redaction, in memory only."""

    name: str

    async def inspect(self, cam: CameraConfig, frame: np.ndarray) -> None: ...


class Pipeline:
    """Captures for every camera; owned by the supervisor."""

    def __init__(
        self, cameras: dict[str, Camera], redactor: Redactor, store: Store, health: Health
    ) -> None:
        self.cameras = cameras
        self.redactor = redactor
        self.store = store
        self.health = health
        self._cpu = ThreadPoolExecutor(max_workers=REDACT_WORKERS, thread_name_prefix="redact")
        # Blanking and encoding have their own worker: redactions hung past their timeout may
        # hold every redaction worker, and failing closed (a blank frame, stored) must still
        # complete.
        self._blank = ThreadPoolExecutor(max_workers=1, thread_name_prefix="blank")
        self._encode = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encode")
        self.captures = 0
        self.blanked = 0
        self.store_failures = 0
        # Told of every stored picture (camera, media id): analysis wakes without polling.
        self.stored: list[Callable[[str, str], None]] = []
        # Raises FeatureClosed while a feature's gate is not open (set by the runtime from
        # the privacy registers; nothing is gated until then).
        self.gate: Callable[[str], None] = lambda feature: None
        # The face features (watchlist, de-duplicated counting): each is shown every raw
        # frame before redaction (memory only; each decides from the camera's config whether
        # it looks). Set by the runtime when the face features are configured.
        self.inspectors: list[Inspector] = []

    def allowed(self, cam: Camera) -> None:
        """Refuse to look through a camera whose purpose needs an open feature gate: a
        research camera keeps bodies, which only an approved study may do."""
        if cam.cfg.purpose != "research":
            return
        try:
            self.gate("research")
        except FeatureClosed as exc:
            self.health.set(cam.component, "warning", f"not capturing: {exc}")
            raise

    def close(self) -> None:
        # Not waiting, for the same reason: a hung redactor must not block the shutdown.
        self._cpu.shutdown(wait=False, cancel_futures=True)
        self._blank.shutdown(wait=False, cancel_futures=True)
        self._encode.shutdown(wait=False, cancel_futures=True)
        for cam in self.cameras.values():
            cam.close()

    async def redact(self, cam: Camera, pixels: np.ndarray) -> Redacted:
        for inspector in self.inspectors:
            try:
                await inspector.inspect(cam.cfg, pixels)
            # A missing face model or extra, a broken key: named in health; the picture is
            # redacted and stored regardless.
            except (VeilcamError, RuntimeError, ValueError, OSError) as exc:
                self.health.set(f"{inspector.name}:{cam.cfg.name}", "error", f"not looking: {exc}")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(REDACT_TIMEOUT):
                result = await loop.run_in_executor(
                    self._cpu, redact_frame, self.redactor, pixels, cam.cfg
                )
        except TimeoutError:
            result = await loop.run_in_executor(
                self._blank, blanked, pixels, f"redaction timed out after {REDACT_TIMEOUT:g}s"
            )
        if result.blank_reason:
            self.health.set("redaction", "warning", f"pictures blanked: {result.blank_reason}")
        return result

    async def store_redacted(self, cam: Camera, redacted: Redacted, trigger: str) -> str:
        loop = asyncio.get_running_loop()
        jpeg = await loop.run_in_executor(
            self._encode, encode_jpeg, redacted.pixels, cam.cfg.jpeg_quality
        )
        h, w = redacted.pixels.shape[:2]
        picture = Picture(
            camera=cam.cfg.name,
            kind="fridge" if cam.cfg.purpose == "fridge" else "floor",
            trigger=trigger,
            jpeg=jpeg,
            width=w,
            height=h,
            redaction=redacted.summary(),
            blank_reason=redacted.blank_reason,
        )
        try:
            media_id = await self.store.add_picture(picture)
        except StoreError as exc:
            self.store_failures += 1
            self.health.set("picture_store", "error", f"cannot store pictures: {exc}")
            raise
        if (st := self.health.get("picture_store")) is not None and st.state != "ok":
            self.health.set("picture_store", "ok", "storing pictures again")
        self.captures += 1
        for tell in self.stored:
            tell(cam.cfg.name, media_id)
        self.blanked += redacted.blank_reason is not None
        return media_id

    async def capture(self, camera: str, trigger: str) -> str:
        """Grab, redact, store; return the media id. Raises SourceError if no frame came.
        A research camera keeps bodies visible, which only a running study's clips may do
        (within its dates and area): it takes no stills."""
        cam = self.cameras[camera]
        self.allowed(cam)
        if cam.cfg.purpose == "research":
            raise PrivacyRefused(
                f"{camera} is a research camera: it records clips for a running study only,"
                " never stills"
            )
        frame = await cam.grab()
        redacted = await self.redact(cam, frame.pixels)
        del frame  # the raw frame goes no further than this line
        media_id = await self.store_redacted(cam, redacted, trigger)
        log.info(
            "captured %s on %s (%s): %s", camera, trigger, redacted.summary()["status"], media_id
        )
        return media_id
