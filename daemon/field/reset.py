"""Factory reset: crypto-erase, then wipe. Every key under ``keys/`` (the media keys that wrap
each picture's own key, the reference pictures' key, the face-template key, study upload
keys, the web certificate's key) is overwritten with random bytes, synced and removed first:
from that moment no picture, reference or template on the card can be decrypted, even from a
copy the flash's wear-levelling kept. Then the database and every other file go, and the
board starts as it left the factory (the daemon makes new keys at its next start). The
hash of the device label's recovery code stays: the label is the board's, not the store's.

Only with the daemon stopped: the data directory's lock (the daemon's) is taken first.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import shutil
from pathlib import Path

from veilcam.errors import StoreError
from veilcam.field.console_ops import RECOVERY_FILE

log = logging.getLogger(__name__)

LOCK = "daemon.lock"


def _overwrite(path: Path) -> None:
    size = path.stat().st_size
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, secrets.token_bytes(max(size, 32)))
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def factory_reset(data_dir: Path) -> dict[str, int]:
    """Keys destroyed, then everything else removed; the counts of each."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise StoreError(f"no data directory {data_dir}")
    fd = os.open(data_dir / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                "the daemon is running: stop it first (systemctl stop veilcam)"
            ) from None
        keys = 0
        for path in sorted((data_dir / "keys").rglob("*")) if (data_dir / "keys").is_dir() else []:
            if path.is_file() and not path.is_symlink():
                _overwrite(path)
                path.unlink()
                keys += 1
        if (data_dir / "keys").is_dir():
            _sync_dir(data_dir / "keys")
        log.warning("factory reset: %d keys destroyed in %s", keys, data_dir)
        files = 0
        for entry in sorted(data_dir.iterdir()):
            if entry.name in (LOCK, RECOVERY_FILE):  # the label's code belongs to the board
                continue
            if entry.is_dir() and not entry.is_symlink():
                files += sum(1 for p in entry.rglob("*") if p.is_file())
                shutil.rmtree(entry)
            else:
                if entry.name.startswith("veilcam.db") and entry.is_file():
                    _overwrite(entry)  # the database is not encrypted: its pages go too
                entry.unlink()
                files += 1
        _sync_dir(data_dir)
        return {"keys_destroyed": keys, "files_removed": files}
    finally:
        with contextlib.suppress(OSError):
            (data_dir / LOCK).unlink()
        os.close(fd)
