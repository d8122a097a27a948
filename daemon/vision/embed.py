"""Face templates, in memory: a found face is placed by the face mesh, judged by a quality
gate, aligned by the native warp kernel and embedded.

Only the face features (watchlist, de-duplicated counting) use this, and only behind their
gates; nothing here stores anything. A template is a unit float32 vector with the id of the
model that made it: templates of different models are never compared.

- **Landmarks**: the face mesh (``face_landmark``, already run to verify every face) places
  the eye corners and the base of the nose even on small, turned or greyscale faces, where
  dlib's 5-point model needs dlib's own detector's boxes.
- **Quality gate** (``Quality``), before any embedding: the eyes far enough apart in pixels,
  the face turned no more than a profile allows (from where the nose sits between the
  eyes), sharp enough (variance of the Laplacian at the face's own resolution) and exposed
  (not too dark, bright or clipped). A face that fails is not embedded; the reason is returned.
- **Alignment**: the similarity transform that puts the five points where dlib's mean face
  has them (``get_face_chip_details``: 150 x 150, padding 0.25), applied by
  ``veilcam_native.embed.warp_affine``.
- **Embedders** (``Embedder``): dlib's ResNet (``dlib_resnet``, 128-D, via ``dlib-bin``), or an
  operator-supplied TFLite or ONNX model named by path and SHA-256, with its input size,
  normalisation and calibrated threshold (``ModelEmbedder``).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from veilcam.errors import ModelError
from veilcam.vision import models
from veilcam.vision.detect import Region, _square_input
from veilcam.vision.runtime import BoardProfile, TFLiteModel
from veilcam.vision.verify import FACE_PRESENT, FACE_ROI, sigmoid
from veilcam_native import embed as kernels

# dlib's mean face for its 5-point model (dlib/image_transforms/interpolation.h): the outer
# and inner corner of the eye on the picture's right, the same on its left, below the nose.
DLIB_FACE = np.array(
    [
        (0.8595674595992, 0.2134981538014),
        (0.6460604764104, 0.2289674387677),
        (0.1205750620789, 0.2137274526848),
        (0.3340850613712, 0.2290642403242),
        (0.4901123135679, 0.6277975316475),
    ]
)
# The same five points on MediaPipe's face mesh (468 points; the subject's left eye is on the
# picture's right).
MESH_FIVE = (263, 362, 33, 133, 2)
MESH_NOSE_TIP = 1

MIN_EYES_PX = 8.0  # eye centres at least this far apart in the frame
MAX_TURN = 0.65  # |left - right| / (left + right) of the nose tip's distance to each eye
# Variance of the Laplacian of the face's grey pixels (about 48 wide): sharp faces in
# ../shared/eval/pairs measure 900-2100; blurred by 2% of the face's width 60-140, by 4%
# 9-20.
MIN_SHARPNESS = 40.0
SHARP_WIDTH = 48  # faces wider than this are reduced towards it before sharpness is taken
EXPOSURE = (30.0, 225.0)  # the face's mean grey level must lie between these
MAX_CLIPPED = 0.35  # share of the face's pixels black (< 8) or white (> 247)


@dataclass(frozen=True, slots=True)
class Quality:
    """The gate's verdict on one face, with the figures it judged by."""

    ok: bool
    reason: str | None
    eyes_px: float
    turn: float
    sharpness: float
    brightness: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "eyes_px": round(self.eyes_px, 1),
            "turn": round(self.turn, 2),
            "sharpness": round(self.sharpness, 1),
            "brightness": round(self.brightness, 1),
        }


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity transform (rotation, uniform scale, shift) taking the points
    ``src`` nearest to ``dst`` in the least-squares sense (Umeyama, 1991)."""
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    u, s, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.diag([1.0, float(np.sign(np.linalg.det(u @ vt))) or 1.0])
    rot = u @ d @ vt
    scale = float(np.trace(np.diag(s) @ d) / ((a**2).sum() / len(src)))
    shift = md - scale * rot @ ms
    return np.hstack([scale * rot, shift[:, None]])


def chip_points(size: int, padding: float = 0.25) -> np.ndarray:
    """Where the five points go on a ``size`` x ``size`` chip (dlib's arithmetic)."""
    return (padding + DLIB_FACE) / (2 * padding + 1) * size


def align(frame: np.ndarray, five: np.ndarray, size: int, padding: float = 0.25) -> np.ndarray:
    """The ``size`` x ``size`` chip of the face whose five points (frame pixels) are given."""
    return kernels.warp_affine(frame, similarity(five, chip_points(size, padding)), (size, size))


def _face_pixels(frame: np.ndarray, box: tuple[float, ...]) -> np.ndarray | None:
    """The face's grey pixels in the frame, a large face reduced by a whole factor towards
    ``SHARP_WIDTH`` (never enlarged): a small sharp face then measures as sharp as a large
    one, and a blurred one of either size low."""
    h, w = frame.shape[:2]
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(w, int(box[2]) + 1), min(h, int(box[3]) + 1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    crop = frame[y0:y1, x0:x1]
    k = max(1, (x1 - x0) // SHARP_WIDTH)
    if k > 1:
        crop = kernels.reduce_area(crop, k)
    return crop.astype(np.float32).mean(axis=2) if crop.ndim == 3 else crop.astype(np.float32)


def sharpness(grey: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian."""
    g = grey
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(lap.var())


def pixels_quality(frame: np.ndarray, box: tuple[float, ...]) -> Quality:
    """What the face's pixels alone say, before any model looks: size, exposure, blur."""
    width = box[2] - box[0]
    grey = _face_pixels(frame, box)
    if grey is None or width < 2.5 * MIN_EYES_PX:
        return Quality(False, f"too small: the face is {width:.0f} px wide", 0.0, 0.0, 0.0, 0.0)
    bright = float(grey.mean())
    clipped = float(((grey < 8) | (grey > 247)).mean())
    sharp = sharpness(grey)
    reason = None
    if not EXPOSURE[0] <= bright <= EXPOSURE[1] or clipped > MAX_CLIPPED:
        reason = f"badly exposed: mean grey {bright:.0f}, {clipped:.0%} clipped"
    elif sharp < MIN_SHARPNESS:
        reason = f"blurred: sharpness {sharp:.1f} (at least {MIN_SHARPNESS:.0f})"
    return Quality(reason is None, reason, 0.0, 0.0, sharp, bright)


def judge(points: np.ndarray, nose_tip: np.ndarray, first: Quality) -> Quality:
    """The rest of the gate, from the face's five points and nose tip (frame pixels): the
    eyes far enough apart, the face not turned into a profile."""
    right_eye, left_eye = points[0:2].mean(0), points[2:4].mean(0)
    eyes = float(np.hypot(*(right_eye - left_eye)))
    dl = float(np.hypot(*(nose_tip - left_eye)))
    dr = float(np.hypot(*(nose_tip - right_eye)))
    turn = abs(dl - dr) / max(dl + dr, 1e-6)
    reason = None
    if eyes < MIN_EYES_PX:
        reason = f"too small: eyes {eyes:.0f} px apart (at least {MIN_EYES_PX:.0f})"
    elif turn > MAX_TURN:
        reason = f"turned away: {turn:.2f} of a profile (at most {MAX_TURN})"
    return Quality(reason is None, reason, eyes, turn, first.sharpness, first.brightness)


class Embedder(Protocol):
    """Turns an aligned chip into a template. ``threshold``: the cosine similarity at or
    above which two of its templates are taken to be the same person (calibrated)."""

    model_id: str
    dim: int
    size: int  # the chip's side in pixels
    padding: float
    threshold: float

    def embed(self, chip: np.ndarray) -> np.ndarray: ...


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32).reshape(-1)
    return v / max(float(np.linalg.norm(v)), 1e-12)


class DlibEmbedder:
    """dlib's ResNet (128-D) from ``face_recognition_models``, run by ``dlib-bin``."""

    model_id = "dlib_resnet_v1"
    dim = 128
    size = 150
    padding = 0.25
    # dlib's own rule is a Euclidean distance under 0.6 between raw descriptors; on unit
    # vectors this is the calibrated cosine (bench/faces_eval.py).
    threshold = 0.925

    def __init__(self, cache: Path | None = None, copies: int = 2) -> None:
        try:
            import dlib
        except ImportError:
            raise ModelError(
                "the face features need dlib: pip install 'veilcam[faces]' (prebuilt dlib-bin)"
            ) from None
        self._path = str(models.path("dlib_resnet", cache))
        self._make = dlib.face_recognition_model_v1
        # One net runs one face at a time: up to ``copies`` of them (one per core), made
        # when two faces are embedded at once (about 30 MB each).
        self._free: list[Any] = [self._make(self._path)]
        self._made, self._copies = 1, max(1, copies)
        self._cond = threading.Condition()

    def embed(self, chip: np.ndarray) -> np.ndarray:
        with self._cond:
            while not self._free and self._made >= self._copies:
                self._cond.wait()
            net = self._free.pop() if self._free else None
            if net is None:
                self._made += 1
        if net is None:
            net = self._make(self._path)
        try:
            raw = net.compute_face_descriptor(np.ascontiguousarray(chip))
        finally:
            with self._cond:
                self._free.append(net)
                self._cond.notify()
        return _unit(np.asarray(raw))


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """An operator-supplied embedding model: where, its hash, how to feed it."""

    model_id: str
    path: str
    sha256: str
    size: int
    mean: float = 127.5
    std: float = 128.0
    threshold: float = 0.5
    padding: float = 0.25
    rgb: bool = True


class ModelEmbedder:
    """A TFLite (LiteRT) or ONNX (ONNX Runtime) embedding model supplied by the operator:
    checked against its SHA-256 before it is loaded, fed ``(pixel - mean) / std``."""

    def __init__(self, spec: ModelSpec, profile: BoardProfile | None = None) -> None:
        p = Path(spec.path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise ModelError(f"embedding model {spec.model_id}: cannot read {p} ({exc})") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != spec.sha256.lower():
            raise ModelError(
                f"embedding model {spec.model_id}: {p} has SHA-256 {digest[:16]}…, the"
                f" configuration pins {spec.sha256[:16]}…; refusing it"
            )
        self.spec = spec
        self.model_id, self.size, self.padding = spec.model_id, spec.size, spec.padding
        self.threshold = spec.threshold
        self._lock = threading.Lock()
        if p.suffix == ".onnx":
            try:
                import onnxruntime as ort
            except ImportError:
                raise ModelError(
                    f"embedding model {spec.model_id}: ONNX models need onnxruntime"
                ) from None
            self._session: Any = ort.InferenceSession(str(p), providers=["CPUExecutionProvider"])
            inp = self._session.get_inputs()[0]
            self._input, self._nchw = inp.name, inp.shape[1] == 3
            self.dim = int(self._session.get_outputs()[0].shape[-1])
        elif p.suffix == ".tflite":
            self._tflite = TFLiteModel(spec.model_id, profile or BoardProfile("generic"), file=p)
            self._session = None
            self._nchw = False
            if (self._tflite.height, self._tflite.width) != (spec.size, spec.size):
                raise ModelError(
                    f"embedding model {spec.model_id}: its input is"
                    f" {self._tflite.width}x{self._tflite.height}, not {spec.size}x{spec.size}"
                )
            self.dim = int(self._tflite.run(np.zeros((spec.size, spec.size, 3)))[0].size)
        else:
            raise ModelError(f"embedding model {spec.model_id}: {p} is neither .onnx nor .tflite")

    def embed(self, chip: np.ndarray) -> np.ndarray:
        x = chip if self.spec.rgb else chip[:, :, ::-1]
        x = (x.astype(np.float32) - self.spec.mean) / self.spec.std
        if self._session is None:
            return _unit(self._tflite.run(x)[0])
        x = x.transpose(2, 0, 1)[None] if self._nchw else x[None]
        with self._lock:
            out = self._session.run(None, {self._input: np.ascontiguousarray(x)})
        return _unit(out[0])


@dataclass(frozen=True, slots=True)
class Described:
    """One face: where it is, what the gate said, and its template if it passed."""

    box: tuple[float, float, float, float]
    quality: Quality
    template: np.ndarray | None
    model_id: str


class FaceFeatures:
    """Faces in a frame to templates: mesh landmarks, the gate, alignment, the embedder."""

    def __init__(
        self, embedder: Embedder, profile: BoardProfile, cache: Path | None = None
    ) -> None:
        self.embedder = embedder
        self.mesh = TFLiteModel("face_landmark", profile, cache)

    def landmarks(self, frame: np.ndarray, box: tuple[float, ...]) -> tuple[np.ndarray, float]:
        """The face mesh's 468 points (frame pixels) round ``box``, and its face score."""
        x0, y0, x1, y1 = box
        side = max(2, int(max(x1 - x0, y1 - y0) * FACE_ROI))
        left, top = int((x0 + x1) / 2 - side / 2), int((y0 + y1) / 2 - side / 2)
        img, scale = _square_input(frame, left, top, side, self.mesh.height)
        out = self.mesh.run(img.astype(np.float32) * (1 / 255))
        pts = np.asarray(out[0], np.float64).reshape(-1, 3)[:, :2] / scale + (left, top)
        return pts, float(sigmoid(np.asarray(out[1]).reshape(-1)[:1])[0])

    def describe(self, frame: np.ndarray, face: Region) -> Described:
        """Gate and embed one face found by the detector; nothing is kept."""
        e = self.embedder
        first = pixels_quality(frame, face.box)
        if not first.ok:
            return Described(face.box, first, None, e.model_id)
        mesh, present = self.landmarks(frame, face.box)
        if present < FACE_PRESENT:
            q = Quality(False, f"not a face: the mesh says {present:.2f}", 0.0, 0.0, 0.0, 0.0)
            return Described(face.box, q, None, e.model_id)
        five = mesh[list(MESH_FIVE)]
        quality = judge(five, mesh[MESH_NOSE_TIP], first)
        if not quality.ok:
            return Described(face.box, quality, None, e.model_id)
        chip = align(frame, five, e.size, e.padding)
        return Described(face.box, quality, e.embed(chip), e.model_id)
