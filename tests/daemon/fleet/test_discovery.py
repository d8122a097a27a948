"""Home Assistant's discovery: the payload checked against Home Assistant's schema, a
cabinet taken out of the config removed again, and the message as Home Assistant gets it
from a real broker."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.daemon.fleet.test_publisher import publishing, subscribed
from tests.support import hass
from tests.support.aio import until
from tests.support.mqtt import PASSWORD, USER, broker
from veilcam.clock import SystemClock
from veilcam.config import Config, RetentionConfig, loads
from veilcam.fleet import discovery
from veilcam.fleet.publisher import Publisher
from veilcam.fleet.telemetry import Telemetry
from veilcam.health import Health
from veilcam.store import Store

BASE = "veilcam/shop-7/main"


def config_with(cabinets: str, url: str = "mqtt://127.0.0.1:1883", extra: str = "") -> Config:
    return loads(
        'site = "shop-7"\n'
        f"{cabinets}"
        '[[cameras]]\nname = "fridge-1"\npurpose = "fridge"\n'
        'source = { kind = "replay", path = "/nonexistent" }\n'
        "[web]\nport = 8443\n"
        f'[mqtt]\nurl = "{url}"\ninterval = "30s"\n{extra}'
    )


TWO = (
    '[[cabinets]]\nname = "dairy"\nprobe = "1"\ndoor = "1"\nprofile = "chiller"\n'
    '[[cabinets]]\nname = "ice"\nprobe = "2"\nprofile = "freezer"\n'
)
ONE = '[[cabinets]]\nname = "ice"\nprobe = "2"\nprofile = "freezer"\n'


def test_the_payload_is_what_home_assistant_accepts() -> None:
    message, announced = discovery.message(config_with(TWO), BASE, None, "SN123")
    assert message.topic == "device/veilcam_shop_7_main/config" and message.retain
    doc = json.loads(message.payload)
    hass.validate(doc)
    device = doc["device"]
    assert device["manufacturer"] == "veilcam" and device["serial_number"] == "SN123"
    assert device["configuration_url"] == "https://127.0.0.1:8443/"
    assert {"model", "sw_version", "identifiers"} <= set(device)
    cmps = doc["components"]
    temp = cmps["veilcam_shop_7_main_cabinet_dairy_temperature"]
    assert temp["device_class"] == "temperature" and temp["state_class"] == "measurement"
    assert temp["unit_of_measurement"] == "°C"
    assert temp["state_topic"] == f"{BASE}/cabinet/dairy/temperature"
    assert cmps["veilcam_shop_7_main_cabinet_dairy_door"]["device_class"] == "door"
    assert "veilcam_shop_7_main_cabinet_ice_door" not in cmps  # no door switch
    assert cmps["veilcam_shop_7_main_camera_fridge_1_problem"]["device_class"] == "problem"
    assert all(c["expire_after"] == 90 for c in cmps.values())  # three intervals
    assert doc["availability_topic"] == f"{BASE}/availability"
    assert set(announced) == set(cmps)


def test_the_schema_refuses_what_home_assistant_would() -> None:
    """The test's schema can fail: each of these is a payload Home Assistant refuses."""
    message, _ = discovery.message(config_with(TWO), BASE, None, "SN123")
    good = json.loads(message.payload)
    key = "veilcam_shop_7_main_cabinet_dairy_temperature"
    broken = [
        {**good, "device": {"name": "no identifiers"}},
        {k: v for k, v in good.items() if k != "origin"},
        {**good, "components": {key: {**good["components"][key], "unit_of_measurement": "C"}}},
        {**good, "components": {key: {**good["components"][key], "state_class": "average"}}},
        {**good, "components": {key: {"p": "sensor", "unique_id": "x"}}},  # no state topic
    ]
    for doc in broken:
        with pytest.raises(jsonschema.ValidationError):
            hass.validate(doc)


def test_a_cabinet_taken_out_is_removed() -> None:
    _, before = discovery.message(config_with(TWO), BASE, None, "SN")
    message, after = discovery.message(config_with(ONE), BASE, before, "SN")
    doc = json.loads(message.payload)
    hass.validate(doc)
    gone = {k: v for k, v in doc["components"].items() if list(v) == ["p"]}
    assert gone == {
        "veilcam_shop_7_main_cabinet_dairy_temperature": {"p": "sensor"},
        "veilcam_shop_7_main_cabinet_dairy_alarm": {"p": "binary_sensor"},
        "veilcam_shop_7_main_cabinet_dairy_door": {"p": "binary_sensor"},
    }
    assert not any("dairy" in k for k in after)  # next time, not mentioned at all
    again, _ = discovery.message(config_with(ONE), BASE, after, "SN")
    assert not any("dairy" in k for k in json.loads(again.payload)["components"])


def test_the_serial_number_hashes_a_machine_id(tmp_path: Path) -> None:
    tree, machine = tmp_path / "serial-number", tmp_path / "machine-id"
    machine.write_text("0123456789abcdef0123456789abcdef\n")
    serial = discovery.serial_number((str(tree), str(machine)))
    assert len(serial) == 16 and "0123456789abcdef" not in serial
    tree.write_bytes(b"1421321234567\x00")
    assert discovery.serial_number((str(tree), str(machine))) == "1421321234567"


async def test_home_assistant_gets_the_device_and_its_removal(
    tmp_path: Path, data_dir: Path
) -> None:
    """Subscribed the way Home Assistant subscribes (``homeassistant/+/+/config`` and
    ``homeassistant/+/+/+/config``), through two starts of the box: with two cabinets,
    then with one."""
    with broker(tmp_path / "broker") as b:
        password = tmp_path / "pw"
        password.write_text(PASSWORD)
        extra = f'username = "{USER}"\npassword_file = "{password}"\n'
        payloads: list[dict[str, object]] = []
        for cabinets in (TWO, ONE):
            cfg = config_with(cabinets, b.url, extra)
            assert cfg.mqtt is not None
            async with (
                Store(data_dir, RetentionConfig(), SystemClock()) as store,
                subscribed(b, "homeassistant/+/+/config") as got,
            ):
                pub = Publisher(cfg.mqtt, cfg.site, store, store.clock, Health(store.clock))
                await Telemetry(pub, Health(store.clock), None, cfg).announce()
                async with publishing(pub):

                    async def arrived() -> bool:
                        return any(not m.retain for m in got)  # the new one, not the retained

                    await until(arrived)
                [m] = [m for m in got if not m.retain]
                assert m.topic.value == "homeassistant/device/veilcam_shop_7_main/config"
                payloads.append(json.loads(m.payload))  # type: ignore[arg-type]
    for doc in payloads:
        hass.validate(doc)
    first, second = (p["components"] for p in payloads)
    assert "veilcam_shop_7_main_cabinet_dairy_temperature" in first  # type: ignore[operator]
    assert second["veilcam_shop_7_main_cabinet_dairy_temperature"] == {"p": "sensor"}  # type: ignore[index]
