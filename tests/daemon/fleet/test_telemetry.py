"""What the box publishes on its own, and an acknowledgement's message: into the MQTT
outbox, with the topics and fields head office reads."""

from __future__ import annotations

import json

from veilcam.alerts import mqttbox
from veilcam.alerts.episodes import Episode, Transition
from veilcam.alerts.records import acknowledge, record_job
from veilcam.clock import FakeClock
from veilcam.coldchain.limits import limits_for
from veilcam.coldchain.rules import Cabinet
from veilcam.config import CabinetConfig, MqttConfig
from veilcam.durations import HOUR
from veilcam.fleet.publisher import Publisher
from veilcam.fleet.telemetry import Telemetry
from veilcam.health import Health
from veilcam.store import Store, audit

BASE = "veilcam/shop-7/main"


class Cabinets:
    """The two things Telemetry reads of the alarm service: its cabinets and their configs."""

    def __init__(self, clock: FakeClock) -> None:
        cfgs = [
            CabinetConfig(name="dairy", probe="1", door="1", profile="chiller"),
            CabinetConfig(name="ice", probe="2", profile="freezer"),
        ]
        self.configs = {c.name: c for c in cfgs}
        self.cabinets = {c.name: Cabinet(c.name, limits_for(c), clock.now()) for c in cfgs}


async def rows(store: Store) -> list[tuple[str, str, bytes, int]]:
    return await store.db.read(
        lambda db: db.conn.execute(
            "SELECT kind, topic, payload, retain FROM mqtt_outbox ORDER BY id"
        ).fetchall()
    )


async def test_health_cabinets_and_an_hourly_audit_head(
    store: Store, clock: FakeClock, health: Health
) -> None:
    pub = Publisher(MqttConfig(url="mqtt://127.0.0.1:1883"), "shop-7", store, clock, health)
    cabinets = Cabinets(clock)
    dairy = cabinets.cabinets["dairy"]
    dairy.last_value, dairy.last_reading = 4.237, clock.now()
    dairy.door_open_since = clock.now() - 30
    dairy.episodes["door_open"] = Episode("warning", clock.now() - 10)
    health.set("camera:fridge-1", "ok", "grabbing")
    await store.audit(audit.Entry("tester", "test.x"))
    telemetry = Telemetry(pub, health, cabinets)  # type: ignore[arg-type]
    await telemetry.once()
    got = {
        topic: (kind, json.loads(payload), retain)
        for kind, topic, payload, retain in await rows(store)
    }
    assert set(got) == {
        f"{BASE}/health",
        f"{BASE}/cabinet/dairy/temperature",
        f"{BASE}/cabinet/dairy/door",
        f"{BASE}/cabinet/dairy/alarm",
        f"{BASE}/cabinet/ice/alarm",
        f"{BASE}/audit/head",
    }  # the freezer has not read yet and has no door switch
    assert got[f"{BASE}/cabinet/dairy/alarm"][1]["state"] == "on"
    assert got[f"{BASE}/cabinet/dairy/alarm"][1]["rules"] == ["door_open"]
    assert got[f"{BASE}/cabinet/ice/alarm"][1] == {
        "state": "off",
        "rules": [],
        "level": None,
        "at": clock.now(),
    }
    assert got[f"{BASE}/cabinet/dairy/temperature"][1]["value"] == 4.24
    assert got[f"{BASE}/cabinet/dairy/door"][1]["state"] == "open"
    assert got[f"{BASE}/health"][1]["parts"]["camera:fridge-1"] == {
        "state": "ok",
        "message": "grabbing",
    }
    assert got[f"{BASE}/audit/head"][0] == "audit" and got[f"{BASE}/audit/head"][1]["id"] == 1
    assert all(retain for _, _, retain in got.values())
    clock.advance(600)
    await telemetry.once()
    heads = [r for r in await rows(store) if r[1].endswith("/audit/head")]
    assert len(heads) == 1  # once an hour
    clock.advance(HOUR)
    await telemetry.once()
    heads = [r for r in await rows(store) if r[1].endswith("/audit/head")]
    assert len(heads) == 2


async def test_an_acknowledgement_goes_with_its_record(
    store: Store, clock: FakeClock, health: Health
) -> None:
    pub = Publisher(MqttConfig(url="mqtt://127.0.0.1:1883"), "shop-7", store, clock, health)
    tr = Transition("coldchain", "dairy", "temperature", "open", "alarm", clock.now(), 9.1, "warm")
    expires = store.expires("sensor_records", clock.now())
    alarm_id = await store.db.write(record_job, tr, expires, None, pub.mirror)
    await acknowledge(store, alarm_id, "manager", "moved the milk", mirror=pub.mirror)
    [(k1, t1, p1, r1), (k2, t2, p2, r2)] = await rows(store)
    assert t1 == f"{BASE}/alarm/coldchain/dairy/temperature" and r1 == 1
    assert json.loads(p1)["state"] == "on" and json.loads(p1)["id"] == alarm_id
    assert t2 == f"{BASE}/alarm/coldchain/dairy/temperature/ack" and r2 == 0
    assert json.loads(p2) == {"id": alarm_id, "change": "ack", "at": clock.now()}
    assert "manager" not in p2.decode() and "milk" not in p2.decode()
    assert (await store.db.read(mqttbox.summary_job))["waiting"] == 2
