"""Feature gates: anything that processes people beyond redaction stays off until one
administrator proposes it with its legal basis, purpose, impact-assessment reference and
where the notice telling shoppers is posted, and the other administrator approves it. A
proposer can never approve their own proposal (the database refuses it too), so a site with
one administrator cannot open a gate at all.

Features ask ``check(open_gates, feature)`` before they start and refuse with the missing
decision named; the signage page lists every open gate with who proposed and approved it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from veilcam.errors import FeatureClosed, PrivacyRefused
from veilcam.privacy.scope import Act, insert, required

# What each feature does to people, as the notice and the gate page say it.
FEATURES: dict[str, str] = {
    "research": "a shop-floor research study: video clips with faces and heads blurred and "
    "bodies kept, movement and reach events without identity, deleted after 30 days",
    "uploads": "uploading research clips and their events, encrypted, to the chain's object "
    "storage",
    "watchlist": "a loss-prevention watchlist: faces at the entrance compared with face "
    "templates of registered people; a match is shown to staff for review",
    "counting_dedup": "visitor counting that recognises repeat visits within one day from "
    "face templates held in memory only, destroyed at the end of the day",
}
NOT_OPEN = "no approved decision (an administrator proposes it under Privacy > Feature gates with its legal basis, purpose, impact assessment and signage; the other administrator approves)"  # noqa: E501


def _feature(feature: str) -> str:
    if feature not in FEATURES:
        raise PrivacyRefused(f"no feature named {feature[:40]!r}; one of {', '.join(FEATURES)}")
    return feature


def propose_job(
    db: Database,
    act: Act,
    *,
    feature: str,
    legal_basis: str,
    purpose: str,
    dpia_ref: str,
    signage: str,
) -> int:
    """A proposal: waits for the other administrator. One live decision per feature."""
    fields = {
        "feature": _feature(feature),
        "legal_basis": required(legal_basis, "the legal basis", 300),
        "purpose": required(purpose, "the purpose", 500),
        "dpia_ref": required(dpia_ref, "the impact assessment's reference", 100),
        "signage": required(signage, "where the notice telling shoppers is posted", 300),
        "proposed_by": act.actor,
        "proposed_at": act.now,
    }
    try:
        gate_id = insert(db, "gates", fields)
    except sqlite3.IntegrityError:
        raise PrivacyRefused(
            f"{feature} already has a proposal or is open: decide or close that one first"
        ) from None
    act.audit(db, "gate.propose", f"gate:{gate_id}", feature)
    return gate_id


def _get(db: Database, gate_id: int) -> dict[str, Any]:
    row = db.conn.execute("SELECT * FROM gates WHERE id = ?", (gate_id,)).fetchone()
    if row is None:
        raise PrivacyRefused(f"no feature gate {gate_id}")
    return dict(row)


def decide_job(db: Database, act: Act, gate_id: int, approve: bool, reason: str = "") -> str:
    """The second administrator's decision on a proposal: approved opens the feature."""
    gate = _get(db, gate_id)
    if gate["state"] != "proposed":
        raise PrivacyRefused(f"gate {gate_id} is {gate['state']}, not waiting for a decision")
    if gate["proposed_by"] == act.actor:
        raise PrivacyRefused(
            "the administrator who proposed a feature cannot approve it: the other "
            "administrator decides"
        )
    state = "open" if approve else "refused"
    why = None if approve else required(reason, "the reason for refusing", 500)
    db.conn.execute(
        "UPDATE gates SET state = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ?",
        (state, act.actor, act.now, why, gate_id),
    )
    act.audit(db, "gate.approve" if approve else "gate.refuse", f"gate:{gate_id}", gate["feature"])
    return str(gate["feature"])


def close_job(db: Database, act: Act, gate_id: int, reason: str) -> str:
    """Either administrator closes an open gate (or withdraws a proposal): the feature stops."""
    gate = _get(db, gate_id)
    if gate["state"] not in ("proposed", "open"):
        raise PrivacyRefused(f"gate {gate_id} is already {gate['state']}")
    db.conn.execute(
        "UPDATE gates SET state = 'closed', closed_by = ?, closed_at = ?,"
        " reason = coalesce(reason, ?) WHERE id = ?",
        (act.actor, act.now, required(reason, "the reason for closing", 500), gate_id),
    )
    act.audit(db, "gate.close", f"gate:{gate_id}", gate["feature"])
    return str(gate["feature"])


def list_job(db: Database, limit: int = 200) -> list[dict[str, Any]]:
    rows = db.conn.execute(
        "SELECT * FROM gates ORDER BY state IN ('proposed', 'open') DESC, id DESC LIMIT ?",
        (limit,),
    )
    return [dict(r, what=FEATURES[r["feature"]]) for r in rows]


def open_job(db: Database) -> dict[str, dict[str, Any]]:
    """The open gates by feature."""
    rows = db.conn.execute("SELECT * FROM gates WHERE state = 'open'")
    return {r["feature"]: dict(r, what=FEATURES[r["feature"]]) for r in rows}


def check(open_gates: Mapping[str, Any], feature: str) -> None:
    """Raise FeatureClosed naming the missing decision unless ``feature``'s gate is open."""
    if _feature(feature) not in open_gates:
        raise FeatureClosed(feature, NOT_OPEN)
