"""The stock service: analyses each stored fridge still of a camera with a planogram, keeps
the check and every facing's state, and raises the stock alerts through ``veilcam.alerts``.

It reads the stills from the store (already redacted: the raw frame never reaches it) in
the order they were taken, including those stored while it was not running, so a restart
loses no check. A camera's calibration (stocked picture, empty picture, planogram, product
pictures) is prepared once and again whenever any of it changes.
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from veilcam.alerts.episodes import Episode, Transition
from veilcam.alerts.recorder import Recorder
from veilcam.alerts.records import open_job
from veilcam.clock import sleep_or_wake
from veilcam.errors import MediaIntegrityError, StoreError
from veilcam.stock import queries
from veilcam.stock.analyse import Check, Reference, analyse, prepare
from veilcam.stock.catalogue import Facing, Product
from veilcam.stock.metrics import summarise
from veilcam.stock.rules import SOURCE, FridgeStock, Seen
from veilcam.store.references import empty_name

if TYPE_CHECKING:
    from veilcam.clock import Clock
    from veilcam.config import Config
    from veilcam.health import Health
    from veilcam.store import Store
    from veilcam.store.references import References

log = logging.getLogger(__name__)

POLL = 5.0  # seconds between looks for new stills (a capture wakes it sooner)
LOOK_BACK = 86400.0  # at start, stills of the last day not yet checked are checked
PENDING = 20  # stills taken at a time; a full batch means more are waiting


def _decode(jpeg: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(jpeg)) as img:
        return np.asarray(img.convert("RGB"))


def _analyse(
    jpeg: bytes, ref: Reference, painted: list[list[int]], blank_reason: str | None
) -> Check:
    """Decode and analyse one still: CPU work, run off the event loop."""
    return analyse(_decode(jpeg), ref, painted, blank_reason)


def _prepare(
    stocked: np.ndarray, empty: np.ndarray | None, facings: list[Facing], images: dict[str, bytes]
) -> Reference:
    pictures = {}
    for sku, blob in images.items():
        try:
            pictures[sku] = _decode(blob)
        except (OSError, ValueError) as exc:
            log.warning("product %s: its picture is unreadable (%s); left out", sku, exc)
    if empty is not None and empty.shape != stocked.shape:
        log.warning("empty reference of another size than the stocked one; left out")
        empty = None
    return prepare(stocked, facings, empty, pictures)


class StockService:
    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        health: Health,
        references: References,
        outbox_wake: asyncio.Event | None = None,
        notify: bool = False,
    ) -> None:
        self.cfg = config.stock
        self.fridges = [c.name for c in config.cameras if c.purpose == "fridge"]
        self.store, self.clock, self.health, self.references = store, clock, health, references
        self.recorder = Recorder(
            SOURCE,
            store,
            health,
            config.notify if notify else None,
            config.site,
            outbox_wake,
            retention="stock_records",
            health_key="stock_alarm_records",
        )
        self.wake = asyncio.Event()  # set by the pipeline when a still is stored
        self._prepared: dict[str, tuple[Any, Reference | None, list[Facing], str]] = {}
        self.state: dict[str, FridgeStock] = {}
        self.products: dict[str, Product] = {}

    # --- calibration ---------------------------------------------------------------------

    async def reference(self, camera: str) -> tuple[Reference | None, list[Facing], str]:
        """The camera's prepared calibration, or None and why not."""
        mark = (
            await self.store.db.read(queries.catalogue_mark_job, camera),
            self.references.stamp(camera),
            self.references.stamp(empty_name(camera)),
        )
        cached = self._prepared.get(camera)
        if cached is not None and cached[0] == mark:
            return cached[1], cached[2], cached[3]
        facings = await self.store.db.read(queries.facings_job, camera)
        self.products = await self.store.db.read(queries.products_job)
        ref, why = None, ""
        stocked = await asyncio.to_thread(self.references.load, camera)
        if not facings:
            why = "no planogram"
        elif stocked is None:
            why = f"not calibrated: take the stocked picture (veilcam calibrate {camera})"
        else:
            empty = await asyncio.to_thread(
                functools.partial(self.references.load, empty_name(camera), keep=False)
            )
            images = await self.store.db.read(
                queries.product_images_job, {f.sku for f in facings} | set(self.products)
            )
            ref = await asyncio.to_thread(_prepare, stocked, empty, facings, images)
        self._prepared[camera] = (mark, ref, facings, why)
        return ref, facings, why

    # --- checks --------------------------------------------------------------------------

    async def check(self, row: dict[str, Any]) -> Check | None:
        """Analyse one stored still and record what it says; None if the camera cannot be
        analysed yet (its reason is in the health record)."""
        camera = row["camera"]
        ref, facings, why = await self.reference(camera)
        if ref is None:
            self.health.set(f"stock:{camera}", "warning", why)
            return None
        redaction = json.loads(row["redaction"]) if row["redaction"] else {}
        try:
            jpeg = await self.store.read_picture(row["id"])
            check = await asyncio.to_thread(
                _analyse, jpeg, ref, redaction.get("boxes", []), row["blank_reason"]
            )
        except FileNotFoundError:
            check = Check("rejected", "the picture is gone (expired or erased)")
        except (MediaIntegrityError, OSError, ValueError) as exc:
            check = Check("rejected", f"the picture cannot be read: {exc}")
        summary = summarise(check.facings, facings, self.products) if check.status == "ok" else None
        at = float(row["created_at"])
        expires = self.store.expires("stock_records", at)
        await self.store.db.write(
            queries.record_check_job, row["id"], camera, at, check, facings, summary, expires
        )
        fridge = self.state.setdefault(camera, FridgeStock(camera, self.cfg))
        if check.status == "ok" and summary is not None:
            seen = [
                Seen(facings[s.facing].id or 0, self._label(facings[s.facing]), s.state)
                for s in check.facings
            ]
            out = fridge.accepted(at, seen, summary.compliance)
            c = summary.counts
            self.health.set(
                f"stock:{camera}",
                "ok",
                f"{c.get('empty', 0)} empty, {c.get('partial', 0)} partial, "
                f"{c.get('wrong_product', 0)} wrong product, {c.get('unknown', 0)} unseen; "
                f"compliance {summary.compliance:.0%}"
                if summary.compliance is not None
                else "no facing seen",
            )
        else:
            out = fridge.rejected_still(at, check.reason)
            log.info("still %s of %s rejected: %s", row["id"], camera, check.reason)
        await self.recorder.apply(out, lambda tr: fridge.began(tr.rule))
        return check

    def _label(self, f: Facing) -> str:
        p = self.products.get(f.sku)
        return f"{p.name if p else f.sku} (shelf {f.shelf}, position {f.position})"

    async def _restore(self) -> None:
        """Carry on with the alerts and empty facings a previous run left."""
        for row in await self.store.db.read(open_job, "stock"):
            fridge = self.state.setdefault(row["subject"], FridgeStock(row["subject"], self.cfg))
            fridge.episodes.open[row["rule"]] = Episode(row["level"], row["opened_at"], row["peak"])
        now = self.clock.now()
        for camera in self.fridges:
            fridge = self.state.setdefault(camera, FridgeStock(camera, self.cfg))
            rows = await self.store.db.read(queries.states_since_job, camera, now - 7 * 86400)
            for fid, at, state in rows:
                if state == "empty":
                    fridge.empty_since.setdefault(fid, at)
                elif state != "unknown":
                    fridge.empty_since.pop(fid, None)

    async def run(self) -> None:
        await self._restore()
        since = self.clock.now() - LOOK_BACK
        while True:
            self.wake.clear()
            rows: list[dict[str, Any]] = []
            try:
                ready = []
                for camera in await self.store.db.read(queries.cameras_with_facings_job):
                    if camera not in self.fridges:
                        continue
                    ref, _, why = await self.reference(camera)
                    if ref is None:  # not calibrated: its stills wait for the technician
                        self.health.set(f"stock:{camera}", "warning", why)
                    else:
                        ready.append(camera)
                rows = await self.store.db.read(queries.pending_job, ready, since, PENDING)
                for row in rows:
                    await self.check(row)
                if self.recorder.waiting:
                    await self.recorder.apply([], self._began)
            except StoreError as exc:
                log.error("stock checks not stored, trying again: %s", exc)
                self.health.set("stock", "error", f"checks not stored: {exc}")
                rows = []
            if len(rows) < PENDING:
                await sleep_or_wake(self.clock, POLL, self.wake)

    def _began(self, tr: Transition) -> float | None:
        fridge = self.state.get(tr.subject)
        return fridge.began(tr.rule) if fridge else None
