"""The breach register: an incident from its discovery, what it affected, the decisions
taken, and the 72-hour deadline for telling the supervisory authority, which shows on every
page until the notification is recorded (or recorded as not required, with the reason)."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from veilcam.durations import HOUR
from veilcam.errors import PrivacyRefused
from veilcam.privacy.scope import Act, insert, required

NOTIFY_WITHIN = 72 * HOUR


def record_job(db: Database, act: Act, *, discovered_at: float, summary: str, affected: str) -> int:
    if discovered_at > act.now + 300:
        raise PrivacyRefused("a breach cannot be discovered in the future")
    breach_id = insert(
        db,
        "breaches",
        {
            "discovered_at": discovered_at,
            "recorded_at": act.now,
            "recorded_by": act.actor,
            "summary": required(summary, "a summary", 500),
            "affected": required(affected, "what was affected", 2000),
            "expires_at": act.keep_expires,
        },
    )
    act.audit(db, "breach.record", f"breach:{breach_id}", "discovered and recorded")
    return breach_id


def _get(db: Database, breach_id: int) -> dict[str, Any]:
    row = db.conn.execute("SELECT * FROM breaches WHERE id = ?", (breach_id,)).fetchone()
    if row is None:
        raise PrivacyRefused(f"no breach {breach_id}")
    return _shape(dict(row))


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    row["decisions"] = json.loads(row["decisions"])
    row["deadline"] = row["discovered_at"] + NOTIFY_WITHIN
    row["settled"] = row["notified_at"] is not None or row["not_required"] is not None
    return row


def decide_job(db: Database, act: Act, breach_id: int, decision: str) -> None:
    row = _get(db, breach_id)
    decisions = [
        *row["decisions"],
        {"at": act.now, "by": act.actor, "what": required(decision, "the decision", 1000)},
    ]
    db.conn.execute(
        "UPDATE breaches SET decisions = ? WHERE id = ?", (json.dumps(decisions), breach_id)
    )
    act.audit(db, "breach.decide", f"breach:{breach_id}", None)


def settle_job(
    db: Database,
    act: Act,
    breach_id: int,
    *,
    notified_at: float | None = None,
    reference: str = "",
    not_required: str = "",
) -> None:
    """Record the authority notified (when, their reference) or why it is not required."""
    row = _get(db, breach_id)
    if row["settled"]:
        raise PrivacyRefused(f"breach {breach_id} is already settled")
    if notified_at is not None:
        if notified_at > act.now + 300:
            raise PrivacyRefused("the notification cannot be in the future")
        db.conn.execute(
            "UPDATE breaches SET notified_at = ?, notified_ref = ?, decided_by = ? WHERE id = ?",
            (
                notified_at,
                required(reference, "the authority's reference", 200),
                act.actor,
                breach_id,
            ),
        )
        act.audit(db, "breach.notified", f"breach:{breach_id}", None)
    else:
        reason = required(not_required, "the reason no notification is required", 1000)
        db.conn.execute(
            "UPDATE breaches SET not_required = ?, decided_by = ? WHERE id = ?",
            (reason, act.actor, breach_id),
        )
        act.audit(db, "breach.not_required", f"breach:{breach_id}", None)


def list_job(db: Database, limit: int = 200) -> list[dict[str, Any]]:
    return [
        _shape(dict(r))
        for r in db.conn.execute(
            "SELECT * FROM breaches ORDER BY discovered_at DESC LIMIT ?", (limit,)
        )
    ]


def unsettled_job(db: Database) -> list[dict[str, Any]]:
    """Breaches whose notification is not yet recorded: shown on every page."""
    return [
        _shape(dict(r))
        for r in db.conn.execute(
            "SELECT * FROM breaches WHERE notified_at IS NULL AND not_required IS NULL"
            " ORDER BY discovered_at"
        )
    ]
