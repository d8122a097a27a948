"""SSD decoding: anchor layouts match the models' outputs; weighted suppression merges."""

from __future__ import annotations

import numpy as np

from veilcam.vision import ssd


def test_anchor_counts_match_the_models() -> None:
    assert len(ssd.FACE_SHORT.anchors()) == 896
    assert len(ssd.FACE_FULL.anchors()) == 2304
    assert len(ssd.PALM.anchors()) == 2016
    a = ssd.FACE_FULL.anchors()
    assert np.allclose(a[0], [0.5 / 48, 0.5 / 48]) and np.allclose(a[-1], [47.5 / 48, 47.5 / 48])


def test_decode_places_a_box_relative_to_its_anchor() -> None:
    spec = ssd.FACE_FULL
    anchors = spec.anchors()
    raw = np.zeros((2304, 16), np.float32)
    scores = np.full((2304, 1), -10, np.float32)
    i = 48 * 10 + 20  # row 10, column 20
    raw[i, :4] = [0.0, 19.2, 38.4, 19.2]  # shift down 0.1, 0.2 wide, 0.1 high
    scores[i] = 5
    boxes, kp, s = ssd.decode(raw, scores, spec, anchors)
    cx, cy = (20.5 / 48), (10.5 / 48) + 0.1
    np.testing.assert_allclose(boxes[0], [cx - 0.1, cy - 0.05, cx + 0.1, cy + 0.05], atol=1e-6)
    assert kp.shape == (1, 6, 2) and s[0] > 0.99


def test_weighted_nms_merges_overlaps_and_keeps_separate_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.9, 0.6], np.float32)
    b, s = ssd.weighted_nms(boxes, scores, 0.3)
    assert len(b) == 2
    np.testing.assert_allclose(b[0], [0.5, 0.5, 10.5, 10.5])
    np.testing.assert_allclose(s, [0.9, 0.6])
    empty_b, empty_s = ssd.weighted_nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.3)
    assert empty_b.shape == (0, 4) and empty_s.shape == (0,)
