"""`veilcam keys rotate` on a running daemon, killed with SIGKILL half-way: after a restart
every picture reads under the new key and none under the old one, which is gone."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.support.daemon import run, veilcam, wait_for_socket
from veilcam.clock import SystemClock
from veilcam.config import RetentionConfig
from veilcam.errors import MediaIntegrityError
from veilcam.store import Picture, Store
from veilcam.store.keys import KeyRing
from veilcam.store.media import MediaStore

pytestmark = pytest.mark.slow

PICTURES = 2500


def moved(db: Path, old: str) -> tuple[int, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT sum(kid != ?), count(*) FROM media", (old,)).fetchone()
    finally:
        conn.close()
    return int(row[0] or 0), int(row[1])


def test_rotation_survives_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cfg = tmp_path / "veilcam.toml"
    cfg.write_text(f'data_dir = "{data}"\n')

    async def fill() -> dict[str, bytes]:
        out = {}
        async with Store(data, RetentionConfig(), SystemClock()) as store:
            for i in range(PICTURES):
                body = f"picture {i} ".encode() * 40
                out[await store.add_picture(Picture("floor-1", "floor", "t", body, 1, 1))] = body
        return out

    pictures = asyncio.run(fill())
    old_key = (data / "keys" / "media.key").read_bytes()
    conn = sqlite3.connect(data / "veilcam.db")
    old_rows = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, kid, dek FROM media")}
    conn.close()

    log = (tmp_path / "daemon.log").open("w")
    daemon = veilcam("run", "--config", str(cfg), stdout=log, stderr=log)
    try:
        wait_for_socket(data, daemon)
        out = run("keys", "rotate", "--config", str(cfg))
        assert out.returncode == 0, out.stderr
        deadline = time.monotonic() + 60
        while True:
            done, total = moved(data / "veilcam.db", "0")
            if done >= total // 10:
                break
            assert time.monotonic() < deadline, "the rotation never progressed"
            time.sleep(0.01)
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    done, total = moved(data / "veilcam.db", "0")
    assert 0 < done < total, "killed too late to test a resume"
    assert (data / "keys" / "media.key").exists()  # the old key stays until the end

    daemon = veilcam("run", "--config", str(cfg), stdout=log, stderr=log)
    try:
        wait_for_socket(data, daemon)
        deadline = time.monotonic() + 120
        while True:
            out = run("keys", "status", "--json", "--config", str(cfg))
            assert out.returncode == 0, out.stderr
            status = json.loads(out.stdout)
            if not status["old_keys"]:
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
        log.close()
    assert status["left"] == 0 and status["pictures"] == PICTURES
    assert not (data / "keys" / "media.key").exists()

    ring = KeyRing(data / "keys", create=False)
    media = MediaStore(data / "media")
    conn = sqlite3.connect(data / "veilcam.db")
    rows = list(conn.execute("SELECT id, kid, dek, dek_next FROM media"))
    conn.close()
    assert len(rows) == PICTURES
    for media_id, kid, dek, dek_next in rows:
        assert kid == ring.current and dek_next is None
        assert media.read(media_id, ring.unwrap(media_id, kid, dek)) == pictures[media_id]
        with pytest.raises(MediaIntegrityError):
            media.read(media_id, old_key)
        assert old_rows[media_id][1] != dek  # a new data key, not the old one re-wrapped
    verify = run("verify", "--data-dir", str(data))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    conn = sqlite3.connect(data / "veilcam.db")
    actions = [
        r[0] for r in conn.execute("SELECT action FROM audit_log WHERE action LIKE 'keys.%'")
    ]
    conn.close()
    assert actions == ["keys.rotate.start", "keys.destroy", "keys.rotate.done"]
