"""The analysis of fridge stills: the quality gate refuses what cannot be judged, and says
why; a facing under a redaction or behind a hand is unknown, never empty; facings emptied,
partly emptied and holding the wrong product are told apart."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from PIL import Image, ImageFilter

from veilcam.demo import fridge
from veilcam.demo.fridge import Scene, render
from veilcam.stock.analyse import Reference, analyse, prepare


@functools.cache
def reference(with_empty: bool = True) -> Reference:
    pictures = {p.sku: np.asarray(fridge.catalogue_picture(p.sku)) for p in fridge.PRODUCTS}
    empty = fridge.empty() if with_empty else None
    return prepare(fridge.stocked(), fridge.planogram(), empty, pictures)


def states(check) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.state for f in check.facings]


@pytest.mark.parametrize("with_empty", [True, False])
def test_empty_partial_and_wrong_facings_are_told_apart(with_empty: bool) -> None:
    facings = fridge.planogram()
    scene = Scene(units={0: [0, 0, 0], 1: [1, 0, 0], 7: [0, 0, 0]}, swaps={8: "VC-YOG-2"})
    check = analyse(render(scene, seed=7), reference(with_empty))
    assert check.status == "ok", check.reason
    got = states(check)
    assert got[0] == "empty" and got[7] == "empty"
    assert got[1] == "partial" and check.facings[1].fill == pytest.approx(1 / 3)
    assert got[8] == "wrong_product" and check.facings[8].seen_sku == "VC-YOG-2"
    others = [s for i, s in enumerate(got) if i not in (0, 1, 7, 8)]
    assert others == ["full"] * (len(facings) - 4)


def test_a_dimmer_light_changes_nothing() -> None:
    check = analyse(render(Scene(units={2: [0, 0]}, light=0.55), seed=8), reference())
    assert check.status == "ok" and states(check).count("full") == len(check.facings) - 1


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (lambda a: (a * 0.08).astype(np.uint8), "too dark"),
        (
            lambda a: np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(6))),
            "blurred",
        ),
        ("door", "across the shelves"),
        ("glare", "glare"),
    ],
    ids=["dark", "blurred", "door", "glare"],
)
def test_the_gate_refuses_with_its_reason(spoil, reason: str) -> None:  # type: ignore[no-untyped-def]
    a = render(Scene(units={0: [0, 0, 0]}), seed=9).astype(np.float32)
    if spoil == "door":  # the door's frame swinging across the shelves
        frame = Image.new("L", (fridge.W, fridge.H), 0)
        from PIL import ImageDraw

        ImageDraw.Draw(frame).polygon([(500, 0), (640, 0), (760, 720), (620, 720)], fill=255)
        m = np.asarray(frame, np.float32)[..., None] / 255
        a = a * (1 - m) + 60 * m
    elif spoil == "glare":
        yy, xx = np.mgrid[0 : fridge.H, 0 : fridge.W]
        a += 420 * np.exp(-(((xx - 640) / 330.0) ** 2 + ((yy - 330) / 160.0) ** 2))[..., None]
    else:
        a = spoil(a.clip(0, 255).astype(np.uint8)).astype(np.float32)
    check = analyse(a.clip(0, 255).astype(np.uint8), reference())
    assert check.status == "rejected" and reason in check.reason, check.reason
    assert check.facings == []  # a rejected still says nothing about any facing


def test_a_facing_under_a_redaction_is_unknown_with_its_reason() -> None:
    scene = Scene(units={10: [0, 0, 0]})  # emptied, and then painted over
    a = render(scene, seed=10)
    x0, y0, x1, y1 = 70, 350, 330, 500
    a[y0:y1, x0:x1] = 0
    check = analyse(a, reference(), painted=[[x0, y0, x1, y1]])
    assert check.status == "ok"
    st = check.facings[10]
    assert st.state == "unknown" and st.fill is None and "redacted" in st.reason


def test_an_arm_in_front_never_makes_a_facing_empty() -> None:
    """The arm unredacted (as if every model missed it): what it covers is unknown or
    still holds its product, never empty."""
    check = analyse(render(Scene(arm=True), seed=11), reference())
    assert check.status == "ok"
    assert "empty" not in states(check)


def test_most_facings_redacted_is_a_rejection() -> None:
    a = render(Scene(), seed=12)
    a[:, 100:1200] = 0
    check = analyse(a, reference(), painted=[[100, 0, 1200, 720]])
    assert check.status == "rejected"


def test_a_blank_or_resized_picture_is_rejected() -> None:
    assert "blank picture" in analyse(fridge.stocked(), reference(), blank_reason="x").reason
    small = fridge.stocked()[:360, :640]
    assert "recalibrate" in analyse(small, reference()).reason
