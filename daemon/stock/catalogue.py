"""Products and planograms, and their CSV and JSON forms (``docs/stock.md`` lists the
columns). Parsing is all or nothing: every error found is reported by row and column, and a
file with any error imports nothing.

A facing is one place on a shelf for one product: a polygon on the fridge camera's
calibration picture, in fractions of its width and height (so it survives a change of
resolution), and a capacity, the number of units side by side the facing holds at the front.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from veilcam.errors import VeilcamError

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CAMERA = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_CAPACITY = 24
MAX_SHELF = 20
MAX_POSITION = 100
MAX_POINTS = 12
MAX_ROWS = 5000
PRODUCT_COLUMNS = ("sku", "name", "brand", "authorised")
PLANOGRAM_COLUMNS = ("camera", "shelf", "position", "sku", "capacity", "polygon")


class CatalogueError(VeilcamError):
    """An import refused; ``problems`` lists each error, by row and column."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__("nothing imported: " + "; ".join(problems[:10]) + more)


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    brand: str = ""
    authorised: bool = True  # on this store's assortment; purity counts the others


@dataclass(frozen=True, slots=True)
class Facing:
    camera: str
    shelf: int  # 1 = top
    position: int  # 1 = leftmost
    sku: str
    capacity: int
    polygon: tuple[tuple[float, float], ...]  # fractions of the picture
    id: int | None = None

    @property
    def label(self) -> str:
        return f"shelf {self.shelf} position {self.position}"

    def pixels(self, width: int, height: int) -> list[tuple[float, float]]:
        return [(x * width, y * height) for x, y in self.polygon]

    def as_dict(self) -> dict[str, Any]:
        return {
            "camera": self.camera,
            "shelf": self.shelf,
            "position": self.position,
            "sku": self.sku,
            "capacity": self.capacity,
            "polygon": [[round(x, 5), round(y, 5)] for x, y in self.polygon],
        }


@dataclass(slots=True)
class Catalogue:
    products: list[Product] = field(default_factory=list)
    facings: list[Facing] = field(default_factory=list)


# --- checks ------------------------------------------------------------------------------


def _int(raw: Any, low: int, high: int) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not a whole number")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        if not re.fullmatch(r"[+-]?\d{1,6}", text):
            raise ValueError(f"{text!r} is not a whole number")
        value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}..{high}")
    return value


def area(points: Sequence[tuple[float, float]]) -> float:
    """The polygon's area (shoelace), in the units of its points."""
    n = len(points)
    return (
        abs(
            sum(
                points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1]
                for i in range(n)
            )
        )
        / 2
    )


def polygon(raw: Any) -> tuple[tuple[float, float], ...]:
    """``[[x, y], ...]`` or the CSV form ``"x,y x,y x,y"``; fractions 0..1; 3-12 points."""
    if isinstance(raw, str):
        pairs: list[Any] = [p.split(",") for p in raw.split()]
    elif isinstance(raw, list):
        pairs = raw
    else:
        raise ValueError("must be a list of [x, y] points or 'x,y x,y x,y'")
    if not 3 <= len(pairs) <= MAX_POINTS:
        raise ValueError(f"needs 3 to {MAX_POINTS} points, not {len(pairs)}")
    pts = []
    for p in pairs:
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise ValueError(f"point {p!r} is not x,y")
        try:
            x, y = float(p[0]), float(p[1])
        except (TypeError, ValueError):
            raise ValueError(f"point {p!r} is not two numbers") from None
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"point {x:g},{y:g} is outside the picture (0..1)")
        pts.append((x, y))
    if area(pts) < 1e-5:
        raise ValueError("the polygon has no area")
    return tuple(pts)


def _text(raw: Any, limit: int, required: bool) -> str:
    text = "" if raw is None else str(raw).strip()
    if required and not text:
        raise ValueError("is empty")
    if len(text) > limit or any(ord(c) < 32 for c in text):
        raise ValueError(f"must be at most {limit} printable characters")
    return text


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = "" if raw is None else str(raw).strip().lower()
    if text in ("", "1", "yes", "true", "y"):
        return True
    if text in ("0", "no", "false", "n"):
        return False
    raise ValueError(f"{raw!r} is not yes or no")


def product_from(row: dict[str, Any], where: str, problems: list[str]) -> Product | None:
    values: dict[str, Any] = {}
    checks = {
        "sku": lambda v: _match(SKU, _text(v, 64, True), "a SKU: letters, digits, . _ -"),
        "name": lambda v: _text(v, 200, True),
        "brand": lambda v: _text(v, 100, False),
        "authorised": _bool,
    }
    return Product(**values) if _parse(row, checks, where, problems, values) else None


def facing_from(
    row: dict[str, Any], where: str, problems: list[str], parsed: dict[str, Any] | None = None
) -> Facing | None:
    """One facing from a row; what parsed of it goes into ``parsed`` (for the checks across
    rows, which run even when another column of the row is wrong)."""
    values: dict[str, Any] = {} if parsed is None else parsed
    checks = {
        "camera": lambda v: _match(CAMERA, _text(v, 64, True), "a camera name"),
        "shelf": lambda v: _int(v, 1, MAX_SHELF),
        "position": lambda v: _int(v, 1, MAX_POSITION),
        "sku": lambda v: _match(SKU, _text(v, 64, True), "a SKU: letters, digits, . _ -"),
        "capacity": lambda v: _int(v, 1, MAX_CAPACITY),
        "polygon": polygon,
    }
    return Facing(**values) if _parse(row, checks, where, problems, values) else None


def _parse(
    row: dict[str, Any],
    checks: dict[str, Callable[[Any], Any]],
    where: str,
    problems: list[str],
    values: dict[str, Any],
) -> bool:
    """Each column through its check into ``values``; True if every one passed."""
    for col, check in checks.items():
        try:
            values[col] = check(row.get(col))
        except ValueError as exc:
            problems.append(f"{where}, column {col}: {exc}")
    return len(values) == len(checks)


def _match(pattern: re.Pattern[str], text: str, what: str) -> str:
    if not pattern.match(text):
        raise ValueError(f"{text!r} is not {what}")
    return text


def check(
    products: Sequence[Product],
    facings: Sequence[tuple[str, dict[str, Any]]],
    known_skus: Iterable[str],
    problems: list[str],
) -> None:
    """Checks across rows: duplicate SKUs and places, facings naming unknown products.
    ``facings`` are (where, what parsed of the row)."""
    skus = set(known_skus)
    seen: set[str] = set()
    for p in products:
        if p.sku in seen:
            problems.append(f"product {p.sku}: listed twice")
        seen.add(p.sku)
    skus |= seen
    places: dict[tuple[str, int, int], str] = {}
    for at, f in facings:
        if {"camera", "shelf", "position"} <= f.keys():
            key = (f["camera"], f["shelf"], f["position"])
            if key in places:
                problems.append(
                    f"{at}: {key[0]} shelf {key[1]} position {key[2]} is also {places[key]}"
                )
            places.setdefault(key, at)
        if "sku" in f and f["sku"] not in skus:
            problems.append(f"{at}, column sku: no product {f['sku']!r} in the catalogue")


# --- CSV ---------------------------------------------------------------------------------


def _rows(
    text: str, columns: Sequence[str], required: Sequence[str]
) -> list[tuple[int, dict[str, str]]]:
    if "\x00" in text:
        raise CatalogueError(["the file holds a NUL byte: not a CSV text file"])
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h not in columns]
    if missing or unknown:
        problems = [f"row 1: missing column {c}" for c in missing]
        problems += [
            f"row 1: unknown column {h!r} (expected {', '.join(columns)})" for h in unknown
        ]
        raise CatalogueError(problems)
    reader.fieldnames = header
    out = []
    for n, row in enumerate(reader, start=2):
        if n > MAX_ROWS + 1:
            raise CatalogueError([f"more than {MAX_ROWS} rows"])
        if None in row:
            raise CatalogueError([f"row {n}: more values than columns"])
        if not any((v or "").strip() for v in row.values()):
            continue  # blank line
        out.append((n, row))
    return out


def products_from_csv(text: str, known_skus: Iterable[str] = ()) -> list[Product]:
    problems: list[str] = []
    out = []
    for n, row in _rows(text, PRODUCT_COLUMNS, ("sku", "name")):
        if (p := product_from(row, f"row {n}", problems)) is not None:
            out.append(p)
    check(out, [], known_skus, problems)
    if problems:
        raise CatalogueError(problems)
    return out


def planogram_from_csv(text: str, known_skus: Iterable[str]) -> list[Facing]:
    problems: list[str] = []
    out: list[Facing] = []
    parsed: list[tuple[str, dict[str, Any]]] = []
    for n, row in _rows(text, PLANOGRAM_COLUMNS, PLANOGRAM_COLUMNS):
        parsed.append((f"row {n}", {}))
        if (f := facing_from(row, f"row {n}", problems, parsed[-1][1])) is not None:
            out.append(f)
    check([], parsed, known_skus, problems)
    if problems:
        raise CatalogueError(problems)
    return out


def products_to_csv(products: Iterable[Product]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(PRODUCT_COLUMNS)
    for p in products:
        w.writerow([p.sku, p.name, p.brand, "yes" if p.authorised else "no"])
    return buf.getvalue()


def planogram_to_csv(facings: Iterable[Facing]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(PLANOGRAM_COLUMNS)
    for f in facings:
        pts = " ".join(f"{x:.5f},{y:.5f}" for x, y in f.polygon)
        w.writerow([f.camera, f.shelf, f.position, f.sku, f.capacity, pts])
    return buf.getvalue()


# --- JSON --------------------------------------------------------------------------------


def from_json(text: str | bytes, known_skus: Iterable[str] = ()) -> Catalogue:
    """``{"products": [...], "facings": [...]}``; either list may be left out."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CatalogueError([f"not JSON: {exc}"]) from None
    if not isinstance(doc, dict) or not set(doc) <= {"products", "facings"}:
        raise CatalogueError(['the document must be an object with "products" and "facings"'])
    problems: list[str] = []
    cat = Catalogue()
    parsed: list[tuple[str, dict[str, Any]]] = []
    for key in ("products", "facings"):
        items = doc.get(key, [])
        if not isinstance(items, list) or len(items) > MAX_ROWS:
            problems.append(f"{key}: must be a list of at most {MAX_ROWS} objects")
            continue
        for i, item in enumerate(items):
            at = f"{key}[{i}]"
            if not isinstance(item, dict):
                problems.append(f"{at}: not an object")
                continue
            extra = set(item) - set(PRODUCT_COLUMNS if key == "products" else PLANOGRAM_COLUMNS)
            for name in sorted(extra):
                problems.append(f"{at}, field {name}: unknown")
            if key == "products":
                if (p := product_from(item, at, problems)) is not None:
                    cat.products.append(p)
            else:
                parsed.append((at, {}))
                if (f := facing_from(item, at, problems, parsed[-1][1])) is not None:
                    cat.facings.append(f)
    check(cat.products, parsed, known_skus, problems)
    if problems:
        raise CatalogueError([p.replace(", column ", ", field ") for p in problems])
    return cat


def to_json(cat: Catalogue) -> str:
    return json.dumps(
        {
            "products": [
                {"sku": p.sku, "name": p.name, "brand": p.brand, "authorised": p.authorised}
                for p in cat.products
            ],
            "facings": [f.as_dict() for f in cat.facings],
        },
        indent=1,
        ensure_ascii=False,
    )
