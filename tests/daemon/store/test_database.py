import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.support.aio import until
from veilcam.errors import StoreError
from veilcam.store.database import Database


async def test_writes_run_on_the_writer_thread_and_commit(tmp_path: Path) -> None:
    async with Database(tmp_path / "x.db") as db:
        names = await asyncio.gather(
            *(db.write(lambda d: threading.current_thread().name) for _ in range(50))
        )
        assert set(names) == {"db-writer"}
        await db.write(lambda d: d.conn.execute("CREATE TABLE t (v INTEGER)"))
        await asyncio.gather(
            *(
                db.write(lambda d, i=i: d.conn.execute("INSERT INTO t VALUES (?)", (i,)))
                for i in range(500)
            )
        )
        # group commit: far fewer transactions than jobs
        assert db.commits < 500
        assert (
            await db.read(lambda d: d.conn.execute("SELECT count(*) FROM t").fetchone()[0]) == 500
        )
    # committed means on disk: a fresh connection sees every row
    assert sqlite3.connect(tmp_path / "x.db").execute("SELECT count(*) FROM t").fetchone()[0] == 500


async def test_a_failing_job_does_not_undo_its_neighbours(tmp_path: Path) -> None:
    async with Database(tmp_path / "x.db") as db:
        await db.write(lambda d: d.conn.execute("CREATE TABLE t (v INTEGER CHECK (v > 0))"))
        results = await asyncio.gather(
            db.write(lambda d: d.conn.execute("INSERT INTO t VALUES (1)")),
            db.write(lambda d: d.conn.execute("INSERT INTO t VALUES (-1)")),
            db.write(lambda d: d.conn.execute("INSERT INTO t VALUES (2)")),
            return_exceptions=True,
        )
        assert isinstance(results[1], StoreError) and "CHECK" in str(results[1])
        assert await db.read(
            lambda d: [r[0] for r in d.conn.execute("SELECT v FROM t ORDER BY v")]
        ) == [1, 2]


async def test_event_loop_keeps_running_during_slow_writes(tmp_path: Path) -> None:
    async with Database(tmp_path / "x.db") as db:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        release = threading.Event()
        t = asyncio.create_task(ticker())
        write = asyncio.ensure_future(db.write(lambda d: release.wait(30)))

        async def ticked() -> bool:
            return ticks >= 15  # the loop goes on while the writer thread is held

        await until(ticked)
        assert not write.done()
        release.set()
        await write
        t.cancel()


async def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    async with Database(path):
        pass
    async with Database(path) as db:
        version = await db.read(lambda d: d.conn.execute("PRAGMA user_version").fetchone()[0])
        mode = await db.read(lambda d: d.conn.execute("PRAGMA journal_mode").fetchone()[0])
    assert version >= 1 and mode == "wal"


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    sqlite3.connect(path).execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError, match="newer than this veilcam"):
        async with Database(path):
            pass


async def test_write_after_close_is_refused(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    await db.start()
    await db.close()
    with pytest.raises(StoreError, match="closed"):
        await db.write(lambda d: None)
