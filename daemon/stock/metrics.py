"""What one accepted check says about the fridge, from its facings' states: fill of the
fridge and of each shelf, planogram compliance, share of shelf by brand and purity.

- fill: units seen at the front over the units the seen facings hold, by capacity;
- compliance: facings holding their own product (full or partial) over facings seen (an
  empty facing does not hold its product; an ``unknown`` one is not seen);
- share of shelf: the units seen of each brand over all units seen;
- purity: units of authorised products over all units seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from veilcam.stock.analyse import FacingState
from veilcam.stock.catalogue import Facing, Product

RIGHT = ("full", "partial")


@dataclass(slots=True)
class Summary:
    fill: float | None
    compliance: float | None
    purity: float | None
    seen: int
    shelves: dict[int, float | None] = field(default_factory=dict)
    brands: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "shelves": {str(k): v for k, v in self.shelves.items()},
            "brands": self.brands,
            "counts": self.counts,
        }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def summarise(
    states: Sequence[FacingState], facings: Sequence[Facing], products: dict[str, Product]
) -> Summary:
    units = capacity = right = seen = authorised = 0.0
    shelf_units: dict[int, list[float]] = {}
    brands: dict[str, float] = {}
    counts: dict[str, int] = {}
    for st in states:
        f = facings[st.facing]
        counts[st.state] = counts.get(st.state, 0) + 1
        shelf = shelf_units.setdefault(f.shelf, [0.0, 0.0])
        if st.state == "unknown" or st.fill is None:
            continue
        seen += 1
        right += st.state in RIGHT
        n = st.fill * f.capacity
        units += n
        capacity += f.capacity
        shelf[0] += n
        shelf[1] += f.capacity
        if n:
            sku = st.seen_sku or f.sku
            p = products.get(sku)
            brand = (p.brand if p else "") or "(no brand)"
            brands[brand] = brands.get(brand, 0.0) + n
            authorised += n if p is not None and p.authorised else 0.0
    return Summary(
        fill=_ratio(units, capacity),
        compliance=_ratio(right, seen),
        purity=_ratio(authorised, units),
        seen=int(seen),
        shelves={k: _ratio(v[0], v[1]) for k, v in sorted(shelf_units.items())},
        brands={k: round(v / units, 4) for k, v in sorted(brands.items())} if units else {},
        counts=counts,
    )
