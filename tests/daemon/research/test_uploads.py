"""Research uploads against a real S3-compatible server on loopback (moto's server): clips
arrive encrypted and decrypt to redacted video; an outage with a restart in between still
delivers every clip exactly once; at day 30 the objects and local copies are gone and the
ledger says so; nothing but encrypted clips and event files ever reaches the bucket."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from tests.daemon.capture.test_clips import AISLE, assert_redacted, open_gate, open_research_gate
from tests.support.aio import until
from tests.support.daemon import DEMO_ASSETS, config_for
from tests.support.s3 import client, credentials_file, proxied, s3_server
from veilcam.capture.clips import ClipWriter, insert_events_job
from veilcam.capture.movement import BODY, Event, PoseFrame
from veilcam.clock import FakeClock
from veilcam.config import UploadsConfig
from veilcam.durations import DAY
from veilcam.health import Health
from veilcam.privacy.service import Privacy
from veilcam.research.uploads import Uploader, unseal
from veilcam.runtime.context import App
from veilcam.runtime.supervisor import running
from veilcam.store import Picture, Store

BUCKET = "research"


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3: str) -> Iterator[Any]:
    c = client(s3)
    c.create_bucket(Bucket=BUCKET)
    yield c
    for obj in c.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        c.delete_object(Bucket=BUCKET, Key=obj["Key"])
    c.delete_bucket(Bucket=BUCKET)


def uploads_toml(endpoint: str, creds: Path) -> str:
    return (
        f'[uploads]\nendpoint = "{endpoint}"\nbucket = "{BUCKET}"\n'
        f'credentials_file = "{creds}"\nretry_min = "1s"\nretry_max = "1m"\n'
    )


def ledger(data_dir: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(data_dir / "veilcam.db") as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM uploads ORDER BY id").fetchall()


@pytest.mark.slow  # the real redactor over whole clips: too slow on the NumPy twins
async def test_clips_arrive_encrypted_and_decrypt_to_redacted_video(
    data_dir: Path, tmp_path: Path, s3: str, bucket: Any
) -> None:
    config = config_for(data_dir, AISLE + uploads_toml(s3, credentials_file(tmp_path)))
    async with running(config) as app:
        assert app.research is not None and app.privacy is not None
        await open_research_gate(app)
        await open_gate(app, "uploads")
        now = app.clock.now()
        await app.research.create(
            app.privacy.act("ada"),
            name="bread shelf",
            purpose="how shoppers reach",
            legal_basis="consent",
            starts_at=now - 60,
            ends_at=now + DAY,
            areas={"aisle-1": "0,0 1,0 1,1 0,1"},
        )

        async def sent() -> bool:
            return any(r["uploaded_at"] and r["part"] == "clip" for r in ledger(data_dir))

        await until(sent, 60)
        row = next(r for r in ledger(data_dir) if r["uploaded_at"] and r["part"] == "clip")
        obj = bucket.get_object(Bucket=BUCKET, Key=row["object_key"])
        blob = obj["Body"].read()
        key = (data_dir / "keys" / "study-1.key").read_bytes()
        mp4 = unseal(key, row["object_key"], blob)
        assert b"ftyp" not in blob[:64] and mp4[4:8] == b"ftyp"
        assert obj["Metadata"]["veilcam-key-id"] == row["key_id"]
        assert len(blob) == row["size"] == obj["ContentLength"]
        frames = sum(1 for _ in av.open(io.BytesIO(mp4)).decode(video=0))
        assert_redacted(app, mp4, frames)

        async def local_copy_gone() -> bool:
            with sqlite3.connect(data_dir / "veilcam.db") as conn:
                return (
                    conn.execute(
                        "SELECT count(*) FROM media WHERE id = ?", (row["media_id"],)
                    ).fetchone()[0]
                    == 0
                )

        await until(local_copy_gone, 20)
        with sqlite3.connect(data_dir / "veilcam.db") as conn:
            disclosed = conn.execute(
                "SELECT d.recipient, d.approved_by FROM disclosed x JOIN disclosures d"
                " ON d.id = x.disclosure_id WHERE x.item = ?",
                (f"media:{row['media_id']}",),
            ).fetchall()
        assert disclosed == [(f"research storage {s3}/{BUCKET}", "ada")]
    assert not any((data_dir / "media").rglob(row["media_id"] + "*"))
    nothing_but_redacted_clips_and_events(app, bucket, data_dir)


EVENT_KEYS = {"track", "at", "kind", "zone", "x", "y", "depth_mm", "duration"}


def plain_numbers(row: dict[str, Any]) -> None:
    """An event, or a pose row whose points are body landmarks as three numbers each."""
    if row["kind"] == "pose":
        assert set(row) == {"track", "at", "kind", "points"}, row
        assert set(row["points"]) == set(BODY), "only body landmarks, never the face's"
        for p in row["points"].values():
            assert p is None or (len(p) == 3 and all(isinstance(v, float) for v in p))
    else:
        assert set(row) <= EVENT_KEYS, row
        assert all(isinstance(v, int | float | str | None) for v in row.values())


def nothing_but_redacted_clips_and_events(app: App, bucket: Any, data_dir: Path) -> None:
    """Every object in the bucket decrypts to a redacted clip or an events file of plain
    numbers (no picture, crop or template in it); no run of a source frame's raw pixels is in
    the database or any object."""
    key = (data_dir / "keys" / "study-1.key").read_bytes()
    sources = [
        np.asarray(Image.open(p).convert("RGB")) for p in sorted(DEMO_ASSETS.glob("floor/*"))
    ]
    # 48-byte runs of raw pixels from the middle of each source picture's rows.
    runs = {src[y, 600:616].tobytes() for src in sources for y in range(100, 700, 50)}
    runs = {r for r in runs if len(set(r)) > 6}  # flat runs would match anything
    stored = [p.read_bytes() for p in data_dir.glob("veilcam.db*")]
    for obj in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        blob = bucket.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        plain = unseal(key, obj["Key"], blob)
        stored.append(plain)
        if obj["Key"].endswith(".events.jsonl.enc"):
            for line in plain.splitlines():
                plain_numbers(json.loads(line))
        else:
            frames = sum(1 for _ in av.open(io.BytesIO(plain)).decode(video=0))
            assert_redacted(app, plain, frames)
    for data in stored:
        assert not [r for r in runs if r in data], "raw pixels of a source frame were kept"


def uploader(store: Store, cfg: UploadsConfig, health: Health | None = None) -> Uploader:
    """The uploader as the daemon builds it, on ``store``'s clock (its gate is not asked:
    the tests call ``once`` themselves)."""
    config = config_for(store.data_dir)
    privacy = Privacy(store, config, store.clock)
    return Uploader(store, store.clock, health or Health(store.clock), cfg, privacy, "store")


async def seed_clips(store: Store, n: int) -> list[str]:
    """``n`` short clips of a study under open gates, as the recorder stores them."""
    now = store.clock.now()

    def study(db: Any) -> None:
        for feature in ("research", "uploads"):
            db.conn.execute(
                "INSERT INTO gates (feature, legal_basis, purpose, dpia_ref, signage,"
                " proposed_by, proposed_at, state, decided_by, decided_at) VALUES (?, 'consent',"
                " 'p', 'D-1', 'A4', 'ada', ?, 'open', 'ben', ?)",
                (feature, now, now),
            )
        db.conn.execute(
            "INSERT INTO studies (name, purpose, legal_basis, starts_at, ends_at, cameras,"
            " areas, gate_id, created_by, created_at) VALUES ('s', 'p', 'consent', ?, ?,"
            " '[\"aisle-1\"]', '{}', 1, 'ada', ?)",
            (now - 60, now + 7 * DAY, now),
        )

    await store.db.write(study)
    ids = []
    for i in range(n):
        writer = ClipWriter(64, 48, 5, now)
        for k in range(3):
            writer.add(np.full((48, 64, 3), 40 * i + k, np.uint8), now + k / 5, blank=False)
        ids.append(
            await store.add_picture(
                Picture(
                    "aisle-1",
                    "clip",
                    "study",
                    writer.finish(),
                    64,
                    48,
                    study_id=1,
                    duration=0.6,
                    frames=3,
                    blank_frames=0,
                )  # fmt: skip
            )
        )
    return ids


async def test_an_outage_and_a_restart_deliver_every_clip_once(
    data_dir: Path, tmp_path: Path, s3: str, bucket: Any
) -> None:
    clock = FakeClock()
    config = config_for(data_dir)
    async with proxied(s3) as proxy:
        cfg = UploadsConfig(
            endpoint=f"http://127.0.0.1:{proxy.port}",
            bucket=BUCKET,
            credentials_file=str(credentials_file(tmp_path)),
            retry_min=5.0,
            retry_max=60.0,
        )
        await proxy.cut()
        async with Store(data_dir, config.retention, clock) as store:
            ids = await seed_clips(store, 3)
            health = Health(clock)
            up = uploader(store, cfg, health)
            await up.once()
            assert "cannot reach" in health.get("uploads").message  # type: ignore[union-attr]
            assert "nothing recorded is lost" in health.get("uploads").message  # type: ignore[union-attr]
        rows = ledger(data_dir)
        assert len(rows) == 6 and all(r["uploaded_at"] is None for r in rows)
        assert all(r["attempts"] == 1 and "cannot reach" in r["last_error"] for r in rows)

        # The daemon restarts; the storage comes back.
        await proxy.restore()
        clock.advance(6)
        async with Store(data_dir, config.retention, clock) as store:
            up = uploader(store, cfg)
            await up.once()
            await up.once()  # nothing more to send
            left = await store.db.read(
                lambda db: db.conn.execute("SELECT count(*) FROM media").fetchone()[0]
            )
        keys = sorted(o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET)["Contents"])
        assert len(keys) == len(set(keys)) == 6
        assert {k.split("/")[-1].split(".")[0] for k in keys} == set(ids)
        rows = ledger(data_dir)
        assert all(r["uploaded_at"] and r["attempts"] == 2 for r in rows)
        assert left == 0, "local copies go once every part is confirmed"
        assert not [p for p in (data_dir / "media").rglob("*") if p.is_file()]

        # Day 30 after recording: deleted there too, and the ledger says when.
        clock.advance(30 * DAY)
        async with Store(data_dir, config.retention, clock) as store:
            up = uploader(store, cfg)
            await up.once()
        assert bucket.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []
        assert all(r["deleted_at"] is not None for r in ledger(data_dir))
        # Only encrypted objects ever went: the events files are JSON Lines inside.
        key = (data_dir / "keys" / "study-1.key").read_bytes()
        assert key and len(key) == 32


async def test_events_and_poses_arrive_as_parquet(
    data_dir: Path, tmp_path: Path, s3: str, bucket: Any
) -> None:
    import pyarrow.parquet as pq

    clock = FakeClock()
    config = config_for(data_dir)
    cfg = UploadsConfig(
        endpoint=s3,
        bucket=BUCKET,
        credentials_file=str(credentials_file(tmp_path)),
        events_format="parquet",
    )
    wrist = (0.8, 0.45, 0.9)
    points = tuple(wrist if name == "right_wrist" else None for name in BODY)
    async with Store(data_dir, config.retention, clock) as store:
        (clip,) = await seed_clips(store, 1)
        events = [Event(0, 0.0, "enter", x=0.1, y=0.9), Event(0, 0.4, "reach", "bread", 0.8, 0.45)]
        poses = [PoseFrame(0, 0.2, points), PoseFrame(0, 0.4, points)]
        await store.db.write(insert_events_job, clip, 1, events, clock.now() + DAY, poses)
        await uploader(store, cfg).once()
    row = next(r for r in ledger(data_dir) if r["part"] == "events")
    assert row["object_key"].endswith(f"{clip}.events.parquet.enc") and row["uploaded_at"]
    key = (data_dir / "keys" / "study-1.key").read_bytes()
    blob = bucket.get_object(Bucket=BUCKET, Key=row["object_key"])["Body"].read()
    table = pq.read_table(io.BytesIO(unseal(key, row["object_key"], blob))).to_pylist()
    assert [(r["kind"], r["at"]) for r in table] == [
        ("enter", 0.0), ("pose", 0.2), ("reach", 0.4), ("pose", 0.4)
    ]  # fmt: skip
    pose = table[1]
    assert pose["right_wrist"] == pytest.approx(list(wrist)) and pose["left_wrist"] is None
    assert table[2]["zone"] == "bread" and table[2]["right_wrist"] is None
    assert not {"nose", "left_eye", "mouth_left"} & set(table[0])


def test_parquet_needs_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    with pytest.raises(ValueError, match=r"needs pyarrow.*veilcam\[parquet\]"):
        UploadsConfig(
            endpoint="http://127.0.0.1:9", bucket="b", credentials_file="x", events_format="parquet"
        )


async def test_a_missing_bucket_is_named_and_nothing_is_lost(
    data_dir: Path, tmp_path: Path, s3: str
) -> None:
    clock = FakeClock()
    config = config_for(data_dir)
    cfg = UploadsConfig(
        endpoint=s3, bucket="no-such-bucket", credentials_file=str(credentials_file(tmp_path))
    )
    async with Store(data_dir, config.retention, clock) as store:
        await seed_clips(store, 1)
        health = Health(clock)
        await uploader(store, cfg, health).once()
        assert "no bucket 'no-such-bucket'" in health.get("uploads").message  # type: ignore[union-attr]
        kept = await store.db.read(
            lambda db: db.conn.execute("SELECT count(*) FROM media").fetchone()[0]
        )
    assert kept == 1 and all(r["uploaded_at"] is None for r in ledger(data_dir))


def test_credentials_must_be_private(tmp_path: Path) -> None:
    from veilcam.errors import ConfigError
    from veilcam.research.uploads import credentials

    path = credentials_file(tmp_path)
    assert credentials(str(path))[0] == "veilcam-test-key"
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        credentials(str(path))
    path.chmod(0o600)
    path.write_text('access_key_id = "x"\n')
    with pytest.raises(ConfigError, match="lacks secret_access_key"):
        credentials(str(path))


async def test_a_restricted_clip_is_not_uploaded(
    data_dir: Path, tmp_path: Path, s3: str, bucket: Any
) -> None:
    clock = FakeClock()
    config = config_for(data_dir)
    cfg = UploadsConfig(
        endpoint=s3, bucket=BUCKET, credentials_file=str(credentials_file(tmp_path))
    )
    async with Store(data_dir, config.retention, clock) as store:
        held, free = await seed_clips(store, 2)
        up = uploader(store, cfg)
        await store.db.write(lambda db: up_enqueue(db, clock.now()))
        await store.db.write(
            lambda db: db.conn.execute("UPDATE media SET restricted_by = 7 WHERE id = ?", (held,))
        )
        await up.once()
    keys = [o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys and all(free in k for k in keys) and not any(held in k for k in keys)


def up_enqueue(db: Any, now: float) -> None:
    from veilcam.research.uploads import enqueue_job

    enqueue_job(db, now, "store/")


async def test_an_objection_withdraws_uploaded_clips(
    data_dir: Path, tmp_path: Path, s3: str, bucket: Any
) -> None:
    from veilcam.privacy import requests
    from veilcam.privacy.scope import Act, Scope

    clock = FakeClock()
    config = config_for(data_dir)
    cfg = UploadsConfig(
        endpoint=s3, bucket=BUCKET, credentials_file=str(credentials_file(tmp_path))
    )
    async with Store(data_dir, config.retention, clock) as store:
        await seed_clips(store, 2)
        up = uploader(store, cfg)
        await up.once()
        assert len(bucket.list_objects_v2(Bucket=BUCKET)["Contents"]) == 4
        now = clock.now()
        act = Act("ada", now, now + DAY, now + DAY)
        req = await store.db.write(
            lambda db: requests.create_job(
                db,
                act,
                kind="objection",
                received_at=now,
                channel="counter",
                identity_check="receipt",
                description="the shopper in the green coat",
                scope=Scope(("aisle-1",), now - 600, now + 60),
                processing="research",
                correction=None,
                days=7,
            )  # fmt: skip
        )
        out = await store.db.write(lambda db: requests.object_job(db, act, req, None))
        assert out["withdrawn"] == 4
        await up.once()
    assert bucket.list_objects_v2(Bucket=BUCKET).get("Contents", []) == []
    assert all(r["deleted_at"] is not None for r in ledger(data_dir))


async def test_credentials_the_server_refuses_are_named(data_dir: Path, tmp_path: Path) -> None:
    from tests.support.s3 import s3_server

    clock = FakeClock()
    config = config_for(data_dir)
    with s3_server(checks_keys=True) as endpoint:
        cfg = UploadsConfig(
            endpoint=endpoint, bucket=BUCKET, credentials_file=str(credentials_file(tmp_path))
        )
        async with Store(data_dir, config.retention, clock) as store:
            await seed_clips(store, 1)
            health = Health(clock)
            await uploader(store, cfg, health).once()
            message = health.get("uploads").message  # type: ignore[union-attr]
    assert "credentials refused by the server" in message, message
    assert all(r["uploaded_at"] is None and r["attempts"] == 1 for r in ledger(data_dir))
