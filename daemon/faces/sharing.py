"""Shared use of watchlist entries within a named group of sites (``[watchlist.sharing]``,
off unless configured): the Japanese vendor's "shared use only within a named group".

An operator exports the site's active entries for the group: each template is taken out of
the site's transform and put under the **group's key** (its own keyed rotation and seal, from
the group's 32-byte secret), with its reference, category and expiry; nothing else (no
photo, no site template). The export is a disclosure: a record naming the entries, the
group and the gate's legal basis is written with it, and audited. Another site of the group
imports the file: each entry is moved from the group's transform to that site's own and
added as *proposed*: the importing site's other operator approves it before it is matched.
A file made under another key, altered, or for another model is refused entry by entry.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlite_utils import Database

from veilcam.config import SharingConfig
from veilcam.durations import DAY
from veilcam.errors import ConfigError, PrivacyRefused
from veilcam.faces import watchlist
from veilcam.faces.keys import SiteKey
from veilcam.privacy.scope import Act

FORMAT = "veilcam-watchlist-share-1"
MAX_ENTRIES = 10_000


def group_key(cfg: SharingConfig, dim: int = 128) -> SiteKey:
    """The group's key from its file: 32 bytes, readable only by veilcam."""
    path = Path(cfg.chain_key_file)
    try:
        mode = path.stat().st_mode
        secret = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"watchlist.sharing.chain_key_file {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise ConfigError(f"watchlist.sharing.chain_key_file {path} is readable by others")
    if len(secret) != 32:
        raise ConfigError(
            f"watchlist.sharing.chain_key_file {path} must hold 32 bytes, not {len(secret)}"
        )
    return SiteKey.from_secret(b"veilcam-group\0" + secret, dim)


def _seal(key: SiteKey, uid: str, data: bytes) -> str:
    nonce = secrets.token_bytes(12)
    return base64.b64encode(
        nonce + AESGCM(key.seal_key).encrypt(nonce, data, uid.encode())
    ).decode()


def _unseal(key: SiteKey, uid: str, text: str) -> bytes:
    blob = base64.b64decode(text, validate=True)
    return AESGCM(key.seal_key).decrypt(blob[:12], blob[12:], uid.encode())


def export_job(
    db: Database, act: Act, site: SiteKey, group: SiteKey, cfg: SharingConfig, site_name: str
) -> bytes:
    """The site's active entries under the group's key, with the disclosure record."""
    import numpy as np

    gate_id = watchlist.check_operator(db, act)
    rows = db.conn.execute(
        "SELECT id, reference, category, model_id, template, expires_at FROM watchlist"
        " WHERE state = 'active' AND expires_at > ? ORDER BY id",
        (act.now,),
    ).fetchall()
    if not rows:
        raise PrivacyRefused("no active entry to share")
    entries = []
    for r in rows:
        template = site.untransform(site.unseal(r["id"], bytes(r["template"])))
        uid = f"{site_name}:{r['id']}"
        shared = np.asarray(group.transform(template), "<f4").tobytes()
        entries.append(
            {
                "uid": uid,
                "reference": r["reference"],
                "category": r["category"],
                "model_id": r["model_id"],
                "expires_at": r["expires_at"],
                "template": _seal(group, uid, shared),
            }
        )
        template.fill(0)
    basis = db.conn.execute("SELECT legal_basis FROM gates WHERE id = ?", (gate_id,)).fetchone()
    items = [f"watchlist:{r['id']}" for r in rows]
    record = db.conn.execute(
        "INSERT INTO disclosures (at, recipient, legal_basis, purpose, items, approved_by,"
        " valid_until, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            act.now,
            f"the sites of {cfg.group}"[:200],
            basis[0],
            f"shared use of the watchlist: {cfg.purpose}"[:500],
            json.dumps(items),
            act.actor,
            act.now + DAY,
            act.now + 3 * 365 * DAY,
        ),
    ).fetchone()[0]
    act.audit(db, "watchlist.export", f"disclosure:{record}", f"{len(entries)} entries")
    body = {
        "format": FORMAT,
        "from": site_name,
        "group": cfg.group,
        "key_id": group.key_id,
        "disclosure": record,
        "entries": entries,
    }
    return json.dumps(body, indent=1).encode()


def read(data: bytes, group: SiteKey) -> list[dict[str, Any]]:
    """The entries of a share file, refused whole when it is not one for this group."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PrivacyRefused(f"not a watchlist share file: {exc}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise PrivacyRefused("not a watchlist share file (format missing or unknown)")
    if body.get("key_id") != group.key_id:
        raise PrivacyRefused("the file was made under another group's key: refused")
    entries = body.get("entries")
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise PrivacyRefused("the file's entries are missing or too many")
    return entries


def import_job(
    db: Database,
    act: Act,
    site: SiteKey,
    group: SiteKey,
    entries: list[dict[str, Any]],
    model_id: str,
) -> tuple[list[int], list[str]]:
    """Each entry moved to this site's key and proposed; (new ids, refusals by uid)."""
    import numpy as np

    watchlist.check_operator(db, act)
    added, refused = [], []
    for e in entries:
        uid = str(e.get("uid", "?"))[:80]
        try:
            if e.get("model_id") != model_id:
                raise ValueError(f"made by {e.get('model_id')!r}, not {model_id}")
            plain = _unseal(group, uid, str(e["template"]))
            template = group.untransform(np.frombuffer(plain, "<f4"))
            days = max(1, int((float(e["expires_at"]) - act.now) // DAY))
            if days > watchlist.MAX_DAYS:
                raise ValueError("expires too late")
            added.append(
                watchlist.register_job(
                    db,
                    act,
                    template=template,
                    model_id=model_id,
                    key=site,
                    photos=1,
                    reference=f"shared {uid}: {str(e['reference'])[:60]}",
                    category=str(e["category"]),
                    days=days,
                )
            )
            template.fill(0)
        except (KeyError, ValueError, TypeError, InvalidTag, PrivacyRefused) as exc:
            refused.append(f"{uid}: {type(exc).__name__} {exc}".strip())
    act.audit(db, "watchlist.import", None, f"{len(added)} proposed, {len(refused)} refused")
    return added, refused


def write_key(path: Path) -> None:
    """Make a group key file (for the first site of a group)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
