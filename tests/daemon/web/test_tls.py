"""HTTPS by default: a certificate made on first start, the key 0600, the fingerprint the
browser shows printed by `veilcam status`, HSTS on every answer."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import ssl
from pathlib import Path

import aiohttp
import msgspec
import pytest

from tests.support.aio import until
from tests.support.daemon import config_for, free_port
from veilcam import certificate as tls
from veilcam.cli import main
from veilcam.config import WebConfig
from veilcam.runtime.supervisor import running
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


def _served_sha256(port: int) -> str:
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    return ":".join(f"{b:02X}" for b in hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest())


def _ca_issued(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A certificate from a chain's own CA, its key, and a key that does not fit it."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key, key, other = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("store-12.chain.example"))
        .issuer_name(name("Chain CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=397))
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    pkcs8, none = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    out = (tmp_path / "issued.crt", tmp_path / "issued.key", tmp_path / "other.key")
    out[0].write_bytes(cert.public_bytes(pem))
    out[1].write_bytes(key.private_bytes(pem, pkcs8, none))
    out[2].write_bytes(other.private_bytes(pem, pkcs8, none))
    return out


async def test_renewing_serves_the_new_certificate_at_once_and_is_audited(
    data_dir: Path, tmp_path: Path
) -> None:
    from veilcam import renewal
    from veilcam.errors import CertificateError

    port = free_port()
    issued, issued_key, wrong_key = _ca_issued(tmp_path)
    async with running(config_for(data_dir)) as app:
        server = asyncio.create_task(serve(app, WebConfig(port=port)))
        try:
            await until(lambda: listening(port))
            first = await asyncio.to_thread(_served_sha256, port)
            out = await renewal.renew(app.store, data_dir, "store", "cli:tech", served=app.tls)
            assert out["old"] == first and out["new"] != first
            assert await asyncio.to_thread(_served_sha256, port) == out["new"]
            with pytest.raises(CertificateError, match="does not belong"):
                await renewal.renew(
                    app.store,
                    data_dir,
                    "store",
                    "cli:tech",
                    served=app.tls,
                    cert_file=str(issued),
                    key_file=str(wrong_key),
                )
            # Refused: the self-signed one from before still serves.
            assert await asyncio.to_thread(_served_sha256, port) == out["new"]
            ca = await renewal.renew(
                app.store,
                data_dir,
                "store",
                "cli:tech",
                served=app.tls,
                cert_file=str(issued),
                key_file=str(issued_key),
            )
            assert await asyncio.to_thread(_served_sha256, port) == ca["new"]
            entries = await app.store.db.read(
                lambda db: db.conn.execute(
                    "SELECT action, detail FROM audit_log WHERE action LIKE 'tls.%' ORDER BY id"
                ).fetchall()
            )
        finally:
            server.cancel()
            await asyncio.gather(server, return_exceptions=True)
    actions = [a for a, _ in entries]
    assert actions == ["tls.renew", "tls.renew.refused", "tls.renew"]
    assert f"{first} -> {out['new']}" in entries[0][1]
    assert "does not belong" in entries[1][1]
    assert f"installed from {issued}" in entries[2][1]


def test_tls_cli_renews_offline(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    crt, _ = tls.ensure_certificate(data_dir, "store")
    before = tls.fingerprint(crt)
    assert main(["tls", "show", "--data-dir", str(data_dir)]) == 0
    assert before in capsys.readouterr().out
    assert main(["tls", "renew", "--data-dir", str(data_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["old"] == before and out["new"] == tls.fingerprint(crt) != before
    import sqlite3

    conn = sqlite3.connect(data_dir / "veilcam.db")
    rows = conn.execute("SELECT actor, action FROM audit_log WHERE action = 'tls.renew'").fetchall()
    assert len(rows) == 1 and rows[0][0].startswith("cli:")
