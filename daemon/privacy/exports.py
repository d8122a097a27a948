"""What leaves the appliance, marked: a caption band on each picture and a manifest in
each zip, both naming the disclosure record it left under."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlite_utils import Database

from veilcam.errors import PrivacyRefused
from veilcam.privacy import requests
from veilcam.privacy.disclosures import authorise_job, mark
from veilcam.privacy.scope import Act, Scope, media_job
from veilcam.retention import CLASSES, MEDIA_CLASS

# Why each kind of picture is held, as a manifest says it to a shopper.
WHY = {
    "fridge": "fridge stock and cold-chain checks; people are redacted before storing",
    "floor": "shop-floor monitoring; people are redacted before storing",
    "evidence": "loss-prevention evidence of a watchlist match",
    "clip": "a research study's video; faces and heads are blurred before storing",
}


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


def picture_job(db: Database, act: Act, media_id: str, disclosure_id: int) -> dict[str, Any]:
    """Authorise one picture's export; the disclosure record it leaves under."""
    row = db.conn.execute(
        "SELECT restricted_by, kind FROM media WHERE id = ?", (media_id,)
    ).fetchone()
    if row is None:
        raise PrivacyRefused(f"no picture {media_id[:32]} (it may have expired or been erased)")
    if row[1] == "clip":
        raise PrivacyRefused(
            "a research clip leaves only in an access request's zip or the study's upload"
        )
    if row[0] is not None:
        raise PrivacyRefused(f"picture {media_id} is restricted by request {row[0]}")
    return authorise_job(db, act, disclosure_id, [f"media:{media_id}"], "picture")


def access_job(
    db: Database, act: Act, request_id: int, disclosure_id: int
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """Authorise an access request's export: (request, record, the pictures to include).
    Restricted pictures are left out, and counted in the manifest."""
    req = requests.get_job(db, request_id)
    if req is None:
        raise PrivacyRefused(f"no request {request_id}")
    if req["kind"] != "access":
        raise PrivacyRefused(f"request {request_id} is an {req['kind']} request, not access")
    scope = Scope.of(req)
    rows = media_job(db, scope) if scope is not None else []
    kept = [r for r in rows if r["restricted_by"] is None]
    req["restricted"] = len(rows) - len(kept)
    rec = authorise_job(
        db,
        act,
        disclosure_id,
        [f"request:{request_id}"],
        "access export",
        [f"media:{r['id']}" for r in kept],
    )
    return req, rec, kept


def caption(jpeg: bytes, text: str) -> bytes:
    """The picture with a band under it carrying ``text``; re-encoded, no metadata kept."""
    with Image.open(io.BytesIO(jpeg)) as im:
        pic = im.convert("RGB")
    size = max(12, pic.width // 60)
    font = ImageFont.load_default(size=size)
    band = size * 2
    out = Image.new("RGB", (pic.width, pic.height + band), (0, 0, 0))
    out.paste(pic, (0, 0))
    draw = ImageDraw.Draw(out)
    draw.text((size // 2, pic.height + size // 2), text, fill=(255, 255, 0), font=font)
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def access_zip(
    request: dict[str, Any], record: dict[str, Any], pictures: list[tuple[dict[str, Any], bytes]]
) -> bytes:
    """The answer to an access request: each redacted picture (captioned), the records held
    about it, and a manifest saying what, when, why held and until when."""
    line = mark(record)
    items = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for row, data in pictures:
            stem = f"{_iso(row['created_at'])[:19].replace(':', '')}-{row['id'][:8]}"
            if row["kind"] == "clip":  # a video is not captioned: the manifest names its record
                name = f"clips/{stem}.mp4"
                z.writestr(name, data)
            else:
                name = f"pictures/{stem}.jpg"
                z.writestr(
                    name, caption(data, f"{line} · {row['camera']} {_iso(row['created_at'])}")
                )
            items.append(
                {
                    "file": name,
                    "what": f"redacted {row['kind']} "
                    + ("clip" if row["kind"] == "clip" else "picture"),
                    "camera": row["camera"],
                    "taken": _iso(row["created_at"]),
                    "why_held": WHY.get(row["kind"], row["kind"]),
                    "retention_class": MEDIA_CLASS.get(row["kind"]),
                    "until": _iso(row["expires_at"]),
                    "redaction": json.loads(row["redaction"]).get("status"),
                    "note": row["note"],
                }
            )
        manifest = {
            "disclosure": line,
            "disclosure_record": record["id"],
            "request": request["id"],
            "received": _iso(request["received_at"]),
            "window": [_iso(request["window_from"]), _iso(request["window_to"])],
            "cameras": request["cameras"] or "all",
            "items": items,
            "restricted_items_not_included": request.get("restricted", 0),
        }
        z.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        lines = [
            line,
            f"Access request {request['id']}, received {_iso(request['received_at'])}",
            f"Window: {manifest['window'][0]} to {manifest['window'][1]}",
            "",
        ]
        for i in items:
            rc = CLASSES.get(i["retention_class"] or "")
            lines.append(
                f"{i['file']}: {i['what']} from {i['camera']} at {i['taken']}; held for "
                f"{i['why_held']}; kept until {i['until']}" + (f" ({rc.what})" if rc else "")
            )
        if not items:
            lines.append("No pictures of this window and these cameras are held.")
        z.writestr("manifest.txt", "\n".join(lines) + "\n")
    return buf.getvalue()
