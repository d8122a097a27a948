"""Person regions are kept only when something besides segmentation says so."""

from __future__ import annotations

import numpy as np

from veilcam.vision import people
from veilcam.vision.detect import Region


def _map() -> np.ndarray:
    """A 400x400 probability map holding one sure 40x60 blob (0.9), 1.5% of the frame."""
    prob = np.zeros((400, 400), np.uint8)
    prob[100:160, 100:140] = int(0.9 * 255)
    return prob


def test_a_faint_face_confirms_a_region_only_when_the_pose_model_sees_a_body() -> None:
    weak = [Region("face", (110.0, 105.0, 130.0, 125.0), 0.4)]
    asked: list[tuple[int, int, int, int]] = []

    def pose(answer: bool):  # type: ignore[no-untyped-def]
        def ask(box: tuple[int, int, int, int]) -> bool:
            asked.append(box)
            return answer

        return ask

    kept = people.confirmed(_map(), [], weak, [], 20, pose(True))
    assert kept[100:160, 100:140].all() and kept.sum() == 60 * 40
    assert asked == [(100, 100, 140, 160)]
    assert not people.confirmed(_map(), [], weak, [], 20, pose(False)).any()


def test_a_verified_face_or_hand_needs_no_pose() -> None:
    face = [Region("face", (110.0, 105.0, 130.0, 125.0), 0.9)]

    def never(box: tuple[int, int, int, int]) -> bool:
        raise AssertionError("pose asked of a region a verified face confirms")

    assert people.confirmed(_map(), face, [], [], 20, never).any()
    assert people.confirmed(_map(), [], [], face, 20, never).any()
    # Nothing inside: the small region stays unpainted, and pose is not asked either.
    assert not people.confirmed(_map(), [], [], [], 20, never).any()
