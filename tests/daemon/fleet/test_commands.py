"""Commands from head office through a real Mosquitto to a running daemon: a valid signed
command runs and is audited; a replayed, expired, unsigned, wrongly signed or misdirected
one is refused, audited, and the refusal published."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import aiomqtt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.daemon.fleet.test_publisher import subscribed
from tests.support.aio import until
from tests.support.daemon import config_for
from tests.support.mqtt import PASSWORD, READER, READER_PASSWORD, USER, Broker, broker
from veilcam.alerts.episodes import Transition
from veilcam.errors import ConfigError
from veilcam.fleet import commands
from veilcam.fleet.commands import CommandRefused, sign, verify
from veilcam.runtime.supervisor import running

BASE = "veilcam/store/main"
KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()
KNOWN = {"capture", "ack", "limits", "status"}


def _public(folder: Path, key: Ed25519PrivateKey = KEY) -> Path:
    path = folder / "command-key.pub"
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def _signed(name: str, args: dict[str, object] | None = None, **kw: object) -> bytes:
    fields: dict[str, object] = {"site": "store", "device": "main", "expires": time.time() + 60}
    fields.update(kw)
    return sign(
        kw.get("key", KEY),  # type: ignore[arg-type]
        str(fields["site"]),
        str(fields["device"]),
        name,
        args or {},
        float(fields["expires"]),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: b"not json", "not JSON"),
        (lambda: json.dumps({"command": "{}"}).encode(), "unsigned"),
        (lambda: _signed("status", key=OTHER), "does not verify"),
        (lambda: _signed("status", site="shop-9"), "for shop-9/main, not store/main"),
        (lambda: _signed("status", expires=time.time() - 5), "expired"),
        (lambda: _signed("status", expires=time.time() + 3 * 86400), "more than a day ahead"),
        (lambda: _signed("reboot"), "unknown command 'reboot'"),
    ],
    ids=["not-json", "unsigned", "wrong-key", "other-box", "expired", "far-expiry", "unknown"],
)
def test_refusals_name_why(make: Callable[[], bytes], why: str) -> None:
    """Each message is made when its test runs: made at collection, a valid one would have
    expired by the time a long suite reaches it."""
    with pytest.raises(CommandRefused, match=why):
        verify(make(), KEY.public_key(), "store", "main", time.time(), KNOWN)


def test_a_tampered_command_does_not_verify() -> None:
    envelope = json.loads(_signed("limits", {"cabinet": "dairy", "alarm_above": 8}))
    envelope["command"] = envelope["command"].replace('"alarm_above": 8', '"alarm_above": 7')
    with pytest.raises(CommandRefused, match="does not verify"):
        verify(json.dumps(envelope).encode(), KEY.public_key(), "store", "main", time.time(), KNOWN)


def test_the_key_file_must_be_an_ed25519_public_key(tmp_path: Path) -> None:
    raw = tmp_path / "raw.pub"
    raw.write_text(base64.b64encode(KEY.public_key().public_bytes_raw()).decode())
    assert commands.load_key(str(raw)).public_bytes_raw() == KEY.public_key().public_bytes_raw()
    bad = tmp_path / "bad.pub"
    bad.write_text("hello")
    with pytest.raises(ConfigError, match="not an Ed25519 public key"):
        commands.load_key(str(bad))
    with pytest.raises(ConfigError, match="cannot read"):
        commands.load_key(str(tmp_path / "missing"))


async def _send(b: Broker, message: bytes) -> None:
    async with aiomqtt.Client(
        "127.0.0.1", b.port, username=READER, password=READER_PASSWORD
    ) as office:
        await office.publish(f"{BASE}/command", message, qos=1)


def _audit(data_dir: Path) -> list[tuple[str, str, str, str]]:
    conn = sqlite3.connect(f"file:{data_dir / 'veilcam.db'}?mode=ro", uri=True)
    try:
        return [
            tuple(r)
            for r in conn.execute(
                "SELECT actor, action, coalesce(object, ''), coalesce(detail, '') FROM audit_log"
                " WHERE actor = 'head-office' ORDER BY id"
            )
        ]
    finally:
        conn.close()


async def test_signed_commands_run_and_the_rest_are_refused(tmp_path: Path, data_dir: Path) -> None:
    with broker(tmp_path / "broker") as b:
        password = tmp_path / "pw"
        password.write_text(PASSWORD)
        config = config_for(
            data_dir,
            '[[cabinets]]\nname = "dairy"\nprobe = "1"\n'
            f'[mqtt]\nurl = "{b.url}"\nusername = "{USER}"\npassword_file = "{password}"\n'
            f'command_key = "{_public(tmp_path)}"\nretry_min = "1s"\n',
        )
        async with running(config) as app, subscribed(b, f"{BASE}/command/result") as got:
            assert app.publisher is not None
            await until(lambda: _async(app.publisher.connected), 20)

            async def results(n: int) -> bool:
                return len(got) >= n

            valid = _signed("limits", {"cabinet": "dairy", "warn_above": 4, "alarm_above": 7})
            await _send(b, valid)
            await until(lambda: results(1), 20)
            await _send(b, valid)  # the same message again: a replay
            await _send(b, _signed("status", expires=time.time() - 1))
            await _send(b, json.dumps({"command": "{}"}).encode())
            await _send(b, _signed("status", key=OTHER))
            await _send(
                b, _signed("limits", {"cabinet": "dairy", "warn_above": 9, "alarm_above": 20})
            )
            await _send(b, _signed("status"))
            await until(lambda: results(7), 20)
            await app.alarms.recorder.apply(  # type: ignore[union-attr]
                [Transition("coldchain", "dairy", "temperature", "open", "alarm", time.time(), 9.0)]
            )
            await _send(b, _signed("ack", {"alarm": 1, "comment": "milk moved to the back"}))
            await _send(b, _signed("capture", {"camera": "fridge-1"}))
            await until(lambda: results(9), 30)
            assert app.alarms is not None
            limits = app.alarms.limits("dairy")
            assert (limits.warn_above, limits.alarm_above) == (4.0, 7.0)
        docs = [json.loads(m.payload) for m in got]  # type: ignore[arg-type]
        assert docs[0]["ok"] and docs[0]["result"]["was"] == [5.0, 8.0]
        assert [d["ok"] for d in docs[1:5]] == [False] * 4
        assert "replayed" in docs[1]["error"] and "expired" in docs[2]["error"]
        assert "unsigned" in docs[3]["error"] and "does not verify" in docs[4]["error"]
        assert not docs[5]["ok"] and "8" in docs[5]["error"]  # over the chiller's ceiling
        assert docs[6]["ok"] and docs[6]["result"]["overall"] in ("ok", "warning", "error")
        assert docs[7] == {**docs[7], "ok": True, "command": "ack", "result": {"alarm": 1}}
        assert docs[8]["ok"] and len(docs[8]["result"]["media_id"]) == 32
    actions = [(a[1], a[2]) for a in _audit(data_dir)]
    assert actions[:2] == [("fleet.command", "limits"), ("setting.change", "cabinet.dairy")]
    assert [a for a, _ in actions].count("fleet.command.refused") == 4
    assert ("fleet.command.failed", "limits") in actions
    assert ("alarm.ack", "1") in actions and ("fleet.command", "capture") in actions
    async with running(config) as app:  # kept: a restart reads the limits back
        alarms = app.alarms
        assert alarms is not None

        async def restored() -> bool:  # as the alarm service starts
            lim = alarms.limits("dairy")
            return (lim.warn_above, lim.alarm_above) == (4.0, 7.0)

        await until(restored)


async def _async(value: bool) -> bool:
    return value


async def test_alarms_through_an_outage_and_a_daemon_restart_arrive_once(
    tmp_path: Path, data_dir: Path
) -> None:
    """The whole daemon: the broker stops, alarms open, the daemon is stopped and started
    again (more alarms), the broker comes back: head office's remembered session gets every
    alarm, in order, once, and the outbox's record holds each once, sent once."""
    b = Broker(tmp_path / "broker")
    b.start()
    try:
        password = tmp_path / "pw"
        password.write_text(PASSWORD)
        config = config_for(
            data_dir,
            '[[cabinets]]\nname = "dairy"\nprobe = "1"\n'
            f'[mqtt]\nurl = "{b.url}"\nusername = "{USER}"\npassword_file = "{password}"\n'
            'retry_min = "1s"\nretry_max = "2s"\n',
        )
        async with subscribed(b, f"{BASE}/alarm/#", identifier="office-desk"):
            pass  # the broker keeps this session's messages from now on
        for run, rules in enumerate((["test_one", "test_two"], ["test_three"])):
            async with running(config) as app:
                assert app.publisher is not None and app.alarms is not None
                if run == 0:
                    await until(lambda: _async(app.publisher.connected), 20)  # type: ignore[union-attr]
                    b.stop()
                for rule in rules:
                    tr = Transition("coldchain", "dairy", rule, "open", "alarm", time.time(), 9.0)
                    await app.alarms.recorder.apply([tr])
                if run == 1:
                    b.start()

                    async def drained() -> bool:
                        rows = await app.store.db.read(
                            lambda db: db.conn.execute(
                                "SELECT count(*) FROM mqtt_outbox WHERE kind = 'alarm'"
                                " AND sent_at IS NULL"
                            ).fetchone()
                        )
                        return rows[0] == 0

                    await until(drained, 30)
        async with subscribed(b, f"{BASE}/alarm/#", identifier="office-desk") as got:

            def dairy() -> list[dict[str, object]]:
                docs = [json.loads(m.payload) for m in got if not m.retain]  # type: ignore[arg-type]
                return [d for d in docs if d["subject"] == "dairy"]

            async def three() -> bool:
                return len(dairy()) >= 3

            await until(three, 20)
            await asyncio.sleep(0.5)  # a duplicate would be here by now
    finally:
        b.stop()
    rules_seen = [d["rule"] for d in dairy()]
    assert rules_seen == ["test_one", "test_two", "test_three"]
    conn = sqlite3.connect(f"file:{data_dir / 'veilcam.db'}?mode=ro", uri=True)
    rows = conn.execute(
        "SELECT topic, attempts, sent_at IS NOT NULL FROM mqtt_outbox WHERE kind = 'alarm'"
        " AND topic LIKE '%/dairy/%' ORDER BY id"
    ).fetchall()
    conn.close()
    assert [r[0].rsplit("/", 1)[1] for r in rows] == rules_seen
    assert all(r[1] == 1 and r[2] for r in rows)
