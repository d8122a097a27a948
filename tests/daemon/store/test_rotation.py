"""Media-key rotation: every picture re-encrypted, readable on the way, the old key gone;
and a rotation cut at each of its three steps resumes without losing a picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from veilcam.errors import MediaIntegrityError, StoreError
from veilcam.store import Picture, Store
from veilcam.store import rotation as rot
from veilcam.store.keys import FIRST, key_file


async def fill(store: Store, n: int) -> dict[str, bytes]:
    out = {}
    for i in range(n):
        body = f"picture {i}".encode() * 50
        out[await store.add_picture(Picture("fridge-1", "fridge", "t", body, 1, 1))] = body
    return out


async def all_readable(store: Store, pics: dict[str, bytes]) -> None:
    for media_id, body in pics.items():
        assert await store.read_picture(media_id) == body


async def test_rotation_moves_every_picture_and_destroys_the_old_key(
    store: Store, data_dir: Path
) -> None:
    pics = await fill(store, 40)
    old_file = key_file(data_dir / "keys", FIRST)
    old_key = old_file.read_bytes()
    r = rot.Rotation(store)
    kid = await r.start("admin")
    newer = await fill(store, 3)  # pictures taken during the rotation use the new key
    await all_readable(store, pics | newer)
    progress = await r.finish()
    assert (progress.moved, progress.damaged) == (40, 0)
    assert not old_file.exists()
    assert store.keys is not None and store.keys.retired == []
    await all_readable(store, pics | newer)
    kids = await store.db.read(
        lambda db: {r[0] for r in db.conn.execute("SELECT DISTINCT kid FROM media")}
    )
    assert kids == {kid}
    # none opens under the old key any more (neither as KEK nor as a file key)
    assert store.media is not None
    for media_id in pics:
        with pytest.raises(MediaIntegrityError):
            store.media.read(media_id, old_key)
    actions = await store.db.read(
        lambda db: [r[0] for r in db.conn.execute("SELECT action FROM audit_log")]
    )
    assert actions[-3:] == ["keys.rotate.start", "keys.destroy", "keys.rotate.done"]


async def test_a_second_rotation_waits_for_the_first(store: Store) -> None:
    await fill(store, 2)
    r = rot.Rotation(store)
    await r.start("admin")
    with pytest.raises(StoreError, match="still running .2 pictures left"):
        await r.start("admin")


@pytest.mark.parametrize("cut", ["prepared", "rewritten"])
async def test_a_cut_rotation_resumes(
    store: Store, monkeypatch: pytest.MonkeyPatch, cut: str
) -> None:
    pics = await fill(store, 10)
    r = rot.Rotation(store)
    await r.start("admin")
    real_commit = rot._commit
    real_rewrite = rot.Rotation._rewrite
    calls = {"n": 0}

    class Killed(Exception):
        pass

    def rewrite(self: rot.Rotation, row: dict[str, Any], new: bytes) -> bool:
        calls["n"] += 1
        if cut == "prepared" and calls["n"] == 4:
            raise Killed  # after dek_next was written, before the file
        return real_rewrite(self, row, new)

    def commit(db: Any, media_id: str, kid: str) -> int:
        if cut == "rewritten" and calls["n"] == 4:
            raise Killed  # after the file, before the row
        return real_commit(db, media_id, kid)

    monkeypatch.setattr(rot.Rotation, "_rewrite", rewrite)
    monkeypatch.setattr(rot, "_commit", commit)
    with pytest.raises(Killed):
        await r.finish()
    await all_readable(store, pics)  # readers fall back to dek_next where needed
    monkeypatch.setattr(rot, "_commit", real_commit)
    monkeypatch.setattr(rot.Rotation, "_rewrite", real_rewrite)
    progress = await rot.Rotation(store).finish()
    assert progress.damaged == 0
    await all_readable(store, pics)
    assert store.keys is not None and store.keys.retired == []


async def test_an_erased_picture_is_not_brought_back(store: Store) -> None:
    await fill(store, 3)
    r = rot.Rotation(store)
    await r.start("admin")
    (row,) = await store.db.read(rot._pending, store.keys.current, 1)  # type: ignore[union-attr]
    victim = row["id"]
    await store.db.write(lambda db: db.conn.execute("DELETE FROM media WHERE id = ?", (victim,)))
    await store.delete_media_files([victim])
    await r._move(row, store.keys.current)  # type: ignore[union-attr]
    assert store.media is not None
    assert not store.media.path_for(victim).exists()
