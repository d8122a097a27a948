"""The watchlist's rows (the store's threads): registration by one of the two administrators
who opened the watchlist gate, approval by the other, refusal, removal, expiry, and the
active templates for matching.

Who may operate it is decided here, not by the caller: an account that is an active
administrator *and* proposed or approved the open watchlist gate. A manager, a technician,
an auditor, or an administrator who joined after the decision (a third, once one of the two
left) is refused with the reason, and the refusal audited by the caller.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlite_utils import Database

from veilcam.durations import DAY
from veilcam.errors import FeatureClosed, PrivacyRefused
from veilcam.faces.keys import SiteKey
from veilcam.privacy import gates
from veilcam.privacy.scope import Act, required

CATEGORIES = ("theft", "violence", "fraud", "other")
DEFAULT_DAYS = 365
MAX_DAYS = 3 * 365


def _gate(db: Database) -> dict[str, Any]:
    row = db.conn.execute(
        "SELECT * FROM gates WHERE feature = 'watchlist' AND state = 'open'"
    ).fetchone()
    if row is None:
        raise FeatureClosed("watchlist", gates.NOT_OPEN)
    return dict(row)


def operators(db: Database) -> tuple[int, set[str]]:
    """The open watchlist gate's id, and the administrators who may operate the list: those
    who proposed and approved it, while they are active administrators."""
    gate = _gate(db)
    named = {gate["proposed_by"], gate["decided_by"]}
    admins = {
        r[0]
        for r in db.conn.execute("SELECT username FROM users WHERE role = 'admin' AND disabled = 0")
    }
    return int(gate["id"]), named & admins


def check_operator(db: Database, act: Act) -> int:
    gate_id, ok = operators(db)
    if act.actor not in ok:
        raise PrivacyRefused(
            f"{act.actor} may not operate the watchlist: only the two administrators who opened"
            f" its gate ({', '.join(sorted(ok)) or 'none active now'}) register and approve"
        )
    return gate_id


def register_job(
    db: Database,
    act: Act,
    *,
    template: np.ndarray,
    model_id: str,
    key: SiteKey,
    photos: int,
    reference: str,
    category: str,
    days: int = DEFAULT_DAYS,
    kept: list[bytes] | None = None,
) -> int:
    """A proposed entry (not matched until the other administrator approves it); ``kept``:
    the registration photos, when the administrator chose to keep them for review."""
    gate_id = check_operator(db, act)
    if category not in CATEGORIES:
        raise PrivacyRefused(f"category must be one of {', '.join(CATEGORIES)}, not {category!r}")
    if not 1 <= days <= MAX_DAYS:
        raise PrivacyRefused(f"an entry expires after 1 to {MAX_DAYS} days, not {days}")
    row = db.conn.execute(
        "INSERT INTO watchlist (reference, category, gate_id, model_id, key_id, template,"
        " photos, proposed_by, proposed_at, expires_at) VALUES (?, ?, ?, ?, ?, x'', ?, ?, ?, ?)"
        " RETURNING id",
        (
            required(reference, "the incident reference", 100),
            category,
            gate_id,
            model_id,
            key.key_id,
            photos,
            act.actor,
            act.now,
            act.now + days * DAY,
        ),
    ).fetchone()
    entry_id = int(row[0])
    sealed = key.seal(entry_id, key.transform(template))
    db.conn.execute("UPDATE watchlist SET template = ? WHERE id = ?", (sealed, entry_id))
    for n, photo in enumerate(kept or [], 1):
        db.conn.execute(
            "INSERT INTO watchlist_photos (entry_id, n, sealed) VALUES (?, ?, ?)",
            (entry_id, n, key.seal_bytes(photo_aad(entry_id, n), photo)),
        )
    kept_note = f"; {len(kept)} photo(s) kept" if kept else ""
    act.audit(
        db, "watchlist.register", f"watchlist:{entry_id}", f"{category}; {reference}{kept_note}"
    )
    return entry_id


def photo_aad(entry_id: int, n: int) -> str:
    return f"watchlist-photo:{entry_id}:{n}"


def photo_job(db: Database, act: Act, key: SiteKey, entry_id: int, n: int) -> bytes | None:
    """A kept registration photo for an operator; every look audited."""
    check_operator(db, act)
    row = db.conn.execute(
        "SELECT sealed FROM watchlist_photos WHERE entry_id = ? AND n = ?", (entry_id, n)
    ).fetchone()
    if row is None:
        return None
    act.audit(db, "watchlist.photo.view", f"watchlist:{entry_id}", f"photo {n}")
    return key.unseal_bytes(photo_aad(entry_id, n), bytes(row[0]))


def _entry(db: Database, entry_id: int) -> dict[str, Any]:
    row = db.conn.execute("SELECT * FROM watchlist WHERE id = ?", (entry_id,)).fetchone()
    if row is None or row["state"] == "removed":
        raise PrivacyRefused(f"no watchlist entry {entry_id}")
    return dict(row)


def decide_job(db: Database, act: Act, entry_id: int, approve: bool, reason: str = "") -> None:
    """The other administrator approves (the entry becomes active) or refuses it."""
    check_operator(db, act)
    entry = _entry(db, entry_id)
    if entry["state"] != "proposed":
        raise PrivacyRefused(f"watchlist entry {entry_id} is {entry['state']}, not waiting")
    if entry["proposed_by"] == act.actor:
        raise PrivacyRefused(
            "the administrator who registered an entry cannot approve it: the other decides"
        )
    if approve:
        db.conn.execute(
            "UPDATE watchlist SET state = 'active', approved_by = ?, approved_at = ? WHERE id = ?",
            (act.actor, act.now, entry_id),
        )
    else:
        why = required(reason, "the reason for refusing", 500)
        db.conn.execute(
            "UPDATE watchlist SET state = 'refused', reason = ?, template = x'' WHERE id = ?",
            (why, entry_id),
        )
    act.audit(db, f"watchlist.{'approve' if approve else 'refuse'}", f"watchlist:{entry_id}", None)


def remove_job(db: Database, act: Act, entry_id: int, reason: str) -> None:
    """Either operator removes an entry: its template is deleted at once."""
    check_operator(db, act)
    _entry(db, entry_id)
    why = required(reason, "the reason for removing", 500)
    db.conn.execute(
        "UPDATE watchlist SET state = 'removed', reason = ?, template = x'' WHERE id = ?",
        (why, entry_id),
    )
    act.audit(db, "watchlist.remove", f"watchlist:{entry_id}", why)


def expire_job(db: Database, now: float) -> list[int]:
    """Entries past their expiry lose their template and leave the list."""
    ids = [
        r[0]
        for r in db.conn.execute(
            "SELECT id FROM watchlist WHERE state IN ('proposed', 'active') AND expires_at <= ?",
            (now,),
        )
    ]
    for i in ids:
        db.conn.execute(
            "UPDATE watchlist SET state = 'removed', reason = 'expired', template = x''"
            " WHERE id = ?",
            (i,),
        )
    return ids


def expiring_job(db: Database, now: float, within: float) -> list[tuple[int, float]]:
    """(id, expires_at) of the active entries that expire within ``within`` seconds."""
    return [
        (int(r[0]), float(r[1]))
        for r in db.conn.execute(
            "SELECT id, expires_at FROM watchlist WHERE state = 'active'"
            " AND expires_at > ? AND expires_at <= ? ORDER BY id",
            (now, now + within),
        )
    ]


def list_job(db: Database, act: Act) -> list[dict[str, Any]]:
    """The entries, without templates, for an operator; the look is audited."""
    check_operator(db, act)
    rows = [
        dict(r)
        for r in db.conn.execute(
            "SELECT id, reference, category, model_id, photos, proposed_by, proposed_at,"
            " approved_by, approved_at, state, reason, expires_at,"
            " (SELECT count(*) FROM watchlist_photos p WHERE p.entry_id = w.id) AS kept"
            " FROM watchlist w"
            " WHERE state != 'removed' ORDER BY id DESC"
        )
    ]
    act.audit(db, "watchlist.view", None, f"{len(rows)} entries")
    return rows


def active_job(db: Database, now: float) -> list[tuple[int, str, str, bytes]]:
    """(id, model id, key id, sealed template) of every active, unexpired entry."""
    return [
        (int(r[0]), str(r[1]), str(r[2]), bytes(r[3]))
        for r in db.conn.execute(
            "SELECT id, model_id, key_id, template FROM watchlist"
            " WHERE state = 'active' AND expires_at > ?",
            (now,),
        )
    ]


def rekey_job(db: Database, old: SiteKey, new: SiteKey) -> int:
    """Every kept template moved from the old key's transform to the new key's, sealed
    again, in one transaction."""
    rows = db.conn.execute(
        "SELECT id, template FROM watchlist WHERE state IN ('proposed', 'active')"
    ).fetchall()
    for r in rows:
        template = old.untransform(old.unseal(r[0], bytes(r[1])))
        db.conn.execute(
            "UPDATE watchlist SET template = ?, key_id = ? WHERE id = ?",
            (new.seal(r[0], new.transform(template)), new.key_id, r[0]),
        )
    for pid, entry_id, n, sealed in db.conn.execute(
        "SELECT id, entry_id, n, sealed FROM watchlist_photos"
    ).fetchall():
        photo = old.unseal_bytes(photo_aad(entry_id, n), bytes(sealed))
        db.conn.execute(
            "UPDATE watchlist_photos SET sealed = ? WHERE id = ?",
            (new.seal_bytes(photo_aad(entry_id, n), photo), pid),
        )
    return len(rows)
