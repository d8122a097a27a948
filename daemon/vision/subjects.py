"""What each camera purpose redacts. The product chooses; configuration can add hands to a
camera whose purpose has none, never take a subject away (``config.schema`` offers no switch
that would). Kept free of heavy imports: the command line offers these names.

- face: faces (BlazeFace, verified by the face mesh, or standing on a confirmed person)
- person: whole people (person segmentation, each region confirmed)
- hand: hands (palm detection, verified by the hand-landmark model)
- head: the heads of people whose face no face model finds (pose landmarks)
- change: the difference against a fridge's calibrated reference picture
"""

from __future__ import annotations

SUBJECTS: dict[str, frozenset[str]] = {
    # Everything human: a stock count must not show a shopper's arm or sleeve.
    "fridge": frozenset({"face", "person", "hand", "change"}),
    # Whole people: the shop floor, where nothing about a shopper is needed.
    "floor": frozenset({"face", "person"}),
    # Faces and heads only: bodies stay so that movement and reaching can be studied.
    "research": frozenset({"face", "head"}),
}
PURPOSES = tuple(SUBJECTS)
