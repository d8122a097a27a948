"""The audit log checked against heads that left the box: deleting the newest entries, or
rebuilding the whole log from a new genesis, leaves a chain that verifies by itself; the
published heads show both, naming the entry."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from veilcam.alerts.anchor import AuditAnchor
from veilcam.cli import main
from veilcam.clock import FakeClock
from veilcam.config import RetentionConfig
from veilcam.durations import DAY, HOUR
from veilcam.store import Store, audit
from veilcam.store.anchor import parse_heads


async def entries(data_dir: Path, clock: FakeClock, n: int, what: str = "x") -> None:
    async with Store(data_dir, RetentionConfig(), clock) as store:
        for i in range(n):
            clock.advance(1)
            await store.audit(audit.Entry("tester", f"test.{what}", str(i)))


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def head(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> str:
    rc, out, _ = cli(capsys, "audit", "head", "--data-dir", str(data_dir), "--config", "/none")
    assert rc == 0
    return out.strip()


async def published(
    data_dir: Path, clock: FakeClock, tmp: Path, capsys: pytest.CaptureFixture[str]
) -> Path:
    """Two heads sent away, with other text between, as a saved e-mail would hold them."""
    await entries(data_dir, clock, 5)
    first = head(data_dir, capsys)
    await entries(data_dir, clock, 5)
    heads = tmp / "heads.txt"
    heads.write_text(
        f"From: veilcam\n\n{first}\n\nsome other line {{not json\n> {head(data_dir, capsys)}\n"
    )
    return heads


def verify(data_dir: Path, heads: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return cli(
        capsys,
        "audit",
        "verify",
        "--against",
        str(heads),
        "--data-dir",
        str(data_dir),
        "--config",
        "/none",
    )


async def test_untouched_log_matches_every_head(
    data_dir: Path, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    heads = await published(data_dir, clock, tmp_path, capsys)
    assert [h.id for h in parse_heads(heads.read_text())] == [5, 10]
    rc, out, err = verify(data_dir, heads, capsys)
    assert rc == 0 and "published heads: 2; 2 match" in out, err


async def test_newest_entries_deleted(
    data_dir: Path, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    heads = await published(data_dir, clock, tmp_path, capsys)
    with sqlite3.connect(data_dir / "veilcam.db") as conn:
        conn.execute("DELETE FROM audit_log WHERE id > 7")
    rc, out, _ = cli(capsys, "verify", "--data-dir", str(data_dir), "--config", "/none")
    assert "chain intact" in out  # the chain alone cannot tell
    rc, out, err = verify(data_dir, heads, capsys)
    assert rc == 1
    # (veilcam verify's own entry became entry 8)
    assert "entry 10 (a published head) is missing: the log ends at entry 8" in err
    assert "1 match" in out  # entry 5 still stands


async def test_log_rebuilt_from_a_new_genesis(
    data_dir: Path, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    heads = await published(data_dir, clock, tmp_path, capsys)
    with sqlite3.connect(data_dir / "veilcam.db") as conn:
        conn.execute("DELETE FROM audit_log")
    await entries(data_dir, clock, 12, "rebuilt")  # a whole new chain, ids from 1 again
    rc, out, _ = cli(capsys, "verify", "--data-dir", str(data_dir), "--config", "/none")
    assert "chain intact" in out
    rc, out, err = verify(data_dir, heads, capsys)
    assert rc == 1
    assert "entry 5: its hash is not the published one; the log was rewritten" in err
    assert "entry 10: its hash is not the published one" in err


async def test_heads_past_retention_are_not_problems(
    data_dir: Path, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    heads = await published(data_dir, clock, tmp_path, capsys)
    with sqlite3.connect(data_dir / "veilcam.db") as conn:  # the old end, as the reaper takes
        conn.execute("DELETE FROM audit_log WHERE id <= 6")
    # The fake clock's heads are from 2026-01-01, past the default 183 days: excused.
    rc, out, _ = verify(data_dir, heads, capsys)
    assert rc == 0 and "1 match, 1 older than the log keeps" in out


async def test_old_end_cut_within_retention(
    data_dir: Path, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    heads = await published(data_dir, clock, tmp_path, capsys)
    recent = [
        json.loads(ln[ln.index("{") :]) for ln in heads.read_text().splitlines() if '{"' in ln
    ]
    heads.write_text("".join(json.dumps({**h, "at": time.time() - 3600}) + "\n" for h in recent))
    with sqlite3.connect(data_dir / "veilcam.db") as conn:
        conn.execute("DELETE FROM audit_log WHERE id <= 6")
    rc, _, err = verify(data_dir, heads, capsys)
    assert rc == 1 and "entry 5 (a published head) is missing from the log's old end" in err


def test_a_file_without_heads_is_refused(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "nothing.txt"
    empty.write_text('hello\n{"id": "x"}\n')
    rc, _, err = verify(data_dir, empty, capsys)
    assert rc == 2 and "no published audit heads in it" in err


async def test_head_mailed_once_a_day(store: Store, clock: FakeClock) -> None:
    await store.audit(audit.Entry("tester", "test.x"))
    anchor = AuditAnchor(store, "shop-7", None)
    assert not await anchor.mail_if_due()  # a new box: its first head goes out a day on
    clock.advance(DAY)
    assert await anchor.mail_if_due()
    clock.advance(HOUR)
    await store.audit(audit.Entry("tester", "test.y"))
    assert not await anchor.mail_if_due()  # the same day
    clock.advance(DAY)
    assert await anchor.mail_if_due()
    rows = await store.db.read(
        lambda db: db.conn.execute("SELECT subject, body FROM outbox ORDER BY id").fetchall()
    )
    assert [r[0] for r in rows][0] == "[veilcam shop-7] audit log head 1"
    mailed = [h for r in rows for h in parse_heads(r[1])]
    assert [h.id for h in mailed] == [1, 2]  # x, then y (mailing is no audit entry)
    assert json.loads(rows[1][1].splitlines()[2])["site"] == "shop-7"
