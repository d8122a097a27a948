"""The real reader over a real pseudo-terminal, fed by the simulator, into a real SQLite file."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.aio import until
from veilcam.clock import FakeClock, SystemClock
from veilcam.config import RetentionConfig
from veilcam.errors import ProtocolError, SensorLinkError
from veilcam.events import Hub
from veilcam.health import Health
from veilcam.sensors.ingest import SensorIngest
from veilcam.sensors.protocol import Temperature
from veilcam.sensors.reader import SensorReader
from veilcam.sensors.simulator import BoardSimulator, FaultRates
from veilcam.store import Store


async def drained(ingest: SensorIngest, quiet_polls: int = 5) -> bool:
    """Nothing new from the line for ``quiet_polls`` polls (the board has stopped sending),
    and nothing waiting to be committed."""
    seen = sum(ingest.stats.values())
    for _ in range(quiet_polls):
        await asyncio.sleep(0.01)
        if sum(ingest.stats.values()) != seen:
            return False
    return ingest.backlog == 0


def read_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def expected_from_log(entries: list[dict[str, Any]]) -> dict[str, Any]:
    sent = [e for e in entries if e["kind"] in ("sent", "sent_with_noise")]
    return {
        "temps": sorted(
            (e["probe"], e["centi_c"]) for e in sent if e["type"] == "T" and not e["fault"]
        ),
        "doors": sorted((e["door"], e["open"]) for e in sent if e["type"] == "D"),
        "faults": Counter(
            {
                "fault:" + k: v
                for k, v in Counter(
                    e["fault"] for e in sent if e["type"] == "T" and e["fault"]
                ).items()
            }
        )
        + Counter(
            {
                "fault:checksum": sum(e["kind"] == "bad_checksum" for e in entries),
                "fault:framing": sum(e["kind"] == "noise" for e in entries),
                "fault:noise": sum(e["kind"] == "sent_with_noise" for e in entries),
                "fault:board_reset": sum(e["kind"] == "reset" for e in entries),
            }
        ),
        "dropped": sum(e["kind"] == "dropped" for e in entries),
    }


async def run_board(
    tmp_path: Path, faults: FaultRates, seconds: float, **sim: Any
) -> tuple[SensorIngest, Store, dict[str, Any], Health]:
    clock = SystemClock()
    health = Health(clock)
    log_path = tmp_path / "sim.log"
    with log_path.open("w") as log_file:
        board = BoardSimulator(
            tmp_path / "tty",
            seed=11,
            speed=sim.pop("speed", 20),
            faults=faults,
            log_file=log_file,
            **sim,
        )
        port = await board.start()
        async with Store(tmp_path / "data", RetentionConfig(), clock) as store:
            ingest = SensorIngest(store, clock, health, Hub())
            reader = SensorReader(
                port,
                115200,
                ingest,
                clock=clock,
                health=health,
                reconnect_max=0.5,
                stats=ingest.stats,
            )
            tasks = [asyncio.create_task(reader.run()), asyncio.create_task(ingest.run())]
            await board.run(seconds)
            await until(lambda: drained(ingest))  # the reader has taken all that was sent
            board.close()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            rows = await store.db.read(
                lambda db: {
                    "temps": sorted(
                        tuple(r)
                        for r in db.conn.execute("SELECT probe, centi_c FROM temperature_readings")
                    ),
                    "doors": sorted(
                        (r[0], r[1] == "open")
                        for r in db.conn.execute("SELECT door, state FROM door_events")
                    ),
                    "faults": Counter(
                        {
                            "fault:" + k: v
                            for k, v in db.conn.execute(
                                "SELECT kind, count(*) FROM sensor_faults GROUP BY kind"
                            )
                        }
                    ),
                }
            )
    return ingest, rows, expected_from_log(read_log(log_path)), health


@pytest.mark.parametrize(
    "faults",
    [
        FaultRates(),
        FaultRates(noise=0.1),
        FaultRates(noise_prefix=0.1),
        FaultRates(bad_checksum=0.1),
        FaultRates(split=0.3),
        FaultRates(disconnect=0.05),
        FaultRates(noise=0.05, noise_prefix=0.05, bad_checksum=0.05, split=0.2, disconnect=0.02),
    ],
    ids=["clean", "noise", "noise_prefix", "bad_checksum", "split", "probe_disconnect", "all"],
)
async def test_every_valid_line_stored_once_every_bad_one_counted(
    tmp_path: Path, faults: FaultRates
) -> None:
    ingest, rows, expected, _ = await run_board(tmp_path, faults, 2.5, door_interval=5)
    assert expected["dropped"] == 0
    assert len(expected["temps"]) > 50
    assert rows["temps"] == expected["temps"]
    assert rows["doors"] == expected["doors"]
    assert rows["faults"] == +expected["faults"]
    assert ingest.stats["duplicates"] == 0


async def test_board_reset_is_counted_and_readings_continue(tmp_path: Path) -> None:
    ingest, rows, expected, _ = await run_board(tmp_path, FaultRates(reset=3.0), 2.5)
    assert expected["faults"]["fault:board_reset"] >= 1
    assert rows["temps"] == expected["temps"]
    assert rows["faults"] == +expected["faults"]
    # every reset starts with the DS18B20 power-on value, stored as a fault, never a reading
    assert rows["faults"]["fault:power_on_value"] == 2 * (
        1 + expected["faults"]["fault:board_reset"]
    )
    assert all(c != 8500 for _, c in rows["temps"])


async def test_unplug_and_replug(tmp_path: Path) -> None:
    ingest, rows, expected, health = await run_board(tmp_path, FaultRates(unplug=0.6), 6.0)
    log = read_log(tmp_path / "sim.log")
    assert sum(e["kind"] == "unplug" for e in log) >= 1
    assert rows["temps"] == expected["temps"]
    assert rows["doors"] == expected["doors"]


async def test_reader_reports_missing_port_and_recovers(tmp_path: Path) -> None:
    clock = SystemClock()
    health = Health(clock)
    got: list[Any] = []
    link = tmp_path / "tty"
    reader = SensorReader(
        str(link), 115200, got.append, clock=clock, health=health, reconnect_max=0.2
    )
    task = asyncio.create_task(reader.run())

    async def down() -> bool:
        status = health.get("sensor_link")
        return status is not None and status.state == "error" and str(link) in status.message

    async def temperatures() -> bool:
        return any(isinstance(m, Temperature) for m in got)

    await until(down)
    board = BoardSimulator(link, seed=1, speed=10)
    await board.start()
    await board.run(1.5)
    await until(temperatures)
    board.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert any(isinstance(m, Temperature) for m in got)
    assert not any(isinstance(m, ProtocolError) and m.kind != "power_on_value" for m in got)
    assert reader.connections >= 1


async def test_exclusive_open_refuses_second_reader(tmp_path: Path) -> None:
    from veilcam.sensors.reader import open_port

    board = BoardSimulator(tmp_path / "tty", seed=1)
    port = await board.start()
    first = open_port(port, 115200)
    try:
        with pytest.raises(SensorLinkError, match="cannot open"):
            open_port(port, 115200)
    finally:
        first.close()
        board.close()


async def test_an_outage_is_logged_once_not_per_retry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    health = Health(clock)
    attempts = 0

    def opener(port: str, baudrate: int) -> Any:
        nonlocal attempts
        attempts += 1
        raise SensorLinkError(f"cannot open {port}: no such device")

    reader = SensorReader(
        str(tmp_path / "none"),
        115200,
        lambda m: None,
        clock=clock,
        health=health,
        reconnect_max=1.0,
        opener=opener,
    )

    async def retried(times: int) -> bool:
        clock.advance(1.0)  # the longest back-off
        return attempts >= times

    task = asyncio.create_task(reader.run())
    with caplog.at_level("INFO"):
        await until(lambda: retried(10))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    lines = [r for r in caplog.records if "sensor_link" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelname == "ERROR"


async def test_older_firmware_is_read_and_counted(tmp_path: Path) -> None:
    """Protocol version 1 (XOR-8) is still read; each such line is counted (issue 14)."""
    ingest, rows, expected, _ = await run_board(
        tmp_path, FaultRates(bad_checksum=0.05), 2.5, protocol=1
    )
    assert rows["temps"] == expected["temps"] and len(rows["temps"]) > 50
    assert rows["faults"] == +expected["faults"]
    sent = sum(e["kind"] in ("sent", "sent_with_noise") for e in read_log(tmp_path / "sim.log"))
    assert ingest.stats["protocol_v1_lines"] == sent
