"""The audit-log scanner can fail: planted secrets and shapes are found."""

from __future__ import annotations

import base64
from pathlib import Path

from tests.support.leaks import leaks
from veilcam.clock import FakeClock
from veilcam.config import RetentionConfig
from veilcam.store import Picture, Store, audit


async def test_the_scanner_finds_what_it_looks_for(tmp_path: Path) -> None:
    data = tmp_path / "scan"
    async with Store(data, RetentionConfig(), FakeClock()) as store:
        media_id = await store.add_picture(Picture("c", "fridge", "t", b"\xff\xd8\xffjpeg", 1, 1))
        dek = await store.db.read(
            lambda db: db.conn.execute(
                "SELECT dek FROM media WHERE id = ?", (media_id,)
            ).fetchone()[0]
        )
        planted = [
            "hunter2-correct-horse",
            "\xff\xd8\xff\xe0 raw picture",
            base64.b64encode(b"\xff\xd8\xff" + bytes(90)).decode(),
            "0.125, " * 40,
            dek.hex(),
        ]
        for text in planted:
            await store.audit(audit.Entry("t", "test.plant", detail=text))
    found = leaks(data / "veilcam.db", {"hunter2-correct-horse"})
    assert len(found) >= len(planted)
    # remove the planted rows' evidence from this test's folder for the suite-wide scan
    (data / "veilcam.db").unlink()
    for extra in data.glob("veilcam.db-*"):
        extra.unlink()
