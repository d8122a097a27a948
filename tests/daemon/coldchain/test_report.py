"""Daily reports against the simulator's own log: a simulated warm-night day goes through
the real line parser and sensor ingest into SQLite, then the report's figures are checked
against what the simulated board says it sent, and its PDF is rendered to PNG."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2
import pytest
from sqlite_utils import Database

from veilcam.clock import FakeClock
from veilcam.coldchain import report
from veilcam.coldchain.report_pdf import to_pdf
from veilcam.config import CabinetConfig, RetentionConfig
from veilcam.events import Hub
from veilcam.health import Health
from veilcam.sensors.ingest import SensorIngest
from veilcam.sensors.protocol import LineSplitter, parse_line
from veilcam.sensors.simulator import BoardSimulator
from veilcam.store import Store

DAY = dt.date(2026, 11, 20)
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "reports"
CABINETS = [
    CabinetConfig(name="dairy", profile="chiller", probe="1", door="1"),
    CabinetConfig(name="frozen", profile="freezer", probe="2"),
]


async def simulate_day(data_dir: Path, scenario: str) -> list[dict[str, Any]]:
    """A day of the board, second by second, through the parser and ingest; its log back."""
    start, _ = report.day_bounds(DAY)
    clock = FakeClock(start)
    log = io.StringIO()
    async with Store(data_dir, RetentionConfig(), clock) as store:
        ingest = SensorIngest(store, clock, Health(clock), Hub())
        splitter = LineSplitter()

        def wire(data: bytes) -> None:
            for line in splitter.feed(data):
                assert isinstance(line, bytes)
                ingest(parse_line(line))

        sim = BoardSimulator(seed=5, scenario=scenario, door_interval=180, log_file=log, wire=wire)
        sim.attached.set()
        for second in range(1, 86_400 - 10):
            clock.advance(1.0)
            sim.advance(1.0)
            await sim.send_due()
            if second % 3600 == 0:
                await ingest.flush()
        await ingest.flush()
    return [json.loads(line) for line in log.getvalue().splitlines()]


def expected(entries: list[dict[str, Any]], probe: str, limit: float) -> dict[str, Any]:
    """The figures straight from the board's log: one reading a second."""
    start, _ = report.day_bounds(DAY)
    temps = [
        (start + e["sim_t"], e["centi_c"] / 100)
        for e in entries
        if e["kind"] == "sent" and e["type"] == "T" and e["probe"] == probe and not e["fault"]
    ]
    values = [v for _, v in temps]
    runs: list[list[tuple[float, float]]] = []  # warm readings, then the first cool one
    for i, (t, v) in enumerate(temps):
        if v > limit:
            if i == 0 or temps[i - 1][1] <= limit:
                runs.append([])
            runs[-1].append((t, v))
        elif runs and runs[-1][-1][1] > limit:
            runs[-1].append((t, v))
    long = [r for r in runs if r[-1][0] - r[0][0] >= report.MIN_EXCURSION]
    doors = [(e["sim_t"], e["open"]) for e in entries if e["kind"] == "sent" and e["type"] == "D"]
    opened, open_time = None, 0.0
    for t, is_open in doors:
        if is_open:
            opened = t
        elif opened is not None:
            open_time += t - opened
            opened = None
    return {
        "readings": len(temps),
        "min": min(values),
        "max": max(values),
        "mean": sum(values) / len(values),
        "above": sum(1 for v in values if v > limit),  # seconds: one reading a second
        "excursions": [(r[0][0], r[-1][0], max(v for _, v in r)) for r in long],
        "brief": len(runs) - len(long),
        "openings": sum(1 for _, is_open in doors if is_open),
        "open_time": open_time,
        "faults": sum(
            1
            for e in entries
            if e["kind"] == "sent" and e["type"] == "T" and e["probe"] == probe and e["fault"]
        ),
    }


@pytest.mark.timeout(300)
async def test_a_warm_night_report_matches_the_simulator_log(data_dir: Path) -> None:
    entries = await simulate_day(data_dir, "warm-night")
    conn = Database(data_dir / "veilcam.db").conn
    rep = report.build(Database(conn), "corner-shop", CABINETS, DAY)
    dairy, frozen = rep.cabinets
    want = expected(entries, "1", 5.0)
    assert dairy.readings == want["readings"] > 86_000
    assert dairy.minimum == pytest.approx(want["min"]) and dairy.maximum == pytest.approx(
        want["max"]
    )
    assert dairy.mean == pytest.approx(want["mean"], abs=1e-9)
    assert dairy.out_of_range == pytest.approx(want["above"], abs=2)
    got = [(round(e.start), round(e.end), e.peak) for e in dairy.excursions]
    assert got == [(round(a), round(b), p) for a, b, p in want["excursions"]]
    assert dairy.brief_excursions == want["brief"] > 0
    longest = max(dairy.excursions, key=lambda e: e.duration)
    assert longest.peak > 15 and 6 * 3600 < longest.duration < 9 * 3600  # the compressor's night
    assert dairy.door_openings == want["openings"] > 100
    assert dairy.door_open_time == pytest.approx(want["open_time"], abs=1e-6)
    assert dairy.faults == want["faults"] == 1  # the power-up 85 °C
    fz = expected(entries, "2", -18.0)
    assert frozen.readings == fz["readings"] and frozen.door_openings is None
    assert frozen.maximum == pytest.approx(fz["max"]) and frozen.out_of_range == pytest.approx(
        fz["above"], abs=2
    )

    rows = list(csv.DictReader(io.StringIO(report.to_csv(rep))))
    summary = {r["cabinet"]: r for r in rows if r["record"] == "summary"}
    assert float(summary["dairy"]["max_c"]) == pytest.approx(want["max"], abs=0.005)
    assert int(summary["dairy"]["door_openings"]) == want["openings"]
    assert int(summary["dairy"]["excursions"]) == len(want["excursions"])
    assert sum(1 for r in rows if r["record"].startswith("excursion")) == len(want["excursions"])

    pdf = to_pdf(rep)
    assert pdf.startswith(b"%PDF")
    doc = pypdfium2.PdfDocument(pdf)
    try:
        page = doc[0]
        image = page.render(scale=2).to_pil()
        text = page.get_textpage().get_text_range()
    finally:
        doc.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image.save(ARTIFACTS / "warm-night.png")
    assert "Cold-chain report: corner-shop" in text and "dairy" in text and "frozen" in text
    assert f"{want['max']:.1f} °C" in text  # the peak, in the excursion table
    px = np.asarray(image.convert("RGB")).astype(int)
    blue = (px[..., 2] > 150) & (px[..., 0] < 80) & (px[..., 1] < 140)  # the temperature line
    red = (px[..., 0] > 170) & (px[..., 1] < 40) & (px[..., 2] < 40)  # the alarm limit
    assert blue.sum() > 2000 and red.sum() > 500


async def test_a_day_without_readings_says_so(data_dir: Path) -> None:
    async with Store(data_dir, RetentionConfig(), FakeClock()):
        pass
    conn = Database(data_dir / "veilcam.db").conn
    rep = report.build(Database(conn), "corner-shop", CABINETS, DAY)
    assert [c.readings for c in rep.cabinets] == [0, 0]
    assert report.to_csv(rep).count("summary") == 2
    doc = pypdfium2.PdfDocument(to_pdf(rep))
    try:
        assert "No readings this day." in doc[0].get_textpage().get_text_range()
    finally:
        doc.close()


def test_excursions_and_time_out_of_range_by_rule() -> None:
    t0, end = 1000.0, 100_000.0
    # 4 °C, then warm from 60 s for three readings, back at 240 s; a warm reading then a
    # ten-minute silence (counted as 5 minutes at most) while still warm at the end.
    pts = [(t0, 4.0), (t0 + 60, 6.0), (t0 + 120, 7.5), (t0 + 180, 6.5), (t0 + 240, 4.5)]
    pts += [(t0 + 300, 5.5), (t0 + 900, 5.2)]
    total, runs = report.temperature_figures(pts, 5.0, end)
    assert [(r.start - t0, r.end - t0, r.peak) for r in runs] == [
        (60, 240, 7.5),
        (300, 600, 5.5),
        (900, 1200, 5.2),
    ]
    assert runs[-1].ongoing and not runs[0].ongoing
    assert total == 180 + 300 + 300


def test_report_cli_writes_csv_and_pdf(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "veilcam.toml"
    config.write_text(
        f'site = "corner-shop"\ndata_dir = "{data}"\n'
        '[[cabinets]]\nname = "dairy"\nprobe = "1"\ndoor = "1"\n'
    )
    import asyncio

    async def make() -> None:
        async with Store(data, RetentionConfig(), FakeClock()):
            pass

    asyncio.run(make())

    def veilcam(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "veilcam", "report", "--config", str(config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )

    out = veilcam("--date", "2026-11-20", "--format", "csv", "-o", "-")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("date,cabinet,record") and "dairy,summary" in out.stdout
    out = veilcam("--date", "2026-11-20", "--format", "pdf")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "coldchain-corner-shop-2026-11-20.pdf").read_bytes().startswith(b"%PDF")
    bad = veilcam("--date", "20/11/2026")
    assert bad.returncode != 0 and "--date: not a date like" in bad.stderr
