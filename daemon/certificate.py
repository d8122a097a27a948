"""The web UI's certificate: made on first start (ECDSA P-256, self-signed, ten years),
kept in the data directory's key folder (0600), its SHA-256 fingerprint shown by
``veilcam status`` so a manager can check what the browser shows. ``renew`` replaces it (a
new self-signed one, or one the chain's own CA issued) and a running server takes it for
every new connection (``Served.reload``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import socket
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from veilcam.errors import CertificateError


def paths(data_dir: Path) -> tuple[Path, Path]:
    keys = data_dir / "keys"
    return keys / "web.crt", keys / "web.key"


def lan_addresses(listen: str = "") -> list[str]:
    """The addresses a browser on the store's network reaches this board at: the one the
    default route leaves from, the host name's, and the one the web UI listens on."""
    found: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for a UDP connect
        found.append(s.getsockname()[0])
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.append(str(info[4][0]))
    found.append(listen)
    out = []
    for text in found:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_unspecified or ip.is_link_local) and text not in out:
            out.append(text)
    return out


def ensure_certificate(data_dir: Path, site: str, listen: str = "") -> tuple[Path, Path]:
    """The certificate and key, made if absent (the key written 0600 before any byte).
    A certificate made before is kept as it is: a changed fingerprint would look like an
    attack to the manager who checked the old one."""
    crt, key_path = paths(data_dir)
    if crt.exists() and key_path.exists():
        return crt, key_path
    crt.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert_pem, key_pem = _self_signed(site, listen)
    _write(key_path, key_pem)
    _write(crt, cert_pem)
    return crt, key_path


def _self_signed(site: str, listen: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    host = socket.gethostname()
    names: list[x509.GeneralName] = [x509.DNSName(host), x509.DNSName("localhost")]
    names += [
        x509.IPAddress(ipaddress.ip_address(a))
        for a in ["127.0.0.1", "::1", *lan_addresses(listen)]
    ]
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, host[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"veilcam {site}"[:64]),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write(path: Path, data: bytes) -> None:
    """``data`` in ``path`` (0600 from the first byte), replacing it in one step."""
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def check_pair(cert_pem: bytes, key_pem: bytes, now: dt.datetime | None = None) -> None:
    """Refuse a certificate that is not PEM, does not belong to the key, has expired or
    is not for a server: the web UI would otherwise stop answering after a renewal."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise CertificateError(f"the certificate is not a PEM X.509 certificate ({exc})") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"the key is not an unencrypted PEM private key ({exc})") from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = serialization.Encoding.PEM
    if cert.public_key().public_bytes(pem, spki) != key.public_key().public_bytes(pem, spki):
        raise CertificateError("the key does not belong to the certificate")
    now = now or dt.datetime.now(dt.UTC)
    if cert.not_valid_after_utc <= now or cert.not_valid_before_utc > now:
        raise CertificateError(
            f"the certificate is valid only from {cert.not_valid_before_utc:%Y-%m-%d} to "
            f"{cert.not_valid_after_utc:%Y-%m-%d}"
        )


def renew(
    data_dir: Path,
    site: str,
    listen: str = "",
    cert_pem: bytes | None = None,
    key_pem: bytes | None = None,
) -> tuple[str, str]:
    """Replace the certificate: a new self-signed one (a new key too), or ``cert_pem`` and
    ``key_pem`` from the chain's CA after checking they fit. Returns the old and new
    fingerprints ("" when there was none) for the audit entry."""
    crt, key_path = paths(data_dir)
    if (cert_pem is None) != (key_pem is None):
        raise CertificateError("give both the certificate and its key, or neither")
    if cert_pem is None or key_pem is None:
        cert_pem, key_pem = _self_signed(site, listen)
    check_pair(cert_pem, key_pem)
    old = fingerprint(crt) if crt.exists() else ""
    crt.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The key first: a crash between the two leaves a pair that does not fit, which
    # ensure_certificate cannot tell; Served.reload and the next start both check it.
    _write(key_path, key_pem)
    _write(crt, cert_pem)
    return old, fingerprint(crt)


def not_after(crt: Path) -> dt.datetime:
    return x509.load_pem_x509_certificate(crt.read_bytes()).not_valid_after_utc


def fingerprint(crt: Path) -> str:
    """SHA-256 of the certificate, as browsers show it: AB:CD:..."""
    cert = x509.load_pem_x509_certificate(crt.read_bytes())
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


class Served:
    """The certificate a running server presents; ``reload`` makes every new connection
    get the file's current one (connections already open keep theirs)."""

    def __init__(self, crt: Path, key: Path) -> None:
        self.crt, self.key = crt, key
        self.context = server_context(crt, key)
        self.fingerprint = fingerprint(crt)

    def reload(self) -> None:
        check_pair(self.crt.read_bytes(), self.key.read_bytes())
        self.context.load_cert_chain(self.crt, self.key)
        self.fingerprint = fingerprint(self.crt)


def server_context(crt: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # TLS 1.2 with forward secrecy and AEAD only: no CBC suites (TLS 1.3's are all AEAD).
    ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    ctx.load_cert_chain(crt, key)
    return ctx
