"""SQLite with one writer thread fed by a queue of futures, and reads on an executor.

The event loop never touches the database: ``write`` and ``read`` hand a function
to a thread and await its result. The writer groups whatever jobs are waiting
into one transaction (one commit, one WAL append), each job in its own savepoint
so one failing job does not undo its neighbours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from veilcam.errors import StoreError
from veilcam.store.schema import check_version, migrate

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any], asyncio.AbstractEventLoop]

MAX_GROUP = 256  # jobs per transaction
_STOP = object()


def db_path(data_dir: Path) -> Path:
    return data_dir / "veilcam.db"


def private(path: Path, mode: int = 0o600) -> None:
    """Set ``path``'s mode (0600 files, 0700 folders), whatever the umask made it."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        pass
    except PermissionError as exc:  # not ours: say so, the daemon can still run
        log.warning("cannot make %s private (mode %o): %s", path, mode, exc)


def prepare_file(path: Path) -> None:
    """The database file made 0600 before SQLite opens it: SQLite gives a new file 0644
    less the umask, and its -wal and -shm files the database file's mode."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        private(p)


@contextlib.contextmanager
def opened(data_dir: Path, *, readonly: bool = True) -> Iterator[sqlite_utils.Database]:
    """The appliance's database, opened from another process (the CLI, beside a running
    daemon or without one): a clear error if it is missing, is not this veilcam's schema, or
    SQLite refuses it."""
    path = db_path(Path(data_dir))
    if not path.exists():
        raise StoreError(f"no veilcam database in {data_dir} (expected {path.name})")
    try:
        conn = connect(path, readonly=readonly)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from exc
    try:
        check_version(conn)
        yield sqlite_utils.Database(conn)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: {exc}") from exc
    finally:
        conn.close()


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL survives any process crash; only power loss may drop
        # the last commits, and never corrupts.
        conn.execute("PRAGMA synchronous = NORMAL")
        # Deleted rows are overwritten, not left in free pages: a picture's row holds its
        # data key, and erasing the row must destroy the key (crypto-erase).
        conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.row_factory = sqlite3.Row
    return conn


class Database:
    """Owns the writer thread and the read executor of one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._queue: queue.SimpleQueue[Job | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="db-read")
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self.commits = 0

    async def __aenter__(self) -> Database:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        self._thread = threading.Thread(
            target=self._run, args=(loop, ready), name="db-writer", daemon=True
        )
        self._thread.start()
        await ready

    async def close(self) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._thread = None
        self._readers.shutdown(wait=True)
        for conn in self._read_conns:
            conn.close()

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` in the writer thread inside a transaction; await its commit."""
        if self._thread is None:
            raise StoreError("database is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, args, fut, loop))
        return await fut

    async def truncate_wal(self) -> bool:
        """Copy the write-ahead log into the database and empty it, so that the older page
        images it holds (an erased picture's data key among them) are gone too. True when
        done; False when readers kept it busy (the next checkpoint then overwrites it)."""

        def run() -> bool:
            conn = connect(self.path)
            try:
                for _ in range(20):
                    busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                    if not busy:
                        return True
                    time.sleep(0.05)
                return False
            finally:
                conn.close()

        return await asyncio.get_running_loop().run_in_executor(self._readers, run)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` on a read connection in the read executor."""
        return await asyncio.get_running_loop().run_in_executor(
            self._readers, self._read_call, fn, args
        )

    def _read_call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        db = getattr(self._local, "db", None)
        if db is None:
            conn = connect(self.path)
            self._read_conns.append(conn)
            db = self._local.db = sqlite_utils.Database(conn)
        return fn(db, *args)

    # -- writer thread ----------------------------------------------------------

    def _run(self, loop: asyncio.AbstractEventLoop, ready: asyncio.Future[None]) -> None:
        try:
            prepare_file(self.path)
            conn = connect(self.path)
            migrate(conn)
            db = sqlite_utils.Database(conn)
        except Exception as exc:  # noqa: BLE001 - reported to the starter
            err = StoreError(f"cannot open database {self.path}: {exc}")
            loop.call_soon_threadsafe(_settle, ready, None, err)
            return
        loop.call_soon_threadsafe(_settle, ready, None, None)
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                group: list[Job] = [first]  # type: ignore[list-item]
                stop_after = False
                while len(group) < MAX_GROUP:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is _STOP:
                        stop_after = True
                        break
                    group.append(nxt)  # type: ignore[arg-type]
                self._commit_group(conn, db, group)
                if stop_after:
                    return
        finally:
            conn.execute("PRAGMA optimize")
            conn.close()

    def _commit_group(
        self, conn: sqlite3.Connection, db: sqlite_utils.Database, group: list[Job]
    ) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, args, _, _ in group:
                conn.execute("SAVEPOINT job")
                try:
                    result = fn(db, *args)
                except Exception as exc:  # noqa: BLE001 - handed to the job's awaiter
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    outcomes.append((None, _store_error(exc)))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((result, None))
            conn.execute("COMMIT")
            self.commits += 1
        except Exception as exc:  # noqa: BLE001 - the whole group failed to commit
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            err = _store_error(exc)
            log.error("database commit failed: %s", err)
            outcomes = [(None, err)] * len(group)
        for (_, _, fut, loop), (result, error) in zip(group, outcomes, strict=True):
            loop.call_soon_threadsafe(_settle, fut, result, error)


def _store_error(exc: BaseException) -> BaseException:
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
        return StoreError(f"disk full: {exc}")
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreError(f"refused by the database: {exc}")
    return exc


def _settle(fut: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)
