"""Issue 14, finding 6: nothing the appliance keeps is readable by another local user,
whatever the umask it was started with."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import config_for
from veilcam import certificate as tls
from veilcam.accounts import Accounts
from veilcam.runtime.supervisor import running


@pytest.fixture
def loose_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> dict[str, int]:
    out = {".": root.stat().st_mode & 0o777}
    for p in root.rglob("*"):
        st = p.lstat()
        if stat.S_ISSOCK(st.st_mode) or stat.S_ISLNK(st.st_mode):
            continue
        out[str(p.relative_to(root))] = st.st_mode & 0o777
    return out


def assert_private(root: Path) -> None:
    for name, mode in modes(root).items():
        path = root / name
        want = 0o700 if path.is_dir() else 0o600
        assert mode == want, f"{name}: mode {mode:o}, want {want:o}"


async def test_a_new_data_directory_is_private_under_umask_0(
    tmp_path: Path, loose_umask: None
) -> None:
    data = tmp_path / "data"
    async with running(config_for(data)) as app:
        await Accounts(app.store).add("maria", "manager", "correct horse battery", actor="t")
        tls.ensure_certificate(data, "store")
        names = set(modes(data))
        assert {"veilcam.db", "veilcam.db-wal", "veilcam.db-shm", "keys/media.key"} <= names
        assert_private(data)
    assert_private(data)


async def test_an_existing_loose_directory_is_made_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with running(config_for(data)):
        pass
    os.chmod(data, 0o755)
    for name in ("veilcam.db", "veilcam.db-wal", "veilcam.db-shm"):
        if (data / name).exists():
            os.chmod(data / name, 0o644)
    async with running(config_for(data)):
        assert_private(data)
