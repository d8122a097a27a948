"""A real S3-compatible server on loopback (moto's server, started and stopped by the
tests), and a TCP proxy in front of it that a test can cut to make an outage without
losing what the server holds."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from tests.support.daemon import free_port

ACCESS, SECRET = "veilcam-test-key", "veilcam-test-secret"


def moto_server() -> str:
    found = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    assert Path(found).exists(), "moto_server is missing: pip install 'moto[server]'"
    return found


@contextlib.contextmanager
def s3_server(*, checks_keys: bool = False) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a fresh moto S3 server, stopped afterwards; with
    ``checks_keys`` it refuses every request whose access key it does not know."""
    port = free_port()
    env = {**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "1"}
    if checks_keys:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
    proc = subprocess.Popen(
        [moto_server(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert proc.poll() is None, "moto_server exited"
            assert time.monotonic() < deadline, "moto_server did not start"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()


def client(endpoint: str):  # type: ignore[no-untyped-def]
    """A plain (blocking) S3 client, for the tests' own looking."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS,
        aws_secret_access_key=SECRET,
    )


def credentials_file(folder: Path) -> Path:
    path = folder / "s3.toml"
    path.write_text(f'access_key_id = "{ACCESS}"\nsecret_access_key = "{SECRET}"\n')
    path.chmod(0o600)
    return path


class Proxy:
    """Forwards 127.0.0.1:port to the server while ``up``; refuses connections (and cuts
    the open ones) while down: an outage on the way to storage that keeps its contents."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.port = free_port()
        self.up = True
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> Proxy:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._conns):
                w.close()
            await self._server.wait_closed()
            self._server = None

    async def cut(self) -> None:
        self.up = False
        await self.stop()

    async def restore(self) -> None:
        self.up = True
        await self.start()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self._conns |= {writer, up_w}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
        self._conns -= {writer, up_w}


@contextlib.asynccontextmanager
async def proxied(endpoint: str) -> AsyncIterator[Proxy]:
    async with Proxy(int(endpoint.rsplit(":", 1)[1])) as proxy:
        yield proxy
