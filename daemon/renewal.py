"""Renewing the web UI's certificate, audited: from the control socket (the running daemon
then serves the new one to every new connection), the CLI when no daemon runs, and the
Health page."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from veilcam import certificate
from veilcam.errors import CertificateError
from veilcam.store import audit

if TYPE_CHECKING:
    from veilcam.store import Store


def _read(path: str | None, what: str) -> bytes | None:
    if path is None:
        return None
    try:
        return Path(path).read_bytes()[: 1 << 20]
    except OSError as exc:
        raise CertificateError(f"cannot read the {what} {path}: {exc.strerror}") from None


async def renew(
    store: Store,
    data_dir: Path,
    site: str,
    actor: str,
    *,
    listen: str = "",
    served: certificate.Served | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
    ip: str | None = None,
) -> dict[str, str]:
    """A new certificate (self-signed, or the files given), the running server's reloaded,
    and an audit entry naming both fingerprints; a refusal is audited with its reason."""
    try:
        cert_pem, key_pem = _read(cert_file, "certificate"), _read(key_file, "key")
        old, new = await asyncio.to_thread(
            certificate.renew, data_dir, site, listen, cert_pem, key_pem
        )
        if served is not None:
            served.reload()
    except CertificateError as exc:
        await store.audit(audit.Entry(actor, "tls.renew.refused", "web certificate", str(exc), ip))
        raise
    source = "installed from " + cert_file if cert_file else "self-signed"
    detail = f"{source}; SHA-256 {old or '(none)'} -> {new}"
    await store.audit(audit.Entry(actor, "tls.renew", "web certificate", detail, ip))
    crt, _ = certificate.paths(data_dir)
    until = certificate.not_after(crt).strftime("%Y-%m-%d")
    return {"old": old, "new": new, "not_after": until}
