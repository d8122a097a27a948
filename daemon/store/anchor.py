"""Anchoring the audit log outside the box: its head (the newest entry's id and hash) is sent
away (e-mailed daily to the store's contact; published on the fleet's broker), and the local
chain is later checked against every head that left.

The hash chain alone shows an entry edited or removed from the middle. It cannot show the
newest entries deleted, or the whole log rebuilt from a new genesis by someone with root on
the board: both leave a chain that verifies. A head kept elsewhere can: its entry must still
be there, with the same hash.

A published head is one JSON object per line: ``{"site", "id", "hash", "at"}``. A file of
them may hold anything else between (a saved e-mail, a broker's dump): lines that are not
such an object are passed over.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from veilcam.store import audit

HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Head:
    id: int
    hash: str
    at: float

    def line(self, site: str) -> str:
        return json.dumps({"site": site, "id": self.id, "hash": self.hash, "at": self.at})


def head_job(db: Database) -> Head | None:
    row = db.conn.execute("SELECT id, hash, at FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    return Head(int(row[0]), str(row[1]), float(row[2])) if row else None


def parse_heads(text: str) -> list[Head]:
    """Every published head in ``text``, oldest entry first."""
    out = []
    for line in text.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            obj: Any = json.loads(line[start:])
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        ident, digest, at = obj.get("id"), obj.get("hash"), obj.get("at", 0)
        if isinstance(ident, int) and isinstance(digest, str) and HASH.fullmatch(digest):
            out.append(Head(ident, digest, float(at) if isinstance(at, int | float) else 0.0))
    return sorted(out, key=lambda h: h.id)


def check_against(
    db: Database, heads: list[Head], now: float, keep: float
) -> tuple[list[str], list[str]]:
    """(problems, summary): the chain itself, then each published head against it. A head
    before the log's oldest entry is only excused once ``keep`` (the audit log's retention)
    has passed since it was published: the reaper takes from the old end, and nobody else."""
    problems: list[str] = []
    ok, chain = audit.verify(db)
    if not ok:
        problems.append(f"audit log: {chain}")
    first, last = db.conn.execute("SELECT min(id), max(id) FROM audit_log").fetchone()
    checked = aged = 0
    for h in heads:
        row = db.conn.execute("SELECT hash FROM audit_log WHERE id = ?", (h.id,)).fetchone()
        if row is None:
            if first is not None and h.id < first and h.at + keep <= now:
                aged += 1  # past its retention limit: the reaper took it, as it should
            elif first is not None and h.id < first:
                problems.append(
                    f"entry {h.id} (a published head) is missing from the log's old end"
                    " although still within its retention; older entries were deleted"
                )
            elif last is None or h.id > last:
                problems.append(
                    f"entry {h.id} (a published head) is missing: the log ends at entry"
                    f" {last or 0}; its newest entries were deleted"
                )
            else:
                problems.append(f"entry {h.id} (a published head) is missing from the log")
        elif row[0] != h.hash:
            problems.append(
                f"entry {h.id}: its hash is not the published one; the log was rewritten"
                f" (published {h.hash[:16]}..., here {row[0][:16]}...)"
            )
        else:
            checked += 1
    summary = [
        f"audit log: {chain}",
        f"published heads: {len(heads)}; {checked} match, {aged} older than the log keeps",
    ]
    return problems, summary
