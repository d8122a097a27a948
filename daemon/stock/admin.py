"""Changes to the catalogue, each audited: products and planograms imported (CSV or JSON) or
edited in the web UI, product pictures set. A planogram replaces the named cameras' facings
as a whole, in one transaction with its products."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from veilcam.errors import AccountError
from veilcam.stock import queries
from veilcam.stock.catalogue import Catalogue, CatalogueError, Facing, Product
from veilcam.store import audit

if TYPE_CHECKING:
    from sqlite_utils import Database

    from veilcam.store import Store

MAX_IMAGE_BYTES = 2 * 2**20
IMAGE_SIDE = 320  # product pictures are kept this size at most


def _write(
    db: Database, products: Sequence[Product], facings: Sequence[Facing], by: str, now: float
) -> None:
    queries.put_products_job(db, products, by, now)
    for camera in sorted({f.camera for f in facings}):
        queries.set_planogram_job(db, camera, [f for f in facings if f.camera == camera])


async def import_catalogue(
    store: Store, cat: Catalogue, actor: str, ip: str | None = None, fridges: Sequence[str] = ()
) -> str:
    """Write products and facings (the cameras named in it get exactly these facings)."""
    unknown = sorted({f.camera for f in cat.facings} - set(fridges))
    if fridges and unknown:
        raise CatalogueError(
            [f"camera {c!r} is not a fridge camera here ({', '.join(fridges)})" for c in unknown]
        )
    await store.db.write(_write, cat.products, cat.facings, actor, store.clock.now())
    cameras = sorted({f.camera for f in cat.facings})
    what = f"{len(cat.products)} product(s), {len(cat.facings)} facing(s)"
    if cameras:
        what += f" on {', '.join(cameras)}"
    await store.audit(audit.Entry(actor, "stock.catalogue", None, what, ip=ip))
    return what


async def set_planogram(
    store: Store, camera: str, facings: Sequence[Facing], actor: str, ip: str | None = None
) -> None:
    known = set(await store.db.read(queries.products_job))
    bad = sorted({f.sku for f in facings} - known)
    if bad:
        raise CatalogueError([f"no product {s!r} in the catalogue" for s in bad])
    places = [(f.shelf, f.position) for f in facings]
    if len(set(places)) != len(places):
        raise CatalogueError(["two facings at the same shelf and position"])
    await store.db.write(queries.set_planogram_job, camera, facings)
    detail = f"{len(facings)} facing(s)"
    await store.audit(audit.Entry(actor, "stock.planogram", camera, detail, ip=ip))


def _shrink(data: bytes) -> bytes:
    if len(data) > MAX_IMAGE_BYTES:
        raise AccountError(f"a product picture may be at most {MAX_IMAGE_BYTES // 2**20} MiB")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.thumbnail((IMAGE_SIDE, IMAGE_SIDE))
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=88)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise AccountError(f"not a picture: {exc}") from None
    return out.getvalue()


async def set_image(store: Store, sku: str, data: bytes, actor: str, ip: str | None = None) -> None:
    """A product's catalogue picture: its look on a light background (a packshot)."""
    jpeg = _shrink(data)
    await store.db.write(queries.put_image_job, sku, jpeg, actor, store.clock.now())
    await store.audit(audit.Entry(actor, "stock.product_image", sku, f"{len(jpeg)} bytes", ip=ip))
