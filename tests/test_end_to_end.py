"""The daemon as a user runs it: subprocesses, a real pty, a real SQLite file, real signals."""

from __future__ import annotations

import functools
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.daemon import free_port, status_json, veilcam, wait_for_socket
from tests.support.mail import Smtp
from veilcam.demo.config import assets

pytestmark = pytest.mark.slow

ASSETS = assets()


def test_demo_matches_the_simulators_log(tmp_path: Path) -> None:
    """The demo on simulated time ten times faster: five minutes of the board in 30 s."""
    data = tmp_path / "demo"
    proc = veilcam(
        "demo",
        "--speed",
        "10",
        "--duration",
        "30",
        "--data-dir",
        str(data),
        "--port",
        str(free_port()),
        "--seed",
        "5",
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    status = status_json(data)
    log = [json.loads(line) for line in (data / "sim.log").read_text().splitlines()]
    sent = [e for e in log if e["kind"] in ("sent", "sent_with_noise")]
    temps = sum(e["type"] == "T" and not e["fault"] for e in sent)
    doors = [e for e in sent if e["type"] == "D"]
    bad = sum(e["kind"] in ("noise", "bad_checksum", "sent_with_noise") for e in log)
    probe_faults = sum(e["type"] == "T" and bool(e["fault"]) for e in sent)
    assert temps >= 100
    assert status["temperature_readings"] == temps
    assert status["door_events"] == len(doors)
    assert status["faults"] == bad + probe_faults
    assert status["media_files"] == status["captures"] > 0
    assert status["health"]["sensor_link"]["state"] == "stopped"
    # fridge pictures follow the doors (the last may be cut by the end of the demo)
    conn = sqlite3.connect(data / "veilcam.db")
    triggers = Counter(
        r[0].split(":")[0]
        for r in conn.execute("SELECT trigger FROM media WHERE camera = 'fridge-1'")
    )
    opens = sum(e["open"] for e in doors)
    assert opens >= 1  # the seed makes doors open within the run
    assert opens - 1 <= triggers["door_open"] <= opens
    assert (
        conn.execute(
            "SELECT count(*) FROM media WHERE camera = 'floor-1' AND trigger = 'stream'"
        ).fetchone()[0]
        >= 2
    )
    # every picture went through the real models (none blanked), and says which ran
    for blank_reason, redaction in conn.execute("SELECT blank_reason, redaction FROM media"):
        assert blank_reason is None
        summary = json.loads(redaction)
        assert summary["status"] == "redacted"
        assert {"face_full", "selfie_segmentation"} <= set(summary["models"])
    conn.close()
    verify = subprocess.run(
        [sys.executable, "-m", "veilcam", "verify", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stderr


KILL_CONFIG = """
data_dir = "{data}"
[sensors]
port = "{tty}"
sample_period_ms = 100
[[cameras]]
name = "fridge-1"
purpose = "fridge"
source = {{ kind = "replay", path = "{assets}/fridge" }}
triggers = {{ door_open_delay = "0s", door_close_settle = "0s" }}
[[cameras]]
name = "floor-1"
purpose = "floor"
source = {{ kind = "replay", path = "{assets}/floor" }}
triggers = {{ door_open_delay = "off", door_close_settle = "off" }}
stream = {{ fps = 10, still_interval = "1s" }}
[storage]
min_free_mb = 0
health_interval = "1s"
"""


def snapshot(db: Path) -> tuple[set[str], int, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        ids = {r[0] for r in conn.execute("SELECT id FROM media")}
        temps = conn.execute("SELECT count(*) FROM temperature_readings").fetchone()[0]
        audit = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    finally:
        conn.close()
    return ids, temps, audit


def progressed(db: Path, before: tuple[set[str], int, int], pictures: int) -> bool:
    """At least ``pictures`` new pictures and some new readings committed since ``before``."""
    try:
        ids, temps, _ = snapshot(db)
    except sqlite3.OperationalError:  # not created yet
        return False
    return len(ids - before[0]) >= pictures and temps > before[1]


def wait_until(
    condition: Callable[[], bool], proc: subprocess.Popen[str], seconds: float = 90
) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_sigkill_during_heavy_writing_loses_nothing_committed(tmp_path: Path) -> None:
    data, tty = tmp_path / "data", tmp_path / "tty"
    cfg = tmp_path / "veilcam.toml"
    cfg.write_text(KILL_CONFIG.format(data=data, tty=tty, assets=ASSETS))
    # The simulator logs every line the daemon missed while it was dead: to a file, so a full
    # pipe cannot stall it (and its stop) when the daemon takes longer to come back.
    sim_log = (tmp_path / "sim.err").open("w")
    sim = veilcam(
        "sim-sensors",
        "--link",
        str(tty),
        "--speed",
        "5",
        "--door-interval",
        "2",
        "--seed",
        "9",
        stderr=sim_log,
    )
    try:
        assert sim.stdout is not None and sim.stdout.readline().strip() == str(tty)
        snapshots = [(set[str](), 0, 0)]
        # Killed at different moments of the write pattern: after 4, 2 and 5 new pictures.
        for more in (4, 2, 5):
            daemon = veilcam("run", "--config", str(cfg))
            wait_for_socket(data, daemon)
            capturers = [
                subprocess.Popen(
                    [sys.executable, "-m", "veilcam", "capture", "fridge-1", "--config", str(cfg)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for _ in range(6)
            ]
            wait_until(
                functools.partial(progressed, data / "veilcam.db", snapshots[-1], more), daemon
            )
            snapshots.append(snapshot(data / "veilcam.db"))
            daemon.send_signal(signal.SIGKILL)
            daemon.communicate(timeout=10)
            for c in capturers:
                c.wait(timeout=30)
            if len(snapshots) > 2:  # what the previous life committed survived its kill
                assert snapshots[-2][0] <= snapshots[-1][0]
                assert snapshots[-1][1] > snapshots[-2][1], [
                    (len(a), b, c) for a, b, c in snapshots
                ]
        ids, temps, audits = snapshots[-1]
        assert len(ids) >= 11 and temps >= 10
        # restart: the orphan sweep runs, the daemon carries on, then stops cleanly
        daemon = veilcam("run", "--config", str(cfg))
        wait_for_socket(data, daemon)
        wait_until(lambda: progressed(data / "veilcam.db", snapshots[-1], 1), daemon)
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
        assert daemon.returncode == 0, err[-3000:]
    finally:
        sim.send_signal(signal.SIGINT)
        sim.communicate(timeout=10)
        sim_log.close()
    after_ids, after_temps, after_audits = snapshot(data / "veilcam.db")
    assert ids <= after_ids, "a committed picture disappeared"
    assert after_temps >= temps and after_audits >= audits
    verify = subprocess.run(
        [sys.executable, "-m", "veilcam", "verify", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "database: integrity ok" in verify.stdout and "0 temporary files" in verify.stdout
    files = {p.stem for p in (data / "media").glob("*/*.vcm")}
    assert files == after_ids


def test_demo_warm_night_opens_an_alarm_and_mails_it_once(tmp_path: Path) -> None:
    """`veilcam demo --scenario warm-night --speed 600`, stopped with Ctrl-C once the mail
    has gone, then `veilcam alerts --json` shows the chiller's temperature alarm; the store's
    mail server (aiosmtpd on loopback) is down when the alarm opens and comes back once the
    daemon has failed to deliver: it then gets exactly one alarm email, with cabinet, peak,
    duration."""
    data = tmp_path / "demo"
    port = free_port()
    smtp = Smtp()  # not started: the mail server is down
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "veilcam",
            "demo",
            "--data-dir",
            str(data),
            "--port",
            str(port),
            "--scenario",
            "warm-night",
            "--speed",
            "600",
            "--duration",
            "200",  # a bound: stopped by Ctrl-C as soon as the mail arrived
            "--seed",
            "3",
            "--email-to",
            "manager@demo.example",
            "--smtp",
            f"127.0.0.1:{smtp.port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _failed_deliveries(data) > 0, demo)
        smtp.start()  # the mail server is back
        wait_until(lambda: any("ALARM" in m["Subject"] for m in smtp.inbox.messages), demo)
        demo.send_signal(signal.SIGINT)
        _, err = demo.communicate(timeout=60)
        assert demo.returncode == 0, err[-3000:]
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()
        smtp.stop()
    mails = [m for m in smtp.inbox.messages if "ALARM" in m["Subject"]]
    assert len(mails) == 1, [m["Subject"] for m in smtp.inbox.messages]
    [mail] = mails
    assert mail["To"] == "manager@demo.example" and "dairy temperature" in mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    assert "Cabinet:   dairy" in body
    peak = float(re.search(r"Peak:\s+([-\d.]+) °C", body).group(1))  # type: ignore[union-attr]
    assert peak > 8.0
    assert re.search(r"Duration:\s+\d+ (h \d+ )?min", body)
    conn = sqlite3.connect(f"file:{data / 'veilcam.db'}?mode=ro", uri=True)
    [(attempts,)] = conn.execute(
        "SELECT attempts FROM outbox WHERE channel = 'email' AND subject LIKE '%ALARM%'"
    ).fetchall()
    conn.close()
    assert attempts >= 2  # failed while the server was down, then delivered
    _check_alerts(data)


def _failed_deliveries(data: Path) -> int:
    db = data / "veilcam.db"
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(
                conn.execute("SELECT count(*) FROM outbox WHERE last_error IS NOT NULL").fetchone()[
                    0
                ]
            )
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet (the outbox comes with migration 5)
        return 0


def _check_alerts(data: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "veilcam", "alerts", "--data-dir", str(data), "--json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    alarms = json.loads(out.stdout)
    dairy = [a for a in alarms if a["subject"] == "dairy" and a["rule"] == "temperature"]
    assert dairy and dairy[-1]["level"] == "alarm", alarms
    assert dairy[-1]["peak"] > 8.0
    assert not [a for a in alarms if a["subject"] == "frozen" and a["rule"] == "temperature"]


def test_demo_fridge_runs_down_restock_list_and_a_mailed_stock_alert(tmp_path: Path) -> None:
    """`veilcam demo --speed 10` with the store's mail server (aiosmtpd on loopback): the
    demo fridge is calibrated and its planogram imported, its replay pictures empty facings
    one after another, and a stock alarm is mailed; the checks, the restock list and the
    alert are in the database."""
    from sqlite_utils import Database

    from veilcam.stock import history, queries

    data = tmp_path / "demo"
    smtp = Smtp()
    smtp.start()
    demo = veilcam(
        "demo",
        "--data-dir",
        str(data),
        "--port",
        str(free_port()),
        "--speed",
        "10",
        "--duration",
        "150",  # a bound: stopped by Ctrl-C as soon as the mail arrived
        "--seed",
        "4",
        "--email-to",
        "manager@demo.example",
        "--smtp",
        f"127.0.0.1:{smtp.port}",
    )
    try:
        wait_until(lambda: any("facing empty" in m["Subject"] for m in smtp.inbox.messages), demo)
        demo.send_signal(signal.SIGINT)
        _, err = demo.communicate(timeout=60)
        assert demo.returncode == 0, err[-3000:]
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.communicate()
        smtp.stop()
    [mail] = [m for m in smtp.inbox.messages if "facing empty" in m["Subject"]][:1]
    assert mail["Subject"] == "[veilcam demo-store] ALARM: fridge-1 facing empty"
    body = mail.get_payload(decode=True).decode()
    assert "Fridge:    fridge-1" in body and "(shelf 1, position 4)" in body
    db = Database(data / "veilcam.db")
    db.conn.row_factory = sqlite3.Row  # as the daemon's reader threads read
    checks = queries.checks_job(db, "fridge-1", 0, 1e12)
    assert sum(c["status"] == "ok" for c in checks) >= 5
    latest = queries.latest_job(db, "fridge-1")
    facings = queries.facings_job(db, "fridge-1")
    products = queries.products_job(db)
    items, why = history.restock_list(latest, facings, products, 0.5, 4 * 3600, latest["at"])
    assert why is None and items, "the restock list is empty"
    assert all(i.state in ("empty", "partial", "wrong_product") for i in items)
    alerts = [tuple(a) for a in db.conn.execute("SELECT source, rule FROM alarms")]
    assert ("stock", "facing_empty") in alerts
