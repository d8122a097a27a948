"""Loading and running .tflite models: LiteRT (``ai-edge-litert``) with XNNPACK on the CPU, or
``tflite-runtime`` with the Edge TPU delegate on a Coral, chosen by the board profile.

An interpreter is not thread-safe, so each model keeps a small pool of them, one per
executor thread that may run it at once; the capture pipeline runs models from its
executor threads, never on the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from veilcam.errors import ModelError
from veilcam.vision import models

log = logging.getLogger(__name__)

# Seconds an interpreter beyond the first may stand unused before it is dropped.
SPARE_IDLE = 30.0


def profile_table(name_or_path: str) -> dict[str, Any]:
    """A board profile's TOML: one of ``board/profiles`` by name, or a ``.toml`` file. Its
    inference half is read here; its field half (devices, limits) by ``veilcam.field``."""
    p = Path(name_or_path)
    if p.suffix == ".toml":
        text = p.read_text()
    else:
        try:
            text = (
                resources.files("veilcam.board")
                .joinpath("profiles", f"{name_or_path}.toml")
                .read_text()
            )
        except FileNotFoundError:
            raise ModelError(f"no board profile named {name_or_path!r}") from None
    return tomllib.loads(text)


@dataclass(frozen=True, slots=True)
class BoardProfile:
    name: str
    runtime: str = "litert"  # litert | tflite-runtime
    delegate: str = "xnnpack"  # xnnpack | edgetpu
    threads: int = 1
    # The face detector: BlazeFace (``face_full``) on the runtime above, or an ONNX model
    # (``centerface``) on ONNX Runtime with the first of ``face_providers`` it offers.
    face_model: str = "face_full"
    face_runtime: str = "litert"
    face_providers: tuple[str, ...] = ()

    @classmethod
    def load(cls, name_or_path: str = "generic") -> BoardProfile:
        return cls.from_table(profile_table(name_or_path))

    @classmethod
    def from_table(cls, raw: dict[str, Any]) -> BoardProfile:
        face = raw.get("face_detector", {})
        prof = cls(
            name=raw["name"],
            runtime=raw.get("runtime", "litert"),
            delegate=raw.get("delegate", "xnnpack"),
            threads=int(raw.get("threads", 1)),
            face_model=face.get("model", "face_full"),
            face_runtime=face.get("runtime", raw.get("runtime", "litert")),
            face_providers=tuple(face.get("providers", ())),
        )
        if prof.runtime not in ("litert", "tflite-runtime"):
            raise ModelError(f"board profile {prof.name}: unknown runtime {prof.runtime!r}")
        faces = {("face_full", "litert"), ("face_full", "tflite-runtime")}
        if (prof.face_model, prof.face_runtime) not in faces | {("centerface", "onnxruntime")}:
            raise ModelError(
                f"board profile {prof.name}: face detector {prof.face_model!r} on"
                f" {prof.face_runtime!r} is not one veilcam runs (face_full on litert or"
                " tflite-runtime, centerface on onnxruntime)"
            )
        if not 1 <= prof.threads <= 16:
            raise ModelError(f"board profile {prof.name}: threads must be 1..16")
        return prof


def _interpreter(path: Path, profile: BoardProfile) -> tuple[Any, str]:
    """An interpreter for ``path`` and a word on what runs it."""
    if profile.runtime == "tflite-runtime" and profile.delegate == "edgetpu":
        try:
            from tflite_runtime.interpreter import Interpreter as TflInterpreter
            from tflite_runtime.interpreter import load_delegate

            delegate = load_delegate("libedgetpu.so.1")
            return (
                TflInterpreter(
                    model_path=str(path),
                    experimental_delegates=[delegate],
                    num_threads=profile.threads,
                ),
                "tflite-runtime + Edge TPU",
            )
        except (ImportError, ValueError, OSError, RuntimeError) as exc:
            log.warning(
                "Edge TPU delegate unavailable (%s); running %s on the CPU with LiteRT",
                exc,
                path.name,
            )
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=str(path), num_threads=profile.threads), "LiteRT XNNPACK"


class TFLiteModel:
    """One checked model file with up to ``copies`` interpreters; ``run`` takes a free one.

    Copies past the first are made only when a run finds every existing one busy, and are
    dropped again once one has stood unused for ``spare_idle`` seconds, so an appliance whose
    redactions overlap only now and then (a door picture during a stream frame) does not
    hold their memory (10-20 MB each) for good. The most recently used copy is taken first,
    so under light load the spares are the ones left to age."""

    def __init__(
        self,
        name: str,
        profile: BoardProfile,
        cache: Path | None = None,
        copies: int = 1,
        *,
        spare_idle: float = SPARE_IDLE,
        now: Callable[[], float] = time.monotonic,
        file: Path | None = None,
    ) -> None:
        self.name = name
        # ``file``: a model outside the manifest whose hash the caller has checked (an
        # operator-supplied embedder); otherwise the manifest's, refused if missing or altered.
        self._file = file if file is not None else models.path(name, cache)
        self._profile = profile
        self._free: list[tuple[Any, float]] = []  # (interpreter, when it came back), newest last
        self._cond = threading.Condition()
        self._made, self._copies = 1, max(1, copies)
        self._spare_idle, self._now = spare_idle, now
        it = self._new()
        inp = it.get_input_details()
        if len(inp) != 1 or len(inp[0]["shape"]) != 4:
            raise ModelError(f"model {name}: expected one NHWC image input")
        self._input = inp[0]["index"]
        _, self.height, self.width, _ = (int(v) for v in inp[0]["shape"])
        self._outputs = [d["index"] for d in it.get_output_details()]
        self._free.append((it, now()))

    def _new(self) -> Any:
        try:
            it, self.runs_on = _interpreter(self._file, self._profile)
            it.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"model {self.name}: {self._file} cannot be loaded: {exc}") from exc
        return it

    def _take(self) -> Any:
        with self._cond:
            while not self._free and self._made >= self._copies:
                self._cond.wait()  # every copy is busy: wait for one
            if self._free:
                return self._free.pop()[0]
            self._made += 1  # a copy more, made outside the lock
        try:
            return self._new()
        except BaseException:
            with self._cond:
                self._made -= 1
                self._cond.notify()
            raise

    def _give_back(self, it: Any) -> None:
        now = self._now()
        with self._cond:
            self._free.append((it, now))
            while len(self._free) > 1 and now - self._free[0][1] > self._spare_idle:
                del self._free[0]  # a spare nobody needed lately: its memory goes back
                self._made -= 1
            self._cond.notify()

    @property
    def interpreters(self) -> int:
        return self._made

    def run(self, image: np.ndarray) -> list[np.ndarray]:
        """``image``: float32 (H, W, 3) already at the model's size and value range."""
        it = self._take()
        try:
            it.set_tensor(self._input, image[None].astype(np.float32, copy=False))
            it.invoke()
            return [it.get_tensor(i)[0].copy() for i in self._outputs]
        finally:
            self._give_back(it)
