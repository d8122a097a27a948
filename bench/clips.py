"""Research clips and uploads: the whole daemon recording a research camera's 720p clips at
15 fps (grab, redaction on two workers, H.264, encryption, storage) for five minutes, beside
H.264 encoding alone; and uploading the clips to an S3 server on loopback, beside plain PUTs
of the same bytes.

    python bench/clips.py [--seconds 300] [--json]

The camera replays the demo's shop-floor pictures (1280x720, a shopper in some) through a
study that covers the whole view, so every frame is recorded. Reported: frames recorded per
second of wall time, the share of the 15 fps schedule dropped (a frame not recorded in its
slot), and the upload rate in MB/s.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FPS = 15.0
FLOOR = ROOT / "daemon" / "demo" / "assets" / "floor"


def encoding_alone(seconds: float = 10.0) -> float:
    """Frames per second H.264 takes of the same 720p pictures, one encoder thread."""
    from veilcam.capture.clips import ClipWriter

    frames = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(FLOOR.glob("*.jpg"))]
    writer = ClipWriter(1280, 720, FPS, 0.0)
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        writer.add(frames[n % len(frames)], n / FPS, blank=False)
        n += 1
    writer.finish()
    return n / (time.perf_counter() - t0)


async def record(data: Path, seconds: float) -> dict[str, float]:
    from tests.daemon.capture.test_clips import open_research_gate, start_study
    from tests.support.daemon import config_for
    from veilcam.runtime.supervisor import running

    extra = (
        '[[cameras]]\nname = "aisle-1"\npurpose = "research"\n'
        'research_basis = "bench"\n'
        f'source = {{ kind = "replay", path = "{FLOOR}" }}\n'
        f'clips = {{ fps = {FPS:g}, seconds = "60s", linger = "10s" }}\n'
    )
    async with running(config_for(data, extra)) as app:
        await open_research_gate(app)
        await start_study(app, {"aisle-1": "0,0 1,0 1,1 0,1"})
        t0 = time.perf_counter()
        await asyncio.sleep(seconds)
        wall = time.perf_counter() - t0
    # Stopping stored the clip being recorded: every frame is in the table now.
    with sqlite3.connect(data / "veilcam.db") as conn:
        rows = conn.execute(
            "SELECT frames, blank_frames, redaction FROM media WHERE kind = 'clip'"
        ).fetchall()
    frames = sum(r[0] for r in rows)
    dropped = sum(json.loads(r[2]).get("dropped", 0) for r in rows)
    blank = sum(r[1] for r in rows)
    return {
        "wall_s": round(wall, 1),
        "frames": frames,
        "dropped": dropped,
        "blank": blank,
        "clips": len(rows),
        "fps": frames / wall,
        "dropped_share": dropped / max(1, frames + dropped),
    }


async def upload(data: Path) -> dict[str, float]:
    """Seal and PUT every recorded clip to moto's server, beside plain PUTs of the clips."""
    from tests.support.s3 import client, credentials_file, s3_server
    from veilcam.clock import SystemClock
    from veilcam.config import RetentionConfig, UploadsConfig
    from veilcam.health import Health
    from veilcam.research.uploads import Uploader
    from veilcam.store import Store

    with s3_server() as endpoint:
        c = client(endpoint)
        c.create_bucket(Bucket="bench")
        cfg = UploadsConfig(
            endpoint=endpoint, bucket="bench", credentials_file=str(credentials_file(data))
        )
        clock = SystemClock()
        async with Store(data, RetentionConfig(), clock) as store:
            ids = await store.db.read(
                lambda db: [r[0] for r in db.conn.execute("SELECT id FROM media WHERE kind='clip'")]
            )
            blobs = [await store.read_picture(i) for i in ids]
            total = sum(len(b) for b in blobs)
            t0 = time.perf_counter()
            for i, b in enumerate(blobs):
                c.put_object(Bucket="bench", Key=f"plain/{i}", Body=io.BytesIO(b))
            plain = time.perf_counter() - t0

            class Gates:
                open_gates = {"uploads": {}}

            up = Uploader(store, clock, Health(clock), cfg, Gates(), "bench")  # type: ignore[arg-type]
            t0 = time.perf_counter()
            while (
                await store.db.read(
                    lambda db: db.conn.execute(
                        "SELECT count(*) FROM uploads WHERE uploaded_at IS NULL"
                    ).fetchone()[0]
                )
                or not up.progress.sent
            ):
                await up.once()
            ours = time.perf_counter() - t0
    return {
        "clips": len(blobs),
        "mb": total / 1e6,
        "ours_mb_s": total / 1e6 / ours,
        "anchor_mb_s": total / 1e6 / plain,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        rec = asyncio.run(record(data, args.seconds))
        up = asyncio.run(upload(data))
    enc = encoding_alone()
    rows = [
        {
            "measure": f"research clips: 720p at {FPS:g} fps, two cores, redaction + H.264, "
            f"{rec['wall_s']:.0f} s",
            "ours_fps": round(rec["fps"], 1),
            "dropped_share": round(rec["dropped_share"], 4),
            "frames": rec["frames"],
            "clips": rec["clips"],
            "blank": rec["blank"],
            "anchor": "H.264 of the same frames alone, one thread",
            "anchor_fps": round(enc, 1),
            "target_fps": FPS,
        },
        {
            "measure": f"research uploads: {up['clips']} clips, {up['mb']:.1f} MB, sealed, "
            "to an S3 server on loopback",
            "ours_mb_s": round(up["ours_mb_s"], 1),
            "anchor": "plain PUTs of the same clips",
            "anchor_mb_s": round(up["anchor_mb_s"], 1),
            "ratio": round(up["ours_mb_s"] / up["anchor_mb_s"], 2),
        },
    ]
    for row in rows:
        print(json.dumps(row) if args.json else row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
