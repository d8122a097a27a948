"""The cabinet limits set in the web UI, as the alarm service and the reports read them.
(The alarms themselves are in ``veilcam.alerts.records``.)"""

from __future__ import annotations

from sqlite_utils import Database

LIMIT_KEYS = ("warn_above", "alarm_above")


def overrides_job(db: Database) -> dict[str, dict[str, float]]:
    """Limits set in the UI, by cabinet: settings ``cabinet.NAME.warn_above`` and so on."""
    out: dict[str, dict[str, float]] = {}
    for key, value in db.conn.execute("SELECT key, value FROM settings WHERE key LIKE 'cabinet.%'"):
        _, name, what = key.split(".", 2)
        if what in LIMIT_KEYS:
            out.setdefault(name, {})[what] = float(value)
    return out


def put_limits_job(db: Database, name: str, warn: float, alarm: float, now: float, by: str) -> None:
    """Keep a cabinet's limits across restarts, as the settings page does."""
    db.conn.executemany(
        "INSERT INTO settings (key, value, changed_at, changed_by) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " changed_at = excluded.changed_at, changed_by = excluded.changed_by",
        [
            (f"cabinet.{name}.warn_above", f"{warn:g}", now, by),
            (f"cabinet.{name}.alarm_above", f"{alarm:g}", now, by),
        ],
    )
