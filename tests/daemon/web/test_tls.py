"""HTTPS by default: a certificate made on first start, the key 0600, the fingerprint the
browser shows printed by `veilcam status`, HSTS on every answer."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from pathlib import Path

import aiohttp
import msgspec
import pytest

from tests.support.aio import until
from tests.support.daemon import config_for, free_port
from veilcam.cli import main
from veilcam.config import WebConfig
from veilcam.runtime.supervisor import running
from veilcam.web import tls
from veilcam.web.app import serve


async def test_https_with_a_certificate_made_on_first_start(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    async with running(config_for(data_dir)) as app:
        server = asyncio.create_task(serve(app, WebConfig(port=port)))
        try:
            await until(lambda: listening(port))
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            async with aiohttp.ClientSession() as http:
                async with http.get(f"https://127.0.0.1:{port}/login", ssl=ctx) as r:
                    assert r.status == 200
                    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
                    assert "Secure" in r.headers["Set-Cookie"]
            pem = await asyncio.to_thread(ssl.get_server_certificate, ("127.0.0.1", port))
            der = ssl.PEM_cert_to_DER_cert(pem)
        finally:
            server.cancel()
            await asyncio.gather(server, return_exceptions=True)
    crt, key = tls.paths(data_dir)
    assert key.stat().st_mode & 0o777 == 0o600
    seen = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    assert tls.fingerprint(crt) == seen
    assert await asyncio.to_thread(main, ["status", "--data-dir", str(data_dir)]) == 0
    assert f"web UI certificate SHA-256: {seen}" in capsys.readouterr().out


def test_plain_http_only_on_loopback() -> None:
    assert WebConfig(host="127.0.0.1", tls=False).tls is False
    with pytest.raises(msgspec.ValidationError, match="only allowed on loopback"):
        msgspec.convert({"host": "0.0.0.0", "tls": False}, WebConfig)


async def listening(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


def test_the_certificate_says_what_it_is_for_and_where(tmp_path: Path) -> None:
    """Issue 14, finding 13: key usage, server authentication, and the board's LAN address."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    crt, key = tls.ensure_certificate(tmp_path, "store", listen="192.0.2.7")
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and not usage.value.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert {"127.0.0.1", "192.0.2.7"} <= ips
    assert crt.stat().st_mode & 0o777 == 0o600 and key.stat().st_mode & 0o777 == 0o600


def test_tls12_offers_no_cbc_suite(tmp_path: Path) -> None:
    crt, key = tls.ensure_certificate(tmp_path, "store")
    ctx = tls.server_context(crt, key)
    suites = [c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.2"]
    assert suites and all("GCM" in s or "CHACHA20" in s for s in suites), suites
    assert all(s.startswith("ECDHE") for s in suites)


async def test_slow_and_idle_clients_are_closed(data_dir: Path) -> None:
    """Issue 14, finding 9: idle TLS connections and one-header-every-few-seconds clients
    stayed connected past 120 s; now the header timeout closes them."""
    import time

    port = free_port()
    async with running(config_for(data_dir)) as app:
        server = asyncio.create_task(serve(app, WebConfig(port=port, header_timeout=1.0)))
        try:
            await until(lambda: listening(port))
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE

            async def held(trickle: bool) -> float:
                reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx)
                t0 = time.monotonic()
                if trickle:
                    writer.write(b"GET /login HTTP/1.1\r\n")
                    while not reader.at_eof() and time.monotonic() - t0 < 10:
                        await asyncio.sleep(0.3)
                        writer.write(b"X-Slow: 1\r\n")
                        with contextlib.suppress(ConnectionError):
                            await writer.drain()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(reader.read(1), 0.01)
                else:
                    await asyncio.wait_for(reader.read(), 10)
                writer.close()
                return time.monotonic() - t0

            idle, slow = await asyncio.gather(held(False), held(True))
            assert idle < 3 and slow < 3, (idle, slow)
        finally:
            server.cancel()
            await asyncio.gather(server, return_exceptions=True)
