import sqlite3

import pytest
from sqlite_utils import Database

from veilcam.store import audit
from veilcam.store.schema import migrate


@pytest.fixture
def db() -> Database:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn)
    d = Database(conn)
    for i in range(5):
        audit.append(
            d,
            audit.Entry(f"user{i}", "picture.view", f"media-{i}", ip="10.0.0.5", agent="test"),
            1000.0 + i,
            2000.0 + i,
        )
    return d


def test_intact_chain_verifies(db: Database) -> None:
    assert audit.verify(db) == (True, "5 entries, chain intact")


def test_edited_entry_is_detected(db: Database) -> None:
    db.conn.execute("UPDATE audit_log SET actor = 'nobody' WHERE id = 3")
    ok, why = audit.verify(db)
    assert not ok and "entry 3" in why and "edited" in why


def test_removed_middle_entry_is_detected(db: Database) -> None:
    db.conn.execute("DELETE FROM audit_log WHERE id = 3")
    ok, why = audit.verify(db)
    assert not ok and "entry 4" in why and "removed" in why


def test_expiry_from_the_old_end_keeps_the_chain_valid(db: Database) -> None:
    db.conn.execute("DELETE FROM audit_log WHERE expires_at <= 2001")
    assert audit.verify(db) == (True, "3 entries, chain intact")
    audit.append(db, audit.Entry("system", "daemon.start"), 1010.0, 2010.0)
    assert audit.verify(db)[0]


def test_rehashing_an_edit_still_breaks_the_next_link(db: Database) -> None:
    cur = db.conn.execute("SELECT * FROM audit_log WHERE id = 2")
    row = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    row["action"] = "picture.delete"
    forged = audit._digest(row["prev_hash"], row)
    db.conn.execute(
        "UPDATE audit_log SET action = ?, hash = ? WHERE id = 2", (row["action"], forged)
    )
    ok, why = audit.verify(db)
    assert not ok and "entry 3" in why
