"""A real Mosquitto broker on loopback (Debian's ``mosquitto``), started and stopped by the
tests: TLS with a test CA on one port, plain on another, a password on both, and a
persistence file so a stopped broker comes back with its retained messages and the
sessions of subscribers that asked to be remembered."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.daemon import free_port

USER, PASSWORD = "veilcam-box", "box-secret-7"
READER, READER_PASSWORD = "head-office", "office-secret-9"


def mosquitto() -> str:
    found = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(found).exists():
        why = "Debian's mosquitto is not installed (make system-deps)"
        if os.environ.get("VEILCAM_REQUIRE_BROKER") == "1":
            pytest.fail(why)  # CI installs it: a skip there would hide the fleet's tests
        pytest.skip(why)
    return found


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificates(folder: Path) -> None:
    """ca.pem; server.pem/server.key for 127.0.0.1 and client.pem/client.key for the box
    (its name, USER, as the common name), both signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "veilcam test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, USER)]))
        .issuer_name(ca_name)
        .public_key(client_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(_pem_key(key))
    (folder / "client.pem").write_bytes(client.public_bytes(serialization.Encoding.PEM))
    (folder / "client.key").write_bytes(_pem_key(client_key))


class PortTaken(Exception):
    """A port chosen for the broker was taken before it started."""


class Broker:
    """One Mosquitto with a fixed pair of ports across stops and starts."""

    def __init__(self, folder: Path) -> None:
        mosquitto()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.tls_port, self.port, self.cert_port = free_port(), free_port(), free_port()
        self.ca = folder / "ca.pem"
        self.password_file = folder / "box-password"
        self.password_file.write_text(PASSWORD + "\n")
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder / "mosquitto.log"
        _certificates(folder)
        passwd = folder / "passwd"
        for i, (user, password) in enumerate(((USER, PASSWORD), (READER, READER_PASSWORD))):
            create = ["-c"] if i == 0 else []
            subprocess.run(
                ["mosquitto_passwd", *create, "-b", str(passwd), user, password], check=True
            )
        passwd.chmod(0o600)
        self.passwd = passwd
        self.started = False
        self._configure()

    def _configure(self) -> None:
        folder, passwd = self.folder, self.passwd
        (folder / "mosquitto.conf").write_text(
            "\n".join(
                [
                    "user root",  # run as the test's user: no switch to 'mosquitto'
                    "per_listener_settings false",
                    "allow_anonymous false",
                    f"password_file {passwd}",
                    "persistence true",
                    f"persistence_location {folder}/",
                    "log_dest stderr",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "max_queued_messages 200000",
                    f"listener {self.tls_port} 127.0.0.1",
                    f"cafile {self.ca}",
                    f"certfile {folder / 'server.pem'}",
                    f"keyfile {folder / 'server.key'}",
                    f"listener {self.port} 127.0.0.1",
                    # a client certificate instead of a password: its common name is the user
                    f"listener {self.cert_port} 127.0.0.1",
                    f"cafile {self.ca}",
                    f"certfile {folder / 'server.pem'}",
                    f"keyfile {folder / 'server.key'}",
                    "require_certificate true",
                    "use_identity_as_username true",
                    "",
                ]
            )
        )

    @property
    def tls_url(self) -> str:
        return f"mqtts://127.0.0.1:{self.tls_port}"

    @property
    def cert_url(self) -> str:
        return f"mqtts://127.0.0.1:{self.cert_port}"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start on this broker's ports; the first start takes new ones if another process
        took one since they were chosen (a restart keeps them: clients know them)."""
        for _ in range(5):
            try:
                self._start()
            except PortTaken:
                if self.started:
                    raise
                self.tls_port, self.port, self.cert_port = free_port(), free_port(), free_port()
                self._configure()
                continue
            self.started = True
            return
        raise AssertionError("mosquitto found its ports taken five times")

    def _start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [mosquitto(), "-c", str(self.folder / "mosquitto.conf")],
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 20
        for port in (self.tls_port, self.port, self.cert_port):
            while True:
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), 0.2),
                ):
                    break
                if self.proc.poll() is not None:
                    log = self.log.read_text()[-2000:]
                    if "Address already in use" in log:
                        self.log.write_text("")
                        raise PortTaken(log)
                    raise AssertionError(log)
                assert time.monotonic() < deadline, "mosquitto did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        """A clean stop: Mosquitto writes its persistence file on SIGTERM."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def broker(folder: Path) -> Iterator[Broker]:
    b = Broker(folder)
    b.start()
    try:
        yield b
    finally:
        b.stop()
