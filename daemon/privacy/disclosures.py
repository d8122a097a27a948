"""The disclosure register: nothing personal leaves the appliance without a record of the
date, recipient, legal basis, purpose, data items and the administrator who approved it.

An export names its record; ``authorise_job`` checks that the record exists, is still
valid, and covers every item the export holds, then notes each item as disclosed (so an
erasure can list whom to tell) and audits the export, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from veilcam.errors import PrivacyRefused
from veilcam.privacy.scope import Act, insert, required

# A picture, a request's pictures, or (standing) a camera's redacted stills as they are
# stored, for a recipient that gets them as they come (the chain's MQTT broker).
ITEM = re.compile(r"^(media:[0-9a-f]{32}|request:[0-9]{1,9}|camera:[a-z0-9][a-z0-9_-]{0,31})$")
MAX_ITEMS = 2000


def create_job(
    db: Database,
    act: Act,
    *,
    recipient: str,
    legal_basis: str,
    purpose: str,
    items: Sequence[str],
    request_id: int | None,
    valid_for: float,
) -> int:
    """Only an administrator records a disclosure; the caller checks the role."""
    items = sorted(set(items))
    if not items:
        raise PrivacyRefused("a disclosure names the data items it covers")
    if len(items) > MAX_ITEMS:
        raise PrivacyRefused(f"a disclosure covers at most {MAX_ITEMS} items")
    bad = [i for i in items if not ITEM.match(i)]
    if bad:
        raise PrivacyRefused(
            f"not a data item: {bad[0][:60]!r} (media:ID, request:N or camera:NAME)"
        )
    if request_id is not None:
        row = db.conn.execute(
            "SELECT kind, status FROM requests WHERE id = ?", (request_id,)
        ).fetchone()
        if row is None:
            raise PrivacyRefused(f"no request {request_id}")
    row = {
        "at": act.now,
        "recipient": required(recipient, "the recipient", 200),
        "legal_basis": required(legal_basis, "the legal basis", 300),
        "purpose": required(purpose, "the purpose", 500),
        "items": json.dumps(items),
        "request_id": request_id,
        "approved_by": act.actor,
        "valid_until": act.now + valid_for,
        "expires_at": act.keep_expires,
    }
    disclosure_id = insert(db, "disclosures", row)
    act.audit(
        db,
        "disclosure.create",
        f"disclosure:{disclosure_id}",
        f"to {row['recipient'][:80]}: {len(items)} items",
    )
    return disclosure_id


def get_job(db: Database, disclosure_id: int) -> dict[str, Any] | None:
    row = db.conn.execute("SELECT * FROM disclosures WHERE id = ?", (disclosure_id,)).fetchone()
    if row is None:
        return None
    out = dict(row)
    out["items"] = json.loads(out["items"])
    return out


def list_job(db: Database, limit: int = 200) -> list[dict[str, Any]]:
    out = []
    for r in db.conn.execute("SELECT * FROM disclosures ORDER BY at DESC LIMIT ?", (limit,)):
        d = dict(r)
        d["items"] = json.loads(d["items"])
        out.append(d)
    return out


def parse_id(value: str | None) -> int:
    """The record id an export names (``?disclosure=N``, ``--disclosure N``)."""
    if not value:
        raise PrivacyRefused(
            "nothing personal leaves the appliance without a disclosure record: an "
            "administrator records one (recipient, legal basis, purpose, items) under "
            "Privacy → Disclosures, and the export names it"
        )
    if not value.isdigit() or len(value) > 9:
        raise PrivacyRefused(f"not a disclosure record number: {value[:20]!r}")
    return int(value)


def authorise_job(
    db: Database,
    act: Act,
    disclosure_id: int,
    items: Sequence[str],
    what: str,
    within: Sequence[str] = (),
) -> dict[str, Any]:
    """Check the record covers ``items`` and note the export; return the record.
    ``within`` are items the export holds because they belong to an item the record names
    (a request's pictures): each is noted as disclosed too, so an erasure names the
    recipient."""
    rec = get_job(db, disclosure_id)
    if rec is None:
        raise PrivacyRefused(f"no disclosure record {disclosure_id}")
    if act.now > rec["valid_until"]:
        raise PrivacyRefused(
            f"disclosure record {disclosure_id} was valid until its time ran out; record a new one"
        )
    covered = set(rec["items"])
    outside = [i for i in items if i not in covered]
    if outside:
        raise PrivacyRefused(f"disclosure record {disclosure_id} does not cover {outside[0]}")
    db.conn.executemany(
        "INSERT OR IGNORE INTO disclosed (disclosure_id, item, at) VALUES (?, ?, ?)",
        [(disclosure_id, i, act.now) for i in [*items, *within]],
    )
    db.conn.execute("UPDATE disclosures SET exports = exports + 1 WHERE id = ?", (disclosure_id,))
    act.audit(
        db,
        "disclosure.export",
        f"disclosure:{disclosure_id}",
        f"{what}: {len(items) + len(within)} items to {rec['recipient'][:80]}",
    )
    return rec


def mark(rec: dict[str, Any]) -> str:
    """The visible line every export carries."""
    when = _day(rec["at"])
    return f"Disclosed to {rec['recipient'][:60]} on {when} under record #{rec['id']}"


def _day(t: float) -> str:
    return dt.datetime.fromtimestamp(t).astimezone().strftime("%Y-%m-%d %H:%M %Z")
