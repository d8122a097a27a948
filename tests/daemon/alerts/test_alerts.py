"""The alerts every source shares: episodes open once, rise once and close once; an old
database's cold-chain alarms carry over into the shared table; notices name the source's
subject and rules."""

from __future__ import annotations

import sqlite3

from veilcam.alerts.episodes import Episodes, Source
from veilcam.alerts.outbox import notices_for
from veilcam.config import EmailConfig, NotifyConfig
from veilcam.store.schema import MIGRATIONS, migrate


def test_an_episode_opens_rises_and_closes_once() -> None:
    eps = Episodes("stock", "fridge-1")
    first = eps.raise_to("facing_empty", "warning", 0.0, 1.0, "1 facing empty")
    assert [(t.source, t.subject, t.change, t.level) for t in first] == [
        ("stock", "fridge-1", "open", "warning")
    ]
    assert eps.raise_to("facing_empty", "warning", 60.0, 1.0, "still") == []
    assert [t.change for t in eps.raise_to("facing_empty", "alarm", 120.0, 2.0, "2")] == ["level"]
    assert eps.raise_to("facing_empty", "warning", 180.0, 1.0, "lower") == []
    closed = eps.close("facing_empty", 3900.0, "restocked")
    assert closed[0].change == "close" and closed[0].level == "alarm"
    assert closed[0].message == "restocked; lasted 1 h 05 min"
    assert eps.close("facing_empty", 4000.0, "again") == []


def test_cold_chain_alarms_of_an_old_database_become_the_shared_table() -> None:
    conn = sqlite3.connect(":memory:")
    for number, script in enumerate(MIGRATIONS[:6], start=1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    conn.execute(
        "INSERT INTO alarms (cabinet, rule, level, opened_at, updated_at, message, expires_at)"
        " VALUES ('dairy', 'temperature', 'alarm', 1, 1, 'warm', 2)"
    )
    conn.commit()
    assert migrate(conn) == len(MIGRATIONS)
    row = conn.execute("SELECT source, subject, rule FROM alarms").fetchone()
    assert row == ("coldchain", "dairy", "temperature")


def test_a_notice_names_the_source_subject_and_rule() -> None:
    from veilcam.alerts.episodes import Transition

    source = Source("stock", "Fridge", {"facing_empty": "facing empty"})
    tr = Transition("stock", "drinks", "facing_empty", "open", "alarm", 0.0, 3.0, "3 empty")
    cfg = NotifyConfig(email=EmailConfig(to=["m@example.org"], sender="v@example.org"))
    (notice,) = notices_for(tr, source, cfg, "shop", None)
    assert notice.subject == "[veilcam shop] ALARM: drinks facing empty"
    assert "Fridge:    drinks" in notice.body and "3 empty" in notice.body
