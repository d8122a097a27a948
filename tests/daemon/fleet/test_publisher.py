"""The MQTT publisher against a real Mosquitto on loopback, over TLS with a password: order,
an outage with a restart in between, refusals, and the outbox's limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from tests.support.aio import until
from tests.support.mqtt import READER, READER_PASSWORD, USER, Broker, broker
from veilcam.alerts import mqttbox
from veilcam.alerts.episodes import Source, Transition
from veilcam.alerts.mqttbox import Message, Mirror, payload
from veilcam.alerts.recorder import Recorder
from veilcam.clock import SystemClock
from veilcam.config import MqttConfig, RetentionConfig
from veilcam.fleet.publisher import Publisher
from veilcam.health import Health
from veilcam.store import Store

BASE = "veilcam/shop-7/main"


def config(b: Broker, **kw: object) -> MqttConfig:
    fields: dict[str, object] = {
        "url": b.tls_url,
        "ca_file": str(b.ca),
        "username": USER,
        "password_file": str(b.password_file),
        "retry_min": 0.2,
        "retry_max": 0.5,
        **kw,
    }
    return MqttConfig(**fields)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def subscribed(
    b: Broker, topic: str = "#", identifier: str | None = None
) -> AsyncIterator[list[aiomqtt.Message]]:
    """Every message on ``topic`` into a list, as head office would see it (over TLS, with
    its own password); with ``identifier`` the broker keeps the session while it is away."""
    got: list[aiomqtt.Message] = []
    client = aiomqtt.Client(
        "127.0.0.1",
        b.tls_port,
        username=READER,
        password=READER_PASSWORD,
        identifier=identifier,
        clean_session=False if identifier else None,
        tls_params=aiomqtt.TLSParameters(ca_certs=str(b.ca)),
    )
    async with client:
        await client.subscribe(topic, qos=1)

        async def collect() -> None:
            async for m in client.messages:
                got.append(m)

        task = asyncio.create_task(collect())
        try:
            yield got
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def numbers(got: list[aiomqtt.Message], prefix: str) -> list[int]:
    return [json.loads(m.payload)["n"] for m in got if m.topic.value.startswith(prefix)]


@contextlib.asynccontextmanager
async def publishing(pub: Publisher) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(pub.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_messages_arrive_in_order_over_tls_with_a_password(
    tmp_path: Path, data_dir: Path
) -> None:
    with broker(tmp_path / "broker") as b:
        async with Store(data_dir, RetentionConfig(), SystemClock()) as store:
            health = Health(store.clock)
            pub = Publisher(config(b), "shop-7", store, store.clock, health)
            async with subscribed(b) as got:
                queued = [
                    Message("telemetry", f"seq/{i % 7}", payload({"n": i})) for i in range(500)
                ]
                await pub.enqueue(queued)
                async with publishing(pub):

                    async def all_there() -> bool:
                        return len(numbers(got, f"{BASE}/seq/")) >= 500

                    await until(all_there, 20)
                    assert numbers(got, f"{BASE}/seq/") == list(range(500))
                    online = [m for m in got if m.topic.value == f"{BASE}/availability"]
                    assert [m.payload for m in online] == [b"online"]

                    async def settled() -> bool:  # the last batch's acknowledgements noted
                        return (await store.db.read(mqttbox.summary_job))["waiting"] == 0

                    await until(settled)
                    summary = await store.db.read(mqttbox.summary_job)
                    assert summary["kept_sent"] == 0 and summary["dropped"] == 0  # telemetry goes
                    assert health.snapshot()["mqtt"]["state"] == "ok"


async def test_a_wrong_password_is_refused_and_nothing_is_lost(
    tmp_path: Path, data_dir: Path
) -> None:
    with broker(tmp_path / "broker") as b:
        wrong = tmp_path / "wrong"
        wrong.write_text("not-the-password\n")
        async with Store(data_dir, RetentionConfig(), SystemClock()) as store:
            health = Health(store.clock)
            pub = Publisher(
                config(b, password_file=str(wrong)), "shop-7", store, store.clock, health
            )
            await pub.enqueue([Message("alarm", "alarm/x", b"{}")])
            async with publishing(pub):

                async def refused() -> bool:
                    return health.snapshot().get("mqtt", {}).get("state") == "warning"

                await until(refused)
            assert "1 waiting" in str(health.snapshot()["mqtt"]["message"])
            assert (await store.db.read(mqttbox.summary_job))["waiting"] == 1


async def test_a_client_certificate_instead_of_a_password(tmp_path: Path, data_dir: Path) -> None:
    """A broker that wants a client certificate (its common name as the user, no password):
    the box's cert_file and key_file let it in."""
    with broker(tmp_path / "broker") as b:
        async with Store(data_dir, RetentionConfig(), SystemClock()) as store:
            health = Health(store.clock)
            cert = config(
                b,
                url=b.cert_url,
                username=None,
                password_file=None,
                cert_file=str(b.folder / "client.pem"),
                key_file=str(b.folder / "client.key"),
            )
            pub = Publisher(cert, "shop-7", store, store.clock, health)
            async with subscribed(b, f"{BASE}/seq/#") as got:
                await pub.enqueue([Message("alarm", "seq/1", payload({"n": 1}))])
                async with publishing(pub):

                    async def arrived() -> bool:
                        return numbers(got, f"{BASE}/seq/") == [1]

                    await until(arrived)


# paho-mqtt 2.1 does not close a socket whose TLS handshake failed (``_ssl_wrap_socket``);
# Python closes it as the exception is dropped, with a ResourceWarning this test expects.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_broker_certificate_from_another_ca_is_refused(
    tmp_path: Path, data_dir: Path
) -> None:
    other = Broker(tmp_path / "other")  # its CA signed nothing the broker serves
    with broker(tmp_path / "broker") as b:
        async with Store(data_dir, RetentionConfig(), SystemClock()) as store:
            health = Health(store.clock)
            pub = Publisher(config(b, ca_file=str(other.ca)), "shop-7", store, store.clock, health)
            await pub.enqueue([Message("alarm", "alarm/x", b"{}")])
            async with publishing(pub):

                async def refused() -> bool:
                    return health.snapshot().get("mqtt", {}).get("state") == "warning"

                await until(refused)
            assert not pub.sent


SOURCE = Source("coldchain", "Cabinet", {"temperature_high": "temperature"})


async def test_alarms_during_an_outage_arrive_once_after_a_restart(
    tmp_path: Path, data_dir: Path
) -> None:
    """The broker goes away; five alarm changes and a flood of telemetry are recorded; the
    publisher is stopped and a new one started on the same data folder (a daemon restart);
    the broker comes back: every alarm change arrives, in order, and the outbox's record
    holds each once, sent once. Telemetry past the limit was dropped, oldest first."""
    b = Broker(tmp_path / "broker")
    b.start()
    try:
        async with subscribed(b, f"{BASE}/alarm/#", identifier="head-office-1"):
            pass  # the broker now keeps this session's messages while it is away
        async with Store(data_dir, RetentionConfig(), SystemClock()) as store:
            health = Health(store.clock)
            pub = Publisher(config(b, queue_limit=100), "shop-7", store, store.clock, health)
            async with publishing(pub):
                await until(lambda: _true(pub.connected))
                b.stop()
                await until(lambda: _true(not pub.connected))
                recorder = Recorder(SOURCE, store, health)
                recorder.mirror, recorder.mqtt_wake = pub.mirror, pub.wake
                now = store.clock.now()
                for i in range(5):
                    await pub.enqueue(
                        [Message("telemetry", "t", payload({"n": n})) for n in range(60)]
                    )
                    tr = Transition(
                        "coldchain",
                        f"cab-{i}",
                        "temperature_high",
                        "open",
                        "alarm",
                        now + i,
                        9.5 + i,
                        f"cab-{i} at {9.5 + i} °C",
                    )
                    await recorder.apply([tr])
        summary_before = None
        async with Store(data_dir, RetentionConfig(), SystemClock()) as store:  # restarted
            summary_before = await store.db.read(mqttbox.summary_job)
            health = Health(store.clock)
            pub = Publisher(config(b, queue_limit=100), "shop-7", store, store.clock, health)
            async with publishing(pub):
                b.start()
                await until(lambda: _true(pub.connected), 20)

                async def drained() -> bool:
                    return (await store.db.read(mqttbox.summary_job))["waiting"] == 0

                await until(drained, 20)
            rows = await store.db.read(
                lambda db: db.conn.execute(
                    "SELECT topic, attempts, sent_at FROM mqtt_outbox WHERE kind = 'alarm'"
                    " ORDER BY id"
                ).fetchall()
            )
        assert summary_before["waiting"] == 100  # 95 telemetry and the 5 alarms
        assert summary_before["dropped"] == 300 - 95
        assert [r[0] for r in rows] == [
            f"{BASE}/alarm/coldchain/cab-{i}/temperature_high" for i in range(5)
        ]
        assert all(r[1] == 1 and r[2] is not None for r in rows)  # each sent once
        async with subscribed(b, f"{BASE}/alarm/#", identifier="head-office-1") as got:

            async def arrived() -> bool:
                return len([m for m in got if not m.retain]) >= 5

            await until(arrived, 20)
            await asyncio.sleep(0.5)  # anything more would be a duplicate
        queued = [json.loads(m.payload) for m in got if not m.retain]
        assert [(q["subject"], q["change"]) for q in queued] == [
            (f"cab-{i}", "open") for i in range(5)
        ]
    finally:
        b.stop()


async def _true(value: bool) -> bool:
    return value


async def test_the_limit_drops_the_oldest_telemetry_and_never_an_alarm(store: Store) -> None:
    def queue(db: object, messages: list[Message]) -> int:
        return mqttbox.enqueue_job(db, BASE, messages, 1.0, 100.0, 100)  # type: ignore[arg-type]

    alarms = [Message("alarm", f"alarm/{i}", b"{}") for i in range(150)]
    telemetry = [Message("telemetry", "t", payload({"n": n})) for n in range(50)]
    assert await store.db.write(queue, telemetry) == 0
    assert await store.db.write(queue, alarms) == 50  # every telemetry message, not one alarm
    more = [Message("telemetry", "t", payload({"n": n})) for n in range(50, 60)]
    assert await store.db.write(queue, more) == 10  # the newest telemetry too: alarms stay
    summary = await store.db.read(mqttbox.summary_job)
    assert summary["waiting"] == 150 and summary["dropped"] == 60
    rows = await store.db.read(mqttbox.due_job, 1000)
    assert [r["topic"] for r in rows] == [f"{BASE}/alarm/{i}" for i in range(150)]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"url": "mqtt://broker.example.com"}, "plain MQTT is only allowed to loopback"),
        ({"url": "mqtts://u:p@broker.example.com"}, "the user name and password go in"),
        ({"url": "mqtts://b.example.com", "cert_file": "c.pem"}, "both cert_file and key_file"),
        ({"url": "mqtts://b.example.com", "username": "x"}, "a username needs a password_file"),
        ({"url": "mqtts://b.example.com:99999"}, "mqtt.url"),
    ],
)
def test_config_mistakes_are_named(fields: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        MqttConfig(**fields)  # type: ignore[arg-type]


def test_mirror_topics() -> None:
    tr = Transition("stock", "fridge-1", "facing_empty", "close", "warning", 5.0, None, "ok")
    m = Mirror(BASE).alarm(tr, 3)
    assert m.topic == "alarm/stock/fridge-1/facing_empty" and m.retain
    assert json.loads(m.payload)["state"] == "off"
