"""The alarm service in the running daemon: readings in, alarms kept, `veilcam alerts`
out, acknowledgement only with a comment."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.support.aio import until
from tests.support.daemon import config_for
from veilcam.alerts.records import acknowledge
from veilcam.cli import main
from veilcam.clock import FakeClock
from veilcam.coldchain.service import TICK
from veilcam.errors import AccountError
from veilcam.runtime.supervisor import running
from veilcam.sensors.ingest import DoorEvent, Reading

CABINET = """
[[cabinets]]
name = "dairy"
profile = "chiller"
probe = "1"
door = "1"
"""


async def test_a_warm_spell_opens_an_alarm_once_and_closes_it(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock()
    async with running(config_for(data_dir, CABINET), clock=clock) as app:
        clock.advance(31 * 60)  # past the power-up grace

        async def feed(minutes: int, celsius: float) -> None:
            for _ in range(minutes):
                app.readings.publish(Reading("1", int(celsius * 100), None, clock.now()))
                clock.advance(60)

        await feed(45, 9.5)

        async def rows() -> list:  # type: ignore[type-arg]
            return await app.store.db.read(
                lambda db: db.conn.execute(
                    "SELECT * FROM alarms WHERE rule = 'temperature'"
                ).fetchall()
            )

        # The service catches up with the 45 readings at its own pace: the episode is a
        # warning first and becomes an alarm once it has seen enough of them.
        await until(lambda: _level(rows, "alarm"))
        [row] = await rows()
        assert row["level"] == "alarm" and row["closed_at"] is None and row["subject"] == "dairy"
        assert app.health.get("cold_chain").state == "error"  # type: ignore[union-attr]
        with pytest.raises(AccountError, match="needs a comment"):
            await acknowledge(app.store, row["id"], "maria", "   ")
        await acknowledge(app.store, row["id"], "maria", "moved stock to the back-up chiller")
        await feed(10, 3.5)
        await until(lambda: _closed(rows))
        [row] = await rows()
        assert "peak 9.5 °C" in row["message"] and row["peak"] == 9.5
        app.doors.publish(DoorEvent("1", True, clock.now()))
        clock.advance(200)
        await until(lambda: _door_open(app))
    code = await asyncio.to_thread(main, ["alerts", "--data-dir", str(data_dir), "--json"])
    alarms = json.loads(capsys.readouterr().out)
    assert code == 0
    temp = next(a for a in alarms if a["rule"] == "temperature")
    assert temp["acked_by"] == "maria" and temp["ack_comment"].startswith("moved stock")
    assert any(a["rule"] == "door_open" and a["closed_at"] is None for a in alarms)


async def _level(rows, level: str) -> bool:  # type: ignore[no-untyped-def]
    r = await rows()
    return bool(r) and r[0]["level"] == level


async def _closed(rows) -> bool:  # type: ignore[no-untyped-def]
    r = await rows()
    return bool(r) and r[0]["closed_at"] is not None


async def _door_open(app) -> bool:  # type: ignore[no-untyped-def]
    rows = await app.store.db.read(
        lambda db: db.conn.execute("SELECT * FROM alarms WHERE rule = 'door_open'").fetchall()
    )
    return bool(rows)


async def test_limits_set_in_the_ui_apply_after_a_restart(data_dir: Path) -> None:
    clock = FakeClock()
    async with running(config_for(data_dir, CABINET), clock=clock) as app:

        def put(db) -> None:  # type: ignore[no-untyped-def]
            db.conn.executemany(
                "INSERT INTO settings VALUES (?, ?, 0, 'ada')",
                [("cabinet.dairy.warn_above", "3.5"), ("cabinet.dairy.alarm_above", "6")],
            )

        await app.store.db.write(put)
    async with running(config_for(data_dir, CABINET), clock=clock) as app:
        assert app.alarms is not None

        async def applied() -> bool:
            return app.alarms.limits("dairy").warn_above == 3.5  # type: ignore[union-attr]

        await until(applied)
        assert app.alarms.limits("dairy").alarm_above == 6.0


async def test_alarm_changes_refused_by_a_full_disk_are_kept_and_stored_later(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from veilcam.alerts import recorder

    real, refusals = recorder.record_job, {"left": 3}

    def full_disk(db, *args):  # type: ignore[no-untyped-def]
        if refusals["left"] > 0:
            refusals["left"] -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return real(db, *args)

    monkeypatch.setattr(recorder, "record_job", full_disk)
    clock = FakeClock()
    async with running(config_for(data_dir, CABINET), clock=clock) as app:
        clock.advance(31 * 60)
        for _ in range(45):
            app.readings.publish(Reading("1", 950, None, clock.now()))
            clock.advance(60)

        async def refused() -> bool:
            h = app.health.get("alarm_records")
            return h is not None and h.state == "error"

        await until(refused)
        assert "waiting to be stored" in app.health.get("alarm_records").message  # type: ignore[union-attr]

        async def stored() -> bool:
            clock.advance(TICK)  # time passes: the service tries again at each tick
            rows = await app.store.db.read(
                lambda db: db.conn.execute(
                    "SELECT level FROM alarms WHERE rule = 'temperature'"
                ).fetchall()
            )
            return [r[0] for r in rows] == ["alarm"]

        await until(stored)
        assert app.health.get("alarm_records").state == "ok"  # type: ignore[union-attr]
        assert refusals["left"] == 0
