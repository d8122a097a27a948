"""The watchlist as the web UI, the command line and the entrance camera use it.

Every path asks the watchlist gate first and refuses, naming the missing decision, before a
model is loaded or a photo decoded. Registration photos are decoded, their largest face
found by the product's detector, judged and embedded in memory; only the mean template is
kept (transformed by the site key, sealed). Matching compares in memory with the native
top-k against the active entries of the same model; a face that matches nothing leaves no
trace (no row, no file, no log line).
"""

from __future__ import annotations

import asyncio
import functools
import io
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from veilcam.alerts.episodes import Episodes, Source, Transition
from veilcam.alerts.recorder import Recorder
from veilcam.clock import Clock
from veilcam.config import EmbedderConfig, SharingConfig
from veilcam.durations import DAY
from veilcam.errors import PrivacyRefused
from veilcam.faces import keys, sharing, watchlist
from veilcam.faces.keys import SiteKey
from veilcam.privacy import gates
from veilcam.privacy.scope import Act
from veilcam.privacy.service import Privacy
from veilcam.store import Store
from veilcam_native import embed as kernels

REFRESH = 30.0
REMIND_BEFORE = 14 * DAY  # an entry's coming expiry is an alert this long before
MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 15 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000


REMINDERS = Source(
    "watchlist",
    "Watchlist entry",
    {"expiring": "a watchlist entry expires soon: keep it only with a fresh decision"},
)


@dataclass(frozen=True, slots=True)
class Match:
    entry_id: int
    score: float


class Watchlist:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        privacy: Privacy,
        cache: Path | None = None,
        vision: Any = None,
        embedder: EmbedderConfig | None = None,
    ) -> None:
        """``vision``: the redactor's detector, shared (its models are loaded already);
        ``embedder``: an operator's model instead of dlib's."""
        self.store, self.clock, self.privacy, self.cache = store, clock, privacy, cache
        self.embedder_cfg = embedder
        self._features: Any = None
        self._vision: Any = vision
        self._key: SiteKey | None = None
        self._ids = np.zeros(0, np.int64)
        self._gallery = np.zeros((0, 1), np.float32)
        # Reminders of coming expiries, through the shared alerts (set by the runtime).
        self.reminders: Recorder | None = None
        self._expiring: dict[int, Episodes] = {}

    def require(self) -> None:
        """FeatureClosed, naming the missing decision, unless the watchlist gate is open."""
        gates.check(self.privacy.open_gates, "watchlist")

    @property
    def keys_dir(self) -> Path:
        return self.store.data_dir / "keys"

    def models(self) -> Any:
        """The detector and the embedder, loaded on first use (after the gate said yes)."""
        if self._features is None:
            from veilcam.vision.embed import DlibEmbedder, FaceFeatures, ModelEmbedder, ModelSpec
            from veilcam.vision.pipeline import Vision
            from veilcam.vision.runtime import BoardProfile

            # The board's profile, as the redactor's detector (when shared) was loaded with.
            profile = self._vision.profile if self._vision is not None else BoardProfile.load()
            if self._vision is None:
                self._vision = Vision(profile, self.cache)
            e = self.embedder_cfg
            embedder: Any = (
                DlibEmbedder(self.cache)
                if e is None
                else ModelEmbedder(
                    ModelSpec(
                        e.model_id,
                        e.path,
                        e.sha256,
                        e.size,
                        e.mean,
                        e.std,
                        e.threshold,
                        e.padding,
                        e.rgb,
                    ),  # fmt: skip
                    profile,
                )
            )
            self._features = FaceFeatures(embedder, profile, self.cache)
        return self._features

    async def key(self) -> SiteKey:
        if self._key is None:
            if self.embedder_cfg is not None and self._features is None:
                await asyncio.to_thread(self.models)  # the transform's size is the model's
            self._key = await self._load_key()
        return self._key

    async def _load_key(self) -> SiteKey:
        nxt = self.keys_dir / (keys.NAME + ".next")
        if nxt.exists():  # a re-keying stopped half way: which key do the rows use?
            candidate = SiteKey.from_secret(nxt.read_bytes(), self.dim)
            used = await self.store.db.read(
                lambda db: db.conn.execute(
                    "SELECT count(*) FROM watchlist WHERE key_id = ?", (candidate.key_id,)
                ).fetchone()[0]
            )
            if used:
                keys.destroy(self.keys_dir / keys.NAME)
                nxt.replace(self.keys_dir / keys.NAME)
            else:
                keys.destroy(nxt)
        return keys.load(self.keys_dir, self.dim)

    @property
    def dim(self) -> int:
        return 128 if self._features is None else int(self._features.embedder.dim)

    # -- registration -------------------------------------------------------------------

    def _template(self, photos: list[bytes]) -> tuple[np.ndarray, str]:
        features = self.models()
        found = []
        for i, data in enumerate(photos, 1):
            if len(data) > MAX_PHOTO_BYTES:
                raise PrivacyRefused(f"photo {i} is larger than {MAX_PHOTO_BYTES >> 20} MB")
            try:
                with Image.open(io.BytesIO(data)) as im:
                    if im.width * im.height > MAX_PHOTO_PIXELS:
                        raise PrivacyRefused(f"photo {i} has more than 40 megapixels")
                    pixels = np.asarray(im.convert("RGB"))
            except (UnidentifiedImageError, OSError, ValueError) as exc:
                raise PrivacyRefused(
                    f"photo {i} is not a picture that can be read ({exc})"
                ) from None
            faces = self._vision.faces(pixels, min_face_px=12)
            if not faces:
                raise PrivacyRefused(f"photo {i}: no face found")
            d = features.describe(pixels, faces[0])
            if d.template is None:
                raise PrivacyRefused(f"photo {i}: the face is not usable ({d.quality.reason})")
            found.append(d.template)
        mean = np.mean(found, axis=0).astype(np.float32)
        return mean / max(float(np.linalg.norm(mean)), 1e-12), features.embedder.model_id

    async def register(
        self,
        act: Act,
        photos: list[bytes],
        *,
        reference: str,
        category: str,
        days: int = watchlist.DEFAULT_DAYS,
        keep_photos: bool = False,
    ) -> int:
        """A proposed entry from one to five photos of the person; only the template stays,
        and the photos too (sealed, for review) when the administrator chooses."""
        self.require()
        await self._operator(act, "watchlist.register.refused")
        if not 1 <= len(photos) <= MAX_PHOTOS:
            raise PrivacyRefused(f"one to {MAX_PHOTOS} photos, not {len(photos)}")
        template, model_id = await asyncio.to_thread(self._template, photos)
        job = functools.partial(
            watchlist.register_job,
            template=template,
            model_id=model_id,
            key=await self.key(),
            photos=len(photos),
            reference=reference,
            category=category,
            days=days,
            kept=list(photos) if keep_photos else None,
        )
        del template
        return int(await self.store.db.write(job, act))

    async def photo(self, act: Act, entry_id: int, n: int) -> bytes | None:
        """A kept registration photo, for an operator (audited)."""
        self.require()
        await self._operator(act, "watchlist.photo.refused")
        job = functools.partial(watchlist.photo_job, key=await self.key(), entry_id=entry_id, n=n)
        out = await self.store.db.write(job, act)
        return None if out is None else bytes(out)

    async def _operator(self, act: Act, refused: str) -> None:
        """Refuse (and audit the refusal) an account that may not operate the list."""
        try:
            await self.store.db.read(watchlist.check_operator, act)
        except PrivacyRefused as exc:
            await self._audit(act, refused, None, str(exc))
            raise

    async def _audit(self, act: Act, action: str, obj: str | None, detail: str) -> None:
        await self.store.db.write(lambda db: act.audit(db, action, obj, detail))

    async def decide(self, act: Act, entry_id: int, approve: bool, reason: str = "") -> None:
        self.require()
        await self._operator(act, "watchlist.decide.refused")
        try:
            await self.store.db.write(watchlist.decide_job, act, entry_id, approve, reason)
        except PrivacyRefused as exc:
            await self._audit(act, "watchlist.decide.refused", f"watchlist:{entry_id}", str(exc))
            raise
        await self.refresh()

    async def remove(self, act: Act, entry_id: int, reason: str) -> None:
        self.require()
        await self._operator(act, "watchlist.remove.refused")
        await self.store.db.write(watchlist.remove_job, act, entry_id, reason)
        await self.refresh()

    async def entries(self, act: Act) -> list[dict[str, Any]]:
        self.require()
        await self._operator(act, "watchlist.view.refused")
        return list(await self.store.db.write(watchlist.list_job, act))

    # -- shared use within a group --------------------------------------------------------

    async def export_shared(self, act: Act, cfg: SharingConfig | None, site: str) -> bytes:
        """The active entries under the group's key, with their disclosure record."""
        self.require()
        if cfg is None:
            raise PrivacyRefused("shared use is off: no [watchlist.sharing] in the config")
        await self._operator(act, "watchlist.export.refused")
        group = sharing.group_key(cfg, self.dim)
        job = functools.partial(
            sharing.export_job, site=await self.key(), group=group, cfg=cfg, site_name=site
        )
        return bytes(await self.store.db.write(job, act))

    async def import_shared(
        self, act: Act, cfg: SharingConfig | None, data: bytes
    ) -> tuple[list[int], list[str]]:
        """Another site's shared entries, each proposed here (the other operator decides)."""
        self.require()
        if cfg is None:
            raise PrivacyRefused("shared use is off: no [watchlist.sharing] in the config")
        await self._operator(act, "watchlist.import.refused")
        group = sharing.group_key(cfg, self.dim)
        entries = sharing.read(data, group)
        model = (await asyncio.to_thread(self.models)).embedder.model_id
        job = functools.partial(
            sharing.import_job, site=await self.key(), group=group, entries=entries, model_id=model
        )
        added, refused = await self.store.db.write(job, act)
        return list(added), list(refused)

    # -- matching -----------------------------------------------------------------------

    async def run(self, every: float = REFRESH) -> None:
        """Keep the in-memory gallery true to the list and the gate (approvals, removals,
        expiries, a gate opened or closed) at most ``every`` seconds late."""
        while True:
            await self.refresh()
            await self.clock.sleep(every)

    async def refresh(self) -> None:
        """The active entries' templates into memory (transformed, as stored)."""
        if "watchlist" not in self.privacy.open_gates:
            self._ids, self._gallery = np.zeros(0, np.int64), np.zeros((0, 1), np.float32)
            return
        await self.store.db.write(watchlist.expire_job, self.clock.now())
        await self._remind()
        rows = await self.store.db.read(watchlist.active_job, self.clock.now())
        key = await self.key()
        model = self._features.embedder.model_id if self._features is not None else None
        usable = [r for r in rows if r[2] == key.key_id and (model is None or r[1] == model)]
        self._ids = np.array([r[0] for r in usable], np.int64)
        self._gallery = (
            np.stack([key.unseal(r[0], r[3]) for r in usable]).astype(np.float32)
            if usable
            else np.zeros((0, self.dim), np.float32)
        )

    async def _remind(self) -> None:
        """An alert for each active entry within ``REMIND_BEFORE`` of its expiry, closed
        when it expires or is removed. The message names no person or incident: it may be
        mailed to people who do not operate the list."""
        if self.reminders is None:
            return
        now = self.clock.now()
        soon = dict(await self.store.db.read(watchlist.expiring_job, now, REMIND_BEFORE))
        out: list[Transition] = []
        for entry_id, at in soon.items():
            eps = self._expiring.setdefault(entry_id, Episodes("watchlist", f"entry {entry_id}"))
            days = max(0, int((at - now) // DAY))
            msg = (
                f"watchlist entry {entry_id} expires in {days} day(s) and is then deleted;"
                " to keep it, an administrator registers it again and the other approves"
            )
            out += eps.raise_to("expiring", "warning", now, None, msg)
        for entry_id in [e for e in self._expiring if e not in soon]:
            out += self._expiring.pop(entry_id).close("expiring", now, "expired or removed")
        if out:
            await self.reminders.apply(out)

    def match(self, template: np.ndarray, threshold: float) -> Match | None:
        """The best active entry at or above ``threshold`` for a template (in memory)."""
        self.require()
        if not len(self._ids) or self._key is None:
            return None
        query = self._key.transform(template)
        score, idx = kernels.topk_dot(query[None], self._gallery, k=1)
        best = float(score[0, 0])
        if best < threshold:
            return None
        return Match(int(self._ids[int(idx[0, 0])]), best)

    async def rekey(self, act: Act) -> int:
        """A new site key: every kept template moves to it; the old one is destroyed."""
        self.require()
        await self._operator(act, "watchlist.rekey.refused")
        old = await self.key()
        secret = secrets.token_bytes(32)
        nxt = self.keys_dir / (keys.NAME + ".next")
        keys.write(nxt, secret)  # first: a stop half way finds the key the rows moved to
        new = SiteKey.from_secret(secret, self.dim)
        moved = int(await self.store.db.write(watchlist.rekey_job, old, new))
        keys.destroy(self.keys_dir / keys.NAME)
        nxt.replace(self.keys_dir / keys.NAME)
        self._key = new
        await self.store.db.write(
            lambda db: act.audit(
                db, "watchlist.rekey", None, f"{moved} templates, key {new.key_id}"
            )
        )
        await self.refresh()
        return moved
