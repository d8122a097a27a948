"""The privacy operations as the web UI, the API, the control socket and the command line
call them: each validates, writes its rows with their audit entry, then deletes files."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import Any

from veilcam.clock import Clock
from veilcam.config import Config
from veilcam.errors import MediaIntegrityError, PrivacyRefused
from veilcam.privacy import breaches, disclosures, exports, gates, holds, requests
from veilcam.privacy.scope import Act, Scope, media_job
from veilcam.retention import MEDIA_CLASS
from veilcam.store import Store, audit


class Privacy:
    def __init__(self, store: Store, config: Config, clock: Clock) -> None:
        self.store, self.config, self.clock = store, config, clock
        self.changed = asyncio.Event()  # wakes the deadline watch
        # Breaches whose authority notification is not recorded: every page shows them.
        self.open_breaches: list[dict[str, Any]] = []
        # Open feature gates by feature: what the cameras and features check before starting.
        self.open_gates: dict[str, dict[str, Any]] = {}

    async def refresh(self) -> None:
        self.open_breaches = await self.store.db.read(breaches.unsettled_job)
        self.open_gates = await self.store.db.read(gates.open_job)

    def act(self, actor: str, ip: str | None = None) -> Act:
        now = self.clock.now()
        return Act(
            actor,
            now,
            self.store.expires("audit_log", now),
            self.store.expires("requests", now),
            ip,
        )

    @property
    def cameras(self) -> list[str]:
        return [c.name for c in self.config.cameras]

    def limits(self) -> dict[str, float]:
        """Each media kind's configured limit (what a lifted hold returns a picture to)."""
        return {k: self.config.retention.seconds(c) for k, c in MEDIA_CLASS.items()}

    def scope(self, cameras: Sequence[str], start: float | None, end: float | None) -> Scope:
        return Scope.checked(cameras, start, end, self.cameras)

    async def _write(self, job: Any, *args: Any, **kw: Any) -> Any:
        out = await self.store.db.write(functools.partial(job, **kw) if kw else job, *args)
        self.changed.set()
        await self.refresh()
        return out

    # Requests

    async def create_request(self, act: Act, **fields: Any) -> int:
        scope = None
        if fields.get("start") is not None or fields.get("end") is not None:
            scope = self.scope(fields.pop("cameras", ()), fields.pop("start"), fields.pop("end"))
        for k in ("cameras", "start", "end"):
            fields.pop(k, None)
        return int(
            await self._write(
                requests.create_job,
                act,
                scope=scope,
                days=self.config.privacy.request_days,
                **fields,
            )
        )

    async def request(self, request_id: int) -> dict[str, Any]:
        req = await self.store.db.read(requests.get_job, request_id)
        if req is None:
            raise PrivacyRefused(f"no request {request_id}")
        return req

    async def matches(self, req: dict[str, Any]) -> list[dict[str, Any]]:
        scope = Scope.of(req)
        if scope is None:
            return []
        rows: list[dict[str, Any]] = await self.store.db.read(media_job, scope)
        return rows

    async def act_on(
        self, act: Act, request_id: int, ids: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Do what the request's kind asks, on the chosen pictures (all in its window)."""
        kind = (await self.request(request_id))["kind"]
        job = {
            "erasure": requests.erase_job,
            "restriction": requests.restrict_job,
            "rectification": requests.rectify_job,
            "objection": requests.object_job,
        }.get(kind)
        if job is None:
            raise PrivacyRefused(
                f"an {kind} request is answered, not acted on"
                + ("; export its data under a disclosure record" if kind == "access" else "")
            )
        out: dict[str, Any] = await self._write(job, act, request_id, ids)
        if out.get("deleted"):
            await self.store.delete_media_files(out["deleted"])
            await self.store.db.truncate_wal()
        return out

    async def lift(self, act: Act, request_id: int) -> int:
        return int(await self._write(requests.lift_job, act, request_id))

    async def answer(self, act: Act, request_id: int, status: str, reply: str) -> None:
        await self._write(requests.answer_job, act, request_id, status, reply)

    # Disclosures and exports

    async def disclose(self, act: Act, **fields: Any) -> int:
        valid = self.config.privacy.disclosure_valid
        return int(await self._write(disclosures.create_job, act, valid_for=valid, **fields))

    async def export_picture(self, act: Act, media_id: str, disclosure: str | None) -> bytes:
        """A picture captioned with the disclosure record it leaves under."""
        rec = await self._write(
            exports.picture_job, act, media_id, disclosures.parse_id(disclosure)
        )
        jpeg = await self.store.read_picture(media_id)
        return await asyncio.to_thread(exports.caption, jpeg, disclosures.mark(rec))

    async def export_access(self, act: Act, request_id: int, disclosure: str | None) -> bytes:
        """The zip answering an access request; its disclosure record names the request."""
        req, rec, rows = await self._write(
            exports.access_job, act, request_id, disclosures.parse_id(disclosure)
        )
        pictures = []
        for r in rows:
            try:
                pictures.append((r, await self.store.read_picture(r["id"])))
            except MediaIntegrityError:
                continue  # expired between the query and the read
        return await asyncio.to_thread(exports.access_zip, req, rec, pictures)

    # Holds and the retention report

    async def place_hold(self, act: Act, **fields: Any) -> dict[str, Any]:
        scope = self.scope(fields.pop("cameras", ()), fields.pop("start"), fields.pop("end"))
        return await self._write(holds.place_job, act, scope=scope, **fields)  # type: ignore[no-any-return]

    async def lift_hold(self, act: Act, hold_id: int) -> int:
        return int(await self._write(holds.lift_job, act, hold_id, self.limits()))

    async def retention_report(self) -> list[dict[str, Any]]:
        limits = {
            name: self.config.retention.seconds(name)
            for name in type(self.config.retention).__struct_fields__
        }
        rows: list[dict[str, Any]] = await self.store.db.read(
            holds.report_job, self.clock.now(), limits
        )
        return rows

    # Breaches

    async def record_breach(self, act: Act, **fields: Any) -> int:
        return int(await self._write(breaches.record_job, act, **fields))

    async def decide(self, act: Act, breach_id: int, decision: str) -> None:
        await self._write(breaches.decide_job, act, breach_id, decision)

    async def settle(self, act: Act, breach_id: int, **fields: Any) -> None:
        await self._write(breaches.settle_job, act, breach_id, **fields)

    # Feature gates

    async def propose(self, act: Act, **fields: Any) -> int:
        return int(await self._write(gates.propose_job, act, **fields))

    async def decide_gate(self, act: Act, gate_id: int, approve: bool, reason: str = "") -> str:
        """The other administrator's decision; an attempt to approve one's own proposal is
        refused and audited (the refused transaction's own entry is rolled back with it)."""
        try:
            return str(await self._write(gates.decide_job, act, gate_id, approve, reason))
        except PrivacyRefused as exc:
            entry = audit.Entry(
                act.actor, "gate.decide.refused", f"gate:{gate_id}", str(exc), act.ip
            )
            await self.store.audit(entry)
            raise

    async def close_gate(self, act: Act, gate_id: int, reason: str) -> str:
        return str(await self._write(gates.close_job, act, gate_id, reason))
