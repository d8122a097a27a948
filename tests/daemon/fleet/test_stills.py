"""Redacted stills to the broker: off unless named, refused without a valid disclosure
record, sent (the stored, redacted JPEG, byte for byte) under one, noted as disclosed and
audited, and withheld while a restriction covers the picture."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.daemon.fleet.test_publisher import subscribed
from tests.support.aio import until
from tests.support.daemon import config_for
from tests.support.mqtt import PASSWORD, USER, broker
from veilcam.config import loads
from veilcam.durations import DAY
from veilcam.errors import ConfigError
from veilcam.fleet.stills import StillsFeed
from veilcam.privacy import disclosures
from veilcam.privacy.scope import Act
from veilcam.runtime.supervisor import running

BASE = "veilcam/store/main"


def test_stills_need_a_record_and_a_camera_that_takes_stills() -> None:
    base = '[[cameras]]\nname = "fridge-1"\npurpose = "fridge"\nsource = { kind = "replay", path = "/x" }\n'
    with pytest.raises(ConfigError, match="pictures leave only under a disclosure record"):
        loads(base + '[mqtt]\nurl = "mqtt://127.0.0.1"\nstills = ["fridge-1"]\n')
    with pytest.raises(ConfigError, match="'door': no such camera"):
        loads(base + '[mqtt]\nurl = "mqtt://127.0.0.1"\nstills = ["door"]\nstills_disclosure = 1\n')


async def test_stills_leave_only_under_a_record_and_never_restricted(
    tmp_path: Path, data_dir: Path
) -> None:
    with broker(tmp_path / "broker") as b:
        password = tmp_path / "pw"
        password.write_text(PASSWORD)
        config = config_for(
            data_dir,
            f'[mqtt]\nurl = "{b.url}"\nusername = "{USER}"\npassword_file = "{password}"\n'
            'stills = ["fridge-1"]\nstills_disclosure = 1\n',
        )
        async with running(config) as app, subscribed(b, f"{BASE}/camera/#") as got:
            assert app.publisher is not None
            store = app.store
            first = await app.pipeline.capture("fridge-1", "test")  # no record 1 yet

            async def refused() -> bool:
                part = app.health.snapshot().get("mqtt_stills", {})
                return "no disclosure record 1" in str(part.get("message"))

            await until(refused, 20)
            now = app.clock.now()
            act = Act("admin", now, store.expires("audit_log", now), store.expires("requests", now))
            await store.db.write(
                lambda db: disclosures.create_job(
                    db,
                    act,
                    recipient="head office (the chain's broker)",
                    legal_basis="Art. 6(1)(f): stock monitoring across the chain",
                    purpose="shelf photos for the category managers",
                    items=["camera:fridge-1"],
                    request_id=None,
                    valid_for=DAY,
                )
            )
            second = await app.pipeline.capture("fridge-1", "test")

            async def arrived() -> bool:
                return any(m.topic.value == f"{BASE}/camera/fridge-1/still" for m in got)

            await until(arrived, 20)
            [still] = [m for m in got if m.topic.value == f"{BASE}/camera/fridge-1/still"]
            assert bytes(still.payload) == await store.read_picture(second)  # type: ignore[arg-type]
            assert bytes(still.payload)[:3] == b"\xff\xd8\xff"  # type: ignore[arg-type]
            # A restriction holds a picture back, whatever the record says; the first
            # still, refused without a record, goes once there is one.
            await store.db.write(
                lambda db: db.conn.execute(
                    "UPDATE media SET restricted_by = 1 WHERE id = ?", (second,)
                )
            )
            feed = StillsFeed(app.publisher, ["fridge-1"], 1, app.health)
            assert not await feed.publish("fridge-1", second)
            assert await feed.publish("fridge-1", first)
            assert not await feed.publish("fridge-2", first)  # not a camera it was given
    conn = sqlite3.connect(f"file:{data_dir / 'veilcam.db'}?mode=ro", uri=True)
    disclosed = {r[0] for r in conn.execute("SELECT item FROM disclosed")}
    exports = conn.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'disclosure.export' AND actor = 'system:mqtt'"
    ).fetchone()[0]
    conn.close()
    assert {f"media:{second}", f"media:{first}"} <= disclosed
    assert exports == 2  # the second, live; the first, once there was a record
