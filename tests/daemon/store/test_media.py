import os
import sqlite3
import stat
from pathlib import Path

import pytest

from veilcam.errors import MediaIntegrityError, StoreError
from veilcam.store.media import MediaStore, load_or_create_key, new_media_id


@pytest.fixture
def media(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media", load_or_create_key(tmp_path / "keys" / "media.key"))


def test_key_is_created_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "media.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_key(path) == key


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "media.key"
    load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(StoreError, match="readable by others"):
        load_or_create_key(path)


def test_truncated_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "media.key"
    path.write_bytes(b"short")
    os.chmod(path, 0o600)
    with pytest.raises(StoreError, match="5 bytes, expected 32"):
        load_or_create_key(path)


def test_round_trip_and_ciphertext(media: MediaStore) -> None:
    mid = new_media_id()
    secret = b"\xff\xd8 picture bytes " * 100
    size = media.write(mid, secret)
    blob = media.path_for(mid).read_bytes()
    assert size == len(blob) and secret[:32] not in blob
    assert media.read(mid) == secret
    assert stat.S_IMODE(media.path_for(mid).stat().st_mode) == 0o600
    assert media.list_ids() == ({mid}, [])


def test_tampered_or_swapped_files_are_detected(media: MediaStore) -> None:
    a, b = new_media_id(), new_media_id()
    media.write(a, b"A" * 100)
    media.write(b, b"B" * 100)
    pa = media.path_for(a)
    pa.write_bytes(media.path_for(b).read_bytes())  # b's file under a's name
    with pytest.raises(MediaIntegrityError, match="altered"):
        media.read(a)
    data = bytearray(media.path_for(b).read_bytes())
    data[-1] ^= 1
    media.path_for(b).write_bytes(bytes(data))
    with pytest.raises(MediaIntegrityError):
        media.read(b)
    with pytest.raises(MediaIntegrityError, match="no file"):
        media.read(new_media_id())


def test_ids_are_validated(media: MediaStore) -> None:
    with pytest.raises(ValueError, match="not a media id"):
        media.path_for("../../etc/passwd")


def test_sweep_removes_orphans_and_temporaries(media: MediaStore) -> None:
    keep, orphan = new_media_id(), new_media_id()
    media.write(keep, b"k")
    media.write(orphan, b"o")
    tmp = media.path_for(keep).with_suffix(".tmp")
    tmp.write_bytes(b"half written")
    assert media.sweep_orphans({keep}) == 2
    assert media.list_ids() == ({keep}, [])


async def test_one_daemon_per_data_dir(tmp_path: Path) -> None:
    from veilcam.clock import FakeClock
    from veilcam.config import RetentionConfig
    from veilcam.store import Store

    async with Store(tmp_path, RetentionConfig(), FakeClock()):
        with pytest.raises(StoreError, match="another veilcam daemon is using"):
            async with Store(tmp_path, RetentionConfig(), FakeClock()):
                pass
    async with Store(tmp_path, RetentionConfig(), FakeClock()):  # released on exit
        pass


async def test_a_cancelled_picture_is_stored_whole_or_not_at_all(tmp_path: Path) -> None:
    """SIGTERM cancels a capture half-way (the file being written): closing the store lets
    the picture finish, so no file is left without its row, and no row without its file."""
    import asyncio

    from veilcam.clock import FakeClock
    from veilcam.config import RetentionConfig
    from veilcam.store import Store
    from veilcam.store.store import Picture

    data = tmp_path / "data"
    pic = Picture("fridge-1", "fridge", "manual", b"\xff\xd8" + os.urandom(2_000_000), 1, 1)
    async with Store(data, RetentionConfig(), FakeClock()) as store:
        tasks = [asyncio.create_task(store.add_picture(pic)) for _ in range(4)]
        await asyncio.sleep(0.001)  # the file writes are under way
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # As the stopped daemon left it, before any sweep at the next start:
    conn = sqlite3.connect(data / "veilcam.db")
    rows = {r[0] for r in conn.execute("SELECT id FROM media")}
    conn.close()
    files = {p.stem for p in (data / "media").glob("*/*.vcm")}
    assert rows == files and len(rows) == 4
