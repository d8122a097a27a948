"""Commands from head office, on ``<base>/command``: a fixed set, each signed with the
site's command key (Ed25519), for this box only, with an expiry and a nonce used once.

The message is ``{"command": "<JSON text>", "signature": "<base64>"}``; the signature is
over the command's text exactly as sent, so nothing is re-serialised before checking. The
command's JSON names ``name``, ``args``, ``site``, ``device``, ``nonce`` and ``expires``
(Unix seconds). Anything else is refused: a signature that does not verify, another box,
an expired or too distant expiry, a nonce seen before, an unknown command, arguments
that do not fit. Every command, run or refused, is audited (actor ``head-office``), and its
outcome is published on ``<base>/command/result``, a refusal with its reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlite_utils import Database

from veilcam.alerts.mqttbox import Message, payload
from veilcam.durations import DAY
from veilcam.errors import ConfigError, VeilcamError
from veilcam.store import audit

if TYPE_CHECKING:
    from veilcam.fleet.publisher import Publisher

log = logging.getLogger(__name__)

ACTOR = "head-office"
MAX_AHEAD = DAY  # an expiry further ahead is refused: it bounds how long nonces are kept
MAX_BYTES = 8192
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class CommandRefused(VeilcamError, PermissionError):
    """A command that is not run, with the reason published back."""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: dict[str, Any]
    nonce: str
    expires: float


def load_key(path: str) -> Ed25519PublicKey:
    """The site's public command key: a PEM file, or the raw 32 bytes in base64."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"mqtt.command_key: cannot read {path}: {exc.strerror}") from None
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_public_key(data)
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(data.strip(), validate=True))
    except (ValueError, binascii.Error) as exc:
        raise ConfigError(f"mqtt.command_key: {path} is not an Ed25519 public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"mqtt.command_key: {path} is not an Ed25519 public key")
    return key


def _field(doc: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CommandRefused(f"the command's {name!r} is missing or not a {_kind(kind)}")
    return value


def _kind(kind: type | tuple[type, ...]) -> str:
    names = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(
        {"str": "string", "dict": "object"}.get(k.__name__, k.__name__) for k in names
    )


def verify(
    raw: bytes, key: Ed25519PublicKey, site: str, device: str, now: float, known: set[str]
) -> Command:
    """The command in ``raw`` if it is signed by ``key``, for this box, unexpired and of a
    known name; raises CommandRefused naming why not."""
    if len(raw) > MAX_BYTES:
        raise CommandRefused(f"a command is at most {MAX_BYTES} bytes, not {len(raw)}")
    try:
        envelope = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CommandRefused("not a signed command: the message is not JSON") from None
    if not isinstance(envelope, dict) or "signature" not in envelope:
        raise CommandRefused("unsigned: a command needs a 'signature' beside it")
    text = envelope.get("command")
    if not isinstance(text, str):
        raise CommandRefused("not a signed command: 'command' must be the command's JSON text")
    try:
        signature = base64.b64decode(str(envelope["signature"]), validate=True)
        key.verify(signature, text.encode())
    except (binascii.Error, ValueError, InvalidSignature):
        raise CommandRefused("the signature does not verify with the site's command key") from None
    try:
        doc = json.loads(text)
    except ValueError:
        raise CommandRefused("the signed command is not JSON") from None
    if not isinstance(doc, dict):
        raise CommandRefused("the command must be a JSON object")
    if doc.get("site") != site or doc.get("device") != device:
        raise CommandRefused(
            f"the command is for {doc.get('site')}/{doc.get('device')}, not {site}/{device}"
        )
    expires = float(_field(doc, "expires", (int, float)))
    if expires <= now:
        raise CommandRefused(f"the command expired {now - expires:.0f} s ago")
    if expires - now > MAX_AHEAD:
        raise CommandRefused("the command's expiry is more than a day ahead")
    nonce = _field(doc, "nonce", str)
    if not NONCE.fullmatch(nonce):
        raise CommandRefused("the nonce must be 16 to 64 letters, digits, '-' or '_'")
    name = _field(doc, "name", str)
    if name not in known:
        raise CommandRefused(f"unknown command {name!r} (known: {', '.join(sorted(known))})")
    args = doc.get("args", {})
    if not isinstance(args, dict):
        raise CommandRefused("the command's 'args' must be an object")
    return Command(name, args, nonce, expires)


def sign(
    key: Ed25519PrivateKey,
    site: str,
    device: str,
    name: str,
    args: dict[str, Any],
    expires: float,
    nonce: str | None = None,
) -> bytes:
    """A signed command, as head office publishes it (``veilcam fleet sign``)."""
    doc = {
        "name": name,
        "args": args,
        "site": site,
        "device": device,
        "nonce": nonce or secrets.token_urlsafe(18),
        "expires": expires,
    }
    text = json.dumps(doc, sort_keys=True)
    signature = base64.b64encode(key.sign(text.encode())).decode()
    return json.dumps({"command": text, "signature": signature}).encode()


def nonce_job(db: Database, nonce: str, now: float, expires: float) -> bool:
    """Whether ``nonce`` is new (and now used)."""
    cur = db.conn.execute(
        "INSERT OR IGNORE INTO mqtt_nonces (nonce, seen_at, expires_at) VALUES (?, ?, ?)",
        (nonce, now, max(expires, now + 1)),
    )
    return cur.rowcount == 1


class Commands:
    """Checks and runs commands arriving on the command topic."""

    def __init__(
        self,
        publisher: Publisher,
        key: Ed25519PublicKey,
        handlers: dict[str, Handler],
        device: str,
    ) -> None:
        self.publisher, self.key, self.handlers, self.device = publisher, key, handlers, device
        self.store, self.clock = publisher.store, publisher.clock

    async def _result(self, nonce: str | None, ok: bool, **fields: Any) -> None:
        doc = {"nonce": nonce, "ok": ok, "at": self.clock.now(), **fields}
        await self.publisher.enqueue([Message("state", "command/result", payload(doc))])

    async def handle(self, raw: bytes) -> None:
        now = self.clock.now()
        site = self.publisher.site
        try:
            cmd = verify(raw, self.key, site, self.device, now, set(self.handlers))
            if not await self.store.db.write(nonce_job, cmd.nonce, now, cmd.expires):
                raise CommandRefused("replayed: this command's nonce was used before")
        except CommandRefused as exc:
            log.warning("command from head office refused: %s", exc)
            await self.store.audit(audit.Entry(ACTOR, "fleet.command.refused", detail=str(exc)))
            await self._result(None, False, error=str(exc))
            return
        detail = json.dumps(cmd.args, sort_keys=True)[:200]
        await self.store.audit(audit.Entry(ACTOR, "fleet.command", cmd.name, detail))
        try:
            result = await self.handlers[cmd.name](cmd.args)
        except (VeilcamError, ValueError, KeyError, TypeError) as exc:
            why = str(exc) or type(exc).__name__
            log.warning("command %s from head office failed: %s", cmd.name, why)
            await self.store.audit(audit.Entry(ACTOR, "fleet.command.failed", cmd.name, why))
            await self._result(cmd.nonce, False, command=cmd.name, error=why)
            return
        log.info("command %s from head office done", cmd.name)
        await self._result(cmd.nonce, True, command=cmd.name, result=result)
