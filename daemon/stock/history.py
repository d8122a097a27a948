"""What the checks add up to over time: the restock list of a fridge (from its latest
accepted still, if that is recent enough), each product's out-of-stock hours per day, and
the fill and compliance series for the charts. Pure functions of rows read by ``queries``.

A product is out of stock while every facing it has on the planogram was last seen empty;
the time from one accepted check to the next counts by what the first showed, and never
more than ``stale_after`` past a check (a closed shop's night is not counted as seen).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from veilcam.stock.catalogue import Facing, Product

ACTIONS = {
    "empty": "fill",
    "partial": "top up",
    "wrong_product": "take out the wrong product, fill",
}


@dataclass(frozen=True, slots=True)
class Restock:
    shelf: int
    position: int
    sku: str
    name: str
    state: str
    units: int  # to put in, at the front
    action: str
    seen_sku: str | None = None
    seen_name: str | None = None  # the wrong product's name, as shelf staff know it


def restock_list(
    latest: dict[str, Any] | None,
    facings: Sequence[Facing],
    products: dict[str, Product],
    restock_below: float,
    stale_after: float,
    now: float,
) -> tuple[list[Restock], str | None]:
    """The facings to restock, shelf by shelf, and why there is no list if there is none."""
    if latest is None:
        return [], "no accepted picture of this fridge yet"
    age = now - float(latest["at"])
    if age > stale_after:
        hours = age / 3600
        return [], f"the last accepted picture is {hours:.1f} h old: too old to restock from"
    out = []
    for f in facings:
        st = latest["states"].get(f.id)
        if st is None:
            continue
        fill = st["fill"]
        need = st["state"] in ("empty", "wrong_product") or (
            st["state"] == "partial" and fill is not None and fill < restock_below
        )
        if not need:
            continue
        present = 0 if st["state"] != "partial" else round((fill or 0) * f.capacity)
        p = products.get(f.sku)
        out.append(
            Restock(
                f.shelf,
                f.position,
                f.sku,
                p.name if p else f.sku,
                st["state"],
                f.capacity - present,
                ACTIONS[st["state"]],
                st["seen_sku"] if st["state"] == "wrong_product" else None,
                _name(products, st["seen_sku"]) if st["state"] == "wrong_product" else None,
            )
        )
    return sorted(out, key=lambda r: (r.shelf, r.position)), None


def _name(products: dict[str, Product], sku: str | None) -> str | None:
    return None if sku is None else (products[sku].name if sku in products else sku)


def out_of_stock_hours(
    checks: Sequence[tuple[float, dict[int, str]]],
    facings: Sequence[Facing],
    stale_after: float,
    until: float,
) -> dict[str, dict[str, float]]:
    """Per product and local day (YYYY-MM-DD), hours out of stock; ``checks`` are the
    accepted checks, oldest first: (time, {facing id: state})."""
    by_sku: dict[str, list[int]] = {}
    for f in facings:
        if f.id is not None:
            by_sku.setdefault(f.sku, []).append(f.id)
    last: dict[int, str] = {}
    out: dict[str, dict[str, float]] = {}
    for n, (t, states) in enumerate(checks):
        for fid, state in states.items():
            if state != "unknown":
                last[fid] = state
        end = min(checks[n + 1][0] if n + 1 < len(checks) else until, t + stale_after)
        if end <= t:
            continue
        for sku, ids in by_sku.items():
            if ids and all(last.get(i) == "empty" for i in ids):
                _add(out.setdefault(sku, {}), t, end)
    return out


def _add(days: dict[str, float], start: float, end: float) -> None:
    """Spread [start, end) over local days, in hours."""
    while start < end:
        day = dt.datetime.fromtimestamp(start).date()
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).timestamp()
        stop = min(end, midnight)
        key = day.isoformat()
        days[key] = round(days.get(key, 0.0) + (stop - start) / 3600, 3)
        start = stop
