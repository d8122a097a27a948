"""The site's template key: what makes a stored face template unusable anywhere else.

One 32-byte secret per site (``keys/templates.key``, 0600) gives two keys by HKDF: a
rotation key for ``veilcam_native.embed.keyed_rotation`` (an orthogonal transform: matching
within the site works as before, a template under another site's key matches nothing) and
an AES-256-GCM key that seals each transformed template at rest. Re-keying makes a new
secret, moves every template from the old transform to the new one, seals it again and
destroys the old secret: copies of the old database or key stop matching anything.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from veilcam.errors import StoreError
from veilcam_native import embed as kernels

NAME = "templates.key"


def _derive(secret: bytes, what: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"veilcam-templates-" + what).derive(secret)


@dataclass(frozen=True)
class SiteKey:
    key_id: str
    rotation: np.ndarray  # (dim, dim) float32, orthogonal
    seal_key: bytes

    @classmethod
    def from_secret(cls, secret: bytes, dim: int) -> SiteKey:
        return cls(
            hashlib.sha256(secret).hexdigest()[:16],
            kernels.keyed_rotation(_derive(secret, b"rotation"), dim),
            _derive(secret, b"seal"),
        )

    def transform(self, template: np.ndarray) -> np.ndarray:
        """The template as this site stores and compares it (unit length kept)."""
        out: np.ndarray = kernels.apply_rotation(
            np.asarray(template, np.float32)[None], self.rotation
        )[0]
        return out

    def untransform(self, stored: np.ndarray) -> np.ndarray:
        out: np.ndarray = kernels.apply_rotation(
            np.asarray(stored, np.float32)[None], np.ascontiguousarray(self.rotation.T)
        )[0]
        return out

    def seal_bytes(self, aad: str, data: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self.seal_key).encrypt(nonce, data, aad.encode())

    def unseal_bytes(self, aad: str, blob: bytes) -> bytes:
        return AESGCM(self.seal_key).decrypt(blob[:12], blob[12:], aad.encode())

    def seal(self, entry_id: int, stored: np.ndarray) -> bytes:
        nonce = secrets.token_bytes(12)
        aad = f"watchlist:{entry_id}".encode()
        data = np.asarray(stored, "<f4").tobytes()
        return nonce + AESGCM(self.seal_key).encrypt(nonce, data, aad)

    def unseal(self, entry_id: int, blob: bytes) -> np.ndarray:
        aad = f"watchlist:{entry_id}".encode()
        data = AESGCM(self.seal_key).decrypt(blob[:12], blob[12:], aad)
        return np.frombuffer(data, "<f4").copy()


def load(keys_dir: Path, dim: int, *, create: bool = True) -> SiteKey:
    """The site's key (made on first use); StoreError if missing and not to be made."""
    path = keys_dir / NAME
    if not path.exists():
        if not create:
            raise StoreError(f"the site's template key {path} is missing")
        write(path, secrets.token_bytes(32))
    return SiteKey.from_secret(path.read_bytes(), dim)


def write(path: Path, secret: bytes) -> None:
    tmp = path.with_suffix(".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def destroy(path: Path) -> None:
    """Overwrite, then remove: the old secret is gone from this file system's view."""
    if path.exists():
        size = path.stat().st_size
        with path.open("r+b") as f:
            f.write(secrets.token_bytes(size))
            f.flush()
            os.fsync(f.fileno())
        path.unlink()
