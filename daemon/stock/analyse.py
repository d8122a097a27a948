"""The analysis of one stored, already redacted fridge still against its calibration.

First the quality gate, on the whole picture against the stocked reference: a blank picture,
one too dark, blurred, with glare across the shelves, with something (a door frame) in
front of the shelves, with most facings under redaction, or taken after the camera moved is
rejected with its reason, and changes no stock state.

Then each facing, unit by unit (``features.slots``): a unit under a painted region is
unseen; one that still correlates with the stocked reference holds its product; one that is
flat where the product was, or matches the empty reference, is empty; anything else is
named by its colours and edges against the products' looks: its own product moved, another
product (``wrong_product``), or nothing known (a hand, a bag: unseen, never empty). A facing
is ``unknown`` while half its units are unseen, or any is and the rest look empty: a hand
in front of a facing never makes it ``empty``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from veilcam.stock import features as ft
from veilcam.stock.catalogue import Facing
from veilcam.vision.changes import light_gain
from veilcam_native import mask as masks

# Decisions, each measured on bench/stock (python bench/stock_eval.py), for kinds of scene.
SAME_CORRELATION = 0.6  # a unit correlating this well with its stocked look is its product
SAME_COLOUR = 0.7  # ... with at least this overlap of its colours (``colour_overlap``)
EMPTY_CORRELATION = 0.5  # correlation with the empty reference that makes a unit empty
FLAT = 0.04  # gradient over brightness below which a unit shows bare wall
FLAT_RATIO = 0.3  # ... and at most this share of its stocked texture
KNOWN = 0.8  # look similarity (0..1.5) needed to name a product seen
MOVED_MARGIN = 0.03  # its own product, if it is this close to the best match
UNSEEN_PAINT = 0.1  # share of a unit under redaction that leaves it unseen (its look spoilt)

GATE_DARK = 0.3  # mean brightness under this share of the reference's (or under 25)
GATE_SHARP = 0.45  # sharpness (Laplacian over brightness) under this share: blurred
GATE_GLARE = 0.04  # more blown-out pixels than the reference by this share of the shelves
GATE_BLOCKED = 0.25  # share of the shelves' structure not seen: something in front
GATE_ACROSS = 0.9  # share of shelf edges interrupted: something across them (a door frame)
ACROSS_RUN = 4  # work pixels (16 in a 1080p still) of a shelf edge gone: cut
BLOCK_SEEN = 0.3  # correlation of a block with its calibrated self: still seen
GATE_REDACTED = 0.5  # share of facings mostly under redaction
GATE_MOVED = 0.04  # the camera's shake looked for, as a share of the picture's width


@dataclass(frozen=True, slots=True)
class FacingState:
    facing: int  # index into the planogram
    state: str  # full | partial | empty | wrong_product | unknown
    fill: float | None
    confidence: float
    seen_sku: str | None = None
    reason: str = ""


@dataclass(slots=True)
class Check:
    status: str  # ok | rejected
    reason: str = ""
    facings: list[FacingState] = field(default_factory=list)
    shift: tuple[int, int] = (0, 0)
    timings_ms: dict[str, float] = field(default_factory=dict)


def _grey(a: np.ndarray) -> np.ndarray:
    return (a[..., 0] * 77.0 + a[..., 1] * 150.0 + a[..., 2] * 29.0) / 256


def _sharpness(g: np.ndarray, where: np.ndarray) -> float:
    lap = np.abs(4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:])
    return float(lap[where[1:-1, 1:-1]].mean() / (g[where].mean() + 8))


def _shift(a: np.ndarray, b: np.ndarray, most: int) -> tuple[int, int]:
    """How far ``a``'s content lies from ``b``'s, at most ``most`` pixels each way, by phase
    correlation: (dx, dy). Shelves repeat the same carton every few centimetres, so only
    the peak within reach counts: a camera moved further fails the gate's structure check."""
    fa, fb = np.fft.rfft2(a - a.mean()), np.fft.rfft2(b - b.mean())
    cross = fa * np.conj(fb)
    cross /= np.abs(cross) + 1e-9
    r = np.fft.irfft2(cross, s=a.shape)
    near = np.roll(r, (most, most), axis=(0, 1))[: 2 * most + 1, : 2 * most + 1]
    dy, dx = np.unravel_index(int(np.argmax(near)), near.shape)
    return int(dx) - most, int(dy) - most


def _blocks(g: np.ndarray, k: int = 8) -> np.ndarray:
    h, w = (g.shape[0] // k) * k, (g.shape[1] // k) * k
    return (
        g[:h, :w].reshape(h // k, k, w // k, k).transpose(0, 2, 1, 3).reshape(h // k, w // k, k * k)
    )


@dataclass(slots=True)
class Reference:
    """A fridge camera's calibration made ready for analysis: its slots and their stocked
    (and empty) looks, the products' looks, and the whole-picture figures of the gate."""

    size: tuple[int, int]  # the calibration picture's width, height
    facings: list[Facing]
    slots: list[ft.Slot]
    stocked: ft.Described
    stocked_z: np.ndarray  # (shifts, N, D)
    empty: ft.Described | None
    empty_z: np.ndarray | None
    looks: dict[str, np.ndarray]  # sku -> (M, D)
    work: np.ndarray  # the stocked picture, reduced
    grey: np.ndarray  # ... and grey
    shelves: np.ndarray  # work-picture mask of the facings' boxes
    structure: np.ndarray  # (by, bx) blocks outside the facings with something to see
    blocks: np.ndarray  # (shifts, structure blocks, 64) the stocked grey ones, z-scored
    edge_map: np.ndarray  # bool, the horizontal edges outside the facings
    edge_lines: list[tuple[int, int, int, int]]  # boxes of those longer than half the width
    edge_level: float
    brightness: float
    sharpness: float
    glare: float


def prepare(
    stocked: np.ndarray,
    facings: Sequence[Facing],
    empty: np.ndarray | None = None,
    product_pictures: dict[str, np.ndarray] | None = None,
) -> Reference:
    """Everything the analysis compares against, from the calibration pictures (taken with
    nobody in view), the planogram and the catalogue's product pictures."""
    work = ft.reduce(stocked)
    h, w = work.shape[:2]
    slots = ft.slots([f.polygon for f in facings], [f.capacity for f in facings], w, h)
    st = ft.describe(ft.patches(work, slots))
    stz = np.stack([ft.describe(ft.patches(work, slots, s)).zgrey for s in ft.SHIFTS])
    em, emz = None, None
    if empty is not None:
        if empty.shape != stocked.shape:
            raise ValueError("the empty and stocked calibration pictures differ in size")
        ework = ft.reduce(empty)
        em = ft.describe(ft.patches(ework, slots))
        emz = np.stack([ft.describe(ft.patches(ework, slots, s)).zgrey for s in ft.SHIFTS])
    looks: dict[str, list[np.ndarray]] = {}
    for s, look in zip(slots, st.look(), strict=True):
        looks.setdefault(facings[s.facing].sku, []).append(look)
    for sku, pic in (product_pictures or {}).items():
        looks.setdefault(sku, []).append(product_look(pic))
    canvas = Image.new("1", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    for f in facings:
        draw.polygon([(x * w, y * h) for x, y in f.polygon], fill=1, outline=1)
    shelves = np.asarray(canvas, bool)
    g = _grey(work.astype(np.float32))
    b = _blocks(g)
    outside = ~_blocks(shelves.astype(np.float32)).any(axis=2)
    structure = outside & (b.std(axis=2) > 6)
    # shelf edges: long horizontal edges outside the facings
    level = max(8.0, 0.15 * float(g.mean()))
    # (a shelf's front edge is the facings' bottom edge: their boundary rows count as outside)
    inner = masks.dilate(np.ascontiguousarray((~shelves).astype(np.uint8)), 2) == 0
    edge_map = (_edges(g, level) != 0) & ~inner
    lines = [
        (int(x0), int(y0), int(x1), int(y1))
        for x0, y0, x1, y1 in masks.mask_boxes(edge_map.astype(np.uint8), min_area=w // 4)
        if x1 - x0 >= w // 2
    ]
    # only the structure's blocks are kept: a few per cent of the picture
    shifted = np.stack(
        [_z(_blocks(np.roll(g, (sy, sx), axis=(0, 1)))[structure]) for sx, sy in ft.SHIFTS]
    )
    return Reference(
        size=(stocked.shape[1], stocked.shape[0]),
        facings=list(facings),
        slots=slots,
        stocked=st,
        stocked_z=stz,
        empty=em,
        empty_z=emz,
        looks={k: np.stack(v) for k, v in looks.items()},
        work=work,
        grey=g,
        shelves=shelves,
        structure=structure,
        blocks=shifted,
        edge_map=edge_map,
        edge_lines=lines,
        edge_level=level,
        brightness=float(g.mean()),
        sharpness=_sharpness(g, shelves),
        glare=float((work[shelves].min(axis=1) >= 250).mean()),
    )


def colour_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise overlap of colour histograms, 0..1: of the coloured bins, relative to the
    more coloured of the two, where either has colour (10% of its pixels); of all bins for
    grey products, whose colour is mostly their print's black and white."""
    hues = a.shape[1] - 3
    ca, cb = a[:, :hues], b[:, :hues]
    most = np.maximum(ca.sum(axis=1), cb.sum(axis=1))
    coloured = np.minimum(ca, cb).sum(axis=1) / np.maximum(most, 1e-6)
    grey = np.minimum(a, b).sum(axis=1)
    out: np.ndarray = np.where(most >= 0.1, coloured, grey)
    return out


def _blocked(g: np.ndarray, paint: np.ndarray, ref: Reference, dx: int, dy: int) -> str | None:
    """Something in front of the shelves: the shelves' own structure (their edges, the
    walls) hidden across most shelves (a door frame), or over much of the picture. Blocks
    under redaction do not count; each block may sit a pixel off its calibrated place."""
    moved = _z(_blocks(np.roll(g, (-dy, -dx), axis=(0, 1)))[ref.structure])
    painted = _blocks(np.roll(paint, (-dy, -dx), axis=(0, 1)).astype(np.float32))
    seen = np.asarray(~painted.any(axis=2), bool)[ref.structure]  # per structure block
    if seen.sum() < 8:
        return None
    corr = np.max([(moved * b).mean(axis=1) for b in ref.blocks], axis=0)
    hidden = seen & (corr < BLOCK_SEEN)
    share = float(hidden.sum() / seen.sum())
    if share > GATE_BLOCKED:
        return (
            f"something in front of the shelves, or the camera moved: {share:.0%} of their "
            "edges and walls not where calibrated"
        )
    level = ref.edge_level * float(g.mean()) / ref.brightness / 2
    lines = _edges(np.roll(g, (-dy, -dx), axis=(0, 1)), level)
    lines = masks.dilate(lines, 1) != 0
    # Painted counts as gone here: a region painted across every shelf (a door frame the
    # redactor took for an arm, someone standing in front) hides the fridge all the same.
    painted_px = np.roll(paint, (-dy, -dx), axis=(0, 1)) != 0
    cuts: list[tuple[int, int] | None] = []  # per line (top first): its longest cut
    for x0, y0, x1, y1 in sorted(ref.edge_lines, key=lambda b: b[1]):
        want = ref.edge_map[y0:y1, x0:x1]
        gone = want & (~lines[y0:y1, x0:x1] | painted_px[y0:y1, x0:x1])
        cols = np.asarray(want.any(axis=0), bool)
        missing: np.ndarray = cols & (gone.sum(axis=0) >= want.sum(axis=0))  # all gone
        run, best, start, cut = 0, 0, 0, None
        for c, (has, m) in enumerate(zip(cols, missing, strict=True)):
            if m:
                start = c if run == 0 else start
                run += 1
            elif has:
                run = 0
            if run > best:
                best, cut = run, (x0 + start, x0 + c)
        cuts.append(cut if best >= ACROSS_RUN else None)
    # One thing across the shelves: cuts in consecutive edges, each near the one above.
    crossed = chain = 0
    near = 0.1 * g.shape[1]
    for above, below in zip([None, *cuts], cuts, strict=False):
        if below is None:
            chain = 0
        elif above is not None and below[0] - near <= above[1] and above[0] <= below[1] + near:
            chain += 1
        else:
            chain = 1
        crossed = max(crossed, chain)
    n = len(ref.edge_lines)
    if n >= 2 and crossed >= GATE_ACROSS * n:
        return (
            f"something across the shelves (a door frame, someone in front): {crossed} of "
            f"{n} shelf edges cut"
        )
    return None


def _edges(g: np.ndarray, level: float) -> np.ndarray:
    """Horizontal edges (a shelf's front, a wall's corner): 0/1 uint8 where the grey steps
    by more than ``level`` between the rows above and below."""
    out = np.zeros(g.shape, np.uint8)
    out[1:-1] = np.abs(g[2:] - g[:-2]) > level
    return out


def _z(b: np.ndarray) -> np.ndarray:
    out: np.ndarray = (b - b.mean(axis=-1, keepdims=True)) / np.sqrt(
        b.var(axis=-1, keepdims=True) + 1
    )
    return out


def product_look(picture: np.ndarray) -> np.ndarray:
    """A product's look from its catalogue picture: the packshot on a light background,
    cropped to the product and squeezed into a unit's patch."""
    a = picture if picture.ndim == 3 else np.repeat(picture[..., None], 3, axis=2)
    fg = a.min(axis=2) < 232
    ys, xs = np.nonzero(fg)
    if len(ys) == 0:
        ys, xs = np.array([0, a.shape[0] - 1]), np.array([0, a.shape[1] - 1])
    crop = np.ascontiguousarray(a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
    ch, cw = crop.shape[:2]
    inv = (cw / ft.PW, 0.0, cw / ft.PW / 2 - 0.5, 0.0, ch / ft.PH, ch / ft.PH / 2 - 0.5)
    p = ft.patches(crop, [ft.Slot(0, 0, inv, (0, 0, cw, ch))])
    look: np.ndarray = ft.describe(p).look()[0]
    return look


def _painted_mask(boxes: Sequence[Sequence[float]], k: float, h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    for x0, y0, x1, y1 in boxes:
        m[max(0, int(y0 // k)) : int(-(-y1 // k)), max(0, int(x0 // k)) : int(-(-x1 // k))] = 1
    return m


def analyse(
    still: np.ndarray,
    ref: Reference,
    painted: Sequence[Sequence[float]] = (),
    blank_reason: str | None = None,
) -> Check:
    """The gate, then every facing's state; ``painted`` are the redactor's boxes in the
    still's pixels."""
    t0 = time.perf_counter()
    if blank_reason:
        return Check("rejected", f"blank picture: {blank_reason}")
    if (still.shape[1], still.shape[0]) != ref.size:
        return Check(
            "rejected",
            f"the picture is {still.shape[1]}x{still.shape[0]}, the calibration "
            f"{ref.size[0]}x{ref.size[1]}: recalibrate the camera",
        )
    k = still.shape[1] / ref.grey.shape[1]
    work = ft.reduce(still)
    h, w = work.shape[:2]
    g = _grey(work.astype(np.float32))
    paint = _painted_mask(painted, k, h, w)
    timings = {"reduce": (time.perf_counter() - t0) * 1000}
    # --- the gate ---
    bright = float(g.mean())
    if bright < 25 or bright < GATE_DARK * ref.brightness:
        return Check(
            "rejected",
            f"too dark (brightness {bright:.0f} of 255, calibrated {ref.brightness:.0f})",
        )
    dx, dy = _shift(np.where(paint != 0, float(g.mean()), g), ref.grey, max(1, int(GATE_MOVED * w)))
    shelves = np.roll(ref.shelves, (dy, dx), axis=(0, 1)) & (paint == 0)
    if shelves.sum() > 100:
        glare = float((work[shelves].min(axis=1) >= 250).mean())
        if glare - ref.glare > GATE_GLARE:
            return Check(
                "rejected", f"glare across the shelves ({glare:.0%} blown out)", shift=(dx, dy)
            )
        sharp = _sharpness(g, shelves)
        if sharp < GATE_SHARP * ref.sharpness:
            return Check(
                "rejected",
                f"blurred (sharpness {sharp / ref.sharpness:.0%} of the calibration's)",
                shift=(dx, dy),
            )
    if (why := _blocked(g, paint, ref, dx, dy)) is not None:
        return Check("rejected", why, shift=(dx, dy))
    timings["gate"] = (time.perf_counter() - t0) * 1000 - timings["reduce"]
    # --- colour: the still's light made like the calibration's, measured on the walls and
    # shelf fronts (outside the facings, not painted) ---
    outside = ~np.roll(ref.shelves, (dy, dx), axis=(0, 1)) & (paint == 0)
    gain = 1 / light_gain(work, np.roll(ref.work, (dy, dx), axis=(0, 1)), outside)
    p = ft.patches(work, ref.slots, (dx, dy))
    lit = np.clip(p.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    d = ft.describe(lit)
    # --- each unit ---
    boxes = np.array([s.box for s in ref.slots], np.float64).reshape(-1, 4) + (dx, dy, dx, dy)
    under = masks.region_fraction(paint, boxes) if len(boxes) else np.zeros(0)
    if len(under) != len(ref.slots):  # a unit wholly outside the picture: unseen
        under = np.ones(len(ref.slots))
    corr_ref = np.max([ft.correlation(d.zgrey, z) for z in ref.stocked_z], axis=0)
    col_ref = colour_overlap(d.colour, ref.stocked.colour)
    same = (corr_ref >= SAME_CORRELATION) & (col_ref >= SAME_COLOUR)
    if ref.empty is not None and ref.empty_z is not None:
        corr_emp = np.max([ft.correlation(d.zgrey, z) for z in ref.empty_z], axis=0)
        close = np.abs(d.mean - ref.empty.mean).mean(axis=1) < 0.2 * (
            ref.empty.mean.mean(axis=1) + 10
        )
        empty = ((corr_emp >= EMPTY_CORRELATION) | ((d.flat < FLAT) & close)) & ~same
    else:
        empty = (d.flat < FLAT) & (d.flat < FLAT_RATIO * ref.stocked.flat) & ~same
    skus = sorted(ref.looks)
    looks = d.look()
    sims = (
        np.stack([ft.similarity(looks, ref.looks[s]).max(axis=1) for s in skus], axis=1)
        if skus
        else None
    )
    timings["units"] = (time.perf_counter() - t0) * 1000 - sum(timings.values())
    states = _facings(ref, d, under, same, empty, sims, skus, corr_ref)
    timings["total"] = (time.perf_counter() - t0) * 1000
    return Check("ok", "", states, (dx, dy), {k: round(v, 2) for k, v in timings.items()})


def _facings(
    ref: Reference,
    d: ft.Described,
    under: np.ndarray,
    same: np.ndarray,
    empty: np.ndarray,
    sims: np.ndarray | None,
    skus: list[str],
    corr_ref: np.ndarray,
) -> list[FacingState]:
    by_facing: dict[int, list[int]] = {}
    for n, s in enumerate(ref.slots):
        by_facing.setdefault(s.facing, []).append(n)
    out = []
    for i, f in enumerate(ref.facings):
        right = wrong = bare = unseen = 0
        seen_wrong: dict[str, int] = {}
        sure: list[float] = []
        painted = False
        for n in by_facing.get(i, []):
            if under[n] >= UNSEEN_PAINT:
                unseen += 1
                painted = True
            elif same[n]:
                right += 1
                sure.append(min(1.0, 0.5 + (corr_ref[n] - SAME_CORRELATION) * 2))
            elif empty[n]:
                bare += 1
                sure.append(min(1.0, 0.5 + (FLAT - min(d.flat[n], FLAT)) / FLAT))
            elif sims is not None:
                row = sims[n]
                best = int(np.argmax(row))
                own = row[skus.index(f.sku)] if f.sku in skus else 0.0
                if skus[best] == f.sku or own >= row[best] - MOVED_MARGIN:
                    right += 1
                    sure.append(0.6)
                elif row[best] >= KNOWN:
                    wrong += 1
                    seen_wrong[skus[best]] = seen_wrong.get(skus[best], 0) + 1
                    sure.append(min(1.0, 0.5 + (row[best] - own)))
                else:
                    unseen += 1
            else:
                unseen += 1
        cap = f.capacity
        seen = cap - unseen
        conf = float(np.mean(sure)) if sure else 0.0
        if unseen * 2 >= cap or (unseen and right + wrong == 0):
            why = "under a redacted region" if painted else "something in front of it"
            out.append(FacingState(i, "unknown", None, 0.0, None, why))
            continue
        fill = (right + wrong) / seen
        if wrong and wrong >= right:
            sku = max(seen_wrong, key=lambda k: seen_wrong[k])
            out.append(FacingState(i, "wrong_product", fill, conf, sku))
        elif right + wrong == 0:
            out.append(FacingState(i, "empty", 0.0, conf))
        elif right + wrong == seen:
            out.append(FacingState(i, "full", fill, conf, f.sku))
        else:
            out.append(FacingState(i, "partial", fill, conf, f.sku))
    return out
