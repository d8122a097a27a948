"""``camera test`` at the serial console: one frame grabbed and put through the camera's
normal redaction, and only figures come back: what was found and painted, how long it took,
exposure and focus. Nothing is stored, sent or printed as a picture; the frame, raw and
redacted, lives in memory for the length of the call.

Exposure and focus are measured on the raw frame's luminance, reduced to numbers: the mean
level, the shares of crushed blacks and blown highlights, and the variance of the Laplacian
(a sharp picture has strong second differences; a blurred or fogged one has few).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from veilcam.capture.pipeline import Pipeline

DARK, BRIGHT = 8, 247  # luminance at or beyond which a pixel carries no detail
FOCUS_SIDE = 640  # focus is measured on the frame reduced to about this width


def figures(pixels: np.ndarray) -> dict[str, float]:
    """Exposure and focus of an RGB uint8 frame, as numbers only."""
    rgb = pixels.astype(np.float32)
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    step = max(1, luma.shape[1] // FOCUS_SIDE)
    small = luma[::step, ::step]
    lap = (
        small[1:-1, :-2]
        + small[1:-1, 2:]
        + small[:-2, 1:-1]
        + small[2:, 1:-1]
        - 4 * small[1:-1, 1:-1]
    )
    return {
        "mean_level": round(float(luma.mean()), 1),
        "dark_share": round(float((luma <= DARK).mean()), 4),
        "bright_share": round(float((luma >= BRIGHT).mean()), 4),
        "focus": round(float(lap.var()) if lap.size else 0.0, 1),
    }


def verdict(fig: dict[str, float]) -> list[str]:
    """Plain advice from the figures, for a technician adjusting a camera."""
    out = []
    if fig["mean_level"] < 50 or fig["dark_share"] > 0.3:
        out.append("too dark: more light, or a longer exposure")
    if fig["mean_level"] > 205 or fig["bright_share"] > 0.2:
        out.append("too bright: less exposure, or away from the lamp")
    if fig["focus"] < 20:
        out.append("soft: check the focus, and for fog or a dirty lens")
    return out or ["exposure and focus look right"]


async def camera_test(pipeline: Pipeline, camera: str) -> dict[str, Any]:
    cam = pipeline.cameras[camera]
    pipeline.allowed(cam)
    frame = await cam.grab()
    h, w = frame.pixels.shape[:2]
    fig = await asyncio.get_running_loop().run_in_executor(None, figures, frame.pixels)
    redacted = await pipeline.redact(cam, frame.pixels)
    return {
        "camera": camera,
        "purpose": cam.cfg.purpose,
        "width": w,
        "height": h,
        "redaction": "blanked: " + redacted.blank_reason if redacted.blank_reason else "redacted",
        "regions": dict(redacted.regions),
        "models": list(redacted.models),
        "timings_ms": {k: round(v, 1) for k, v in redacted.timings_ms.items()},
        **fig,
        "advice": verdict(fig),
    }
