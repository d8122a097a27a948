"""Nothing personal leaves without a disclosure record: every GET route of the route table
and every command of the CLI parser is called, and each one that hands over a file must be
a declared export that refuses without a record (or be declared not personal, with why).
A new export path that forgets the record fails here."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import numpy as np
from aiohttp.test_utils import TestClient
from PIL import Image

from tests.support.web import USERS
from veilcam.cli import NOT_EXPORTS, build_parser
from veilcam.cli.privacy import EXPORTS as CLI_EXPORTS
from veilcam.clock import FakeClock, SystemClock
from veilcam.config import RetentionConfig
from veilcam.privacy import disclosures, requests
from veilcam.privacy.scope import Act, Scope
from veilcam.runtime.context import App
from veilcam.store import Picture, Store
from veilcam.store.references import References
from veilcam.web.routes import EXPORTS, NOT_PERSONAL, ROUTES, VIEWS

UI = tuple[App, FakeClock, Callable[..., Awaitable[TestClient]]]
PAGES = ("text/html", "application/json", "text/event-stream")


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 90, 40)).save(buf, "JPEG")
    return buf.getvalue()


async def study_clip(app: App) -> Picture:
    """A research clip of two frames, in a study under an (approved) research gate."""
    from veilcam.capture.clips import ClipWriter

    now = app.clock.now()

    def study(db: object) -> int:
        conn = db.conn  # type: ignore[attr-defined]
        conn.execute(
            "INSERT INTO gates (feature, legal_basis, purpose, dpia_ref, signage, proposed_by,"
            " proposed_at, state, decided_by, decided_at) VALUES ('research', 'consent', 'p',"
            " 'D-1', 'A4', 'ada', ?, 'open', 'ben', ?)",
            (now, now),
        )
        return int(
            conn.execute(
                "INSERT INTO studies (name, purpose, legal_basis, starts_at, ends_at, cameras,"
                " areas, gate_id, created_by, created_at) VALUES ('s', 'p', 'consent', ?, ?,"
                " '[\"fridge-1\"]', '{}', 1, 'ada', ?)",
                (now - 60, now + 3600, now),
            ).lastrowid
        )

    study_id = await app.store.db.write(study)
    writer = ClipWriter(64, 48, 5, now)
    for i in range(2):
        writer.add(np.full((48, 64, 3), 90 + i, np.uint8), now + i / 5, blank=False)
    return Picture(
        "fridge-1", "clip", "study", writer.finish(), 64, 48, study_id=study_id, duration=0.4,
        frames=2, blank_frames=0,
    )  # fmt: skip


async def seed(app: App) -> dict[str, str]:
    """Something behind every route, so each answers 200 or refuses."""
    media_id = await app.store.add_picture(Picture("fridge-1", "fridge", "t", jpeg(), 64, 48))
    now = app.clock.now()

    def product(db: object) -> None:
        db.conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO products (sku, name, image, updated_at, updated_by)"
            " VALUES ('VC-1', 'milk', ?, ?, 'test')",
            (jpeg(), now),
        )

    await app.store.db.write(product)
    clip_id = await app.store.add_picture(await study_clip(app))
    References(app.data_dir).save("fridge-1", np.full((48, 64, 3), 120, np.uint8))
    act = Act("ada", now, now + 1e6, now + 1e6)
    scope = Scope(("fridge-1",), now - 60, now + 60)
    req = await app.store.db.write(
        lambda db: requests.create_job(
            db,
            act,
            kind="access",
            received_at=now,
            channel="email",
            identity_check="id",
            description="d",
            scope=scope,
            processing=None,
            correction=None,
            days=7,
        )
    )
    # A watchlist match's evidence, under an open watchlist gate the signed-in admin decided.
    await app.store.db.write(
        lambda db: db.conn.execute(
            "INSERT INTO gates (feature, legal_basis, purpose, dpia_ref, signage, proposed_by,"
            " proposed_at, state, decided_by, decided_at) VALUES ('watchlist', 'interest', 'p',"
            " 'D-2', 'A4', 'ben', ?, 'open', ?, ?)",
            (now, USERS["admin"], now),
        )
    )
    assert app.privacy is not None
    await app.privacy.refresh()
    evidence_id = await app.store.add_picture(
        Picture("fridge-1", "evidence", "watchlist:1", jpeg(), 64, 48)
    )
    # ... and an entry whose registration photo its administrator kept for review.
    from veilcam.faces import watchlist as entries

    assert app.watchlist is not None
    key = await app.watchlist.key()
    template = np.full(128, 128**-0.5, np.float32)
    ada = Act(USERS["admin"], now, now + 1e6, now + 1e6)
    await app.store.db.write(
        lambda db: entries.register_job(
            db, ada, template=template, model_id="dlib_resnet_v1", key=key, photos=1,
            reference="INC-1", category="theft", kept=[jpeg()],
        )
    )  # fmt: skip
    return {
        "media_id": media_id,
        "evidence_id": evidence_id,
        "entry_id": "1",
        "n": "1",
        "clip_id": clip_id,
        "request_id": str(req),
        "camera": "fridge-1",
        "sku": "VC-1",
        "day": dt.date.fromtimestamp(now).isoformat(),
        "fmt": "csv",
    }


def canon(path: str) -> str:
    """``/pictures/{media_id:[0-9a-f]{32}}.jpg`` -> ``/pictures/{media_id}.jpg``."""
    out, i = "", 0
    while i < len(path):
        if path[i] != "{":
            out, i = out + path[i], i + 1
            continue
        name = re.match(r"\{(\w+)", path[i:])
        assert name is not None
        out += "{" + name.group(1) + "}"
        i, depth = i + 1, 1
        while depth:  # skip the pattern, braces and all
            depth += {"{": 1, "}": -1}.get(path[i], 0)
            i += 1
    return out


def concrete(path: str, values: dict[str, str]) -> str:
    if path == "/static":
        return "/static/style.css"
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


async def test_every_file_route_is_an_export_gated_by_a_record_or_declared(ui: UI) -> None:
    app, _, client = ui
    values = await seed(app)
    admin = await client("admin")
    paths = {canon(p) for m, p, _, _ in ROUTES if m == "GET"} | {"/static"}
    assert EXPORTS | set(VIEWS) | set(NOT_PERSONAL) <= paths, "a declared route that is gone"
    files, refused = set(), set()
    for path in sorted(paths):
        url = concrete(path, values)
        r = await admin.get(url, allow_redirects=False)
        kind = r.headers.get("Content-Type", "").split(";")[0]
        attachment = "attachment" in r.headers.get("Content-Disposition", "")
        if r.status == 403:
            assert "disclosure record" in await r.text(), f"{url}: refused for another reason"
            refused.add(path)
        else:
            assert r.status == 200, f"{url}: {r.status}: seed the test so every route answers"
            if kind not in PAGES or attachment:
                files.add(path)
        r.close()
    assert refused == EXPORTS, "an export must refuse without its disclosure record"
    undeclared = files - set(VIEWS) - set(NOT_PERSONAL)
    assert not undeclared, f"routes hand over files with no disclosure gate: {undeclared}"
    # and with a record, each export works and carries the record's mark
    d = await app.store.db.write(
        lambda db: disclosures.create_job(
            db,
            Act("ada", app.clock.now(), app.clock.now() + 1e6, app.clock.now() + 1e6),
            recipient="the data subject",
            legal_basis="GDPR Art. 15",
            purpose="access",
            items=[f"media:{values['media_id']}", f"request:{values['request_id']}"],
            request_id=int(values["request_id"]),
            valid_for=3600,
        )
    )
    for path in sorted(EXPORTS):
        r = await admin.get(concrete(path, values) + f"?disclosure={d}")
        assert r.status == 200, path
        body = await r.read()
        if path.endswith(".zip"):
            assert f"record #{d}" in zipfile.ZipFile(io.BytesIO(body)).read("manifest.txt").decode()
        else:
            with Image.open(io.BytesIO(body)) as im:
                assert im.height > 48  # the caption band
    r = await admin.get(concrete("/pictures/{media_id}/download", values) + "?disclosure=999")
    assert r.status == 403 and "no disclosure record 999" in await r.text()


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, f"{prefix} {name}".strip())
            return
    yield prefix


def test_every_cli_export_refuses_without_a_record(tmp_path: Path) -> None:
    every = set(commands(build_parser()))
    assert every == set(NOT_EXPORTS) | CLI_EXPORTS, (
        "name each command in NOT_EXPORTS (with why) or in privacy.EXPORTS: "
        f"{sorted(every ^ (set(NOT_EXPORTS) | CLI_EXPORTS))}"
    )
    data = tmp_path / "data"

    async def fill() -> tuple[str, int, int]:
        async with Store(data, RetentionConfig(), SystemClock()) as store:
            media_id = await store.add_picture(Picture("fridge-1", "fridge", "t", jpeg(), 64, 48))
            now = store.clock.now()
            act = Act("ada", now, now + 1e6, now + 1e6)
            req = await store.db.write(
                lambda db: requests.create_job(
                    db,
                    act,
                    kind="access",
                    received_at=now,
                    channel="letter",
                    identity_check="id",
                    description="d",
                    scope=Scope((), now - 60, now + 60),
                    processing=None,
                    correction=None,
                    days=7,
                )
            )
            d = await store.db.write(
                lambda db: disclosures.create_job(
                    db,
                    act,
                    recipient="the data subject",
                    legal_basis="Art. 15",
                    purpose="access",
                    items=[f"request:{req}", f"media:{media_id}"],
                    request_id=req,
                    valid_for=3600,
                )
            )
            return media_id, req, d

    media_id, req, d = asyncio.run(fill())
    target = {"privacy export-request": str(req), "privacy export-picture": media_id}
    assert set(target) == CLI_EXPORTS
    for command, arg in target.items():
        base = [sys.executable, "-m", "veilcam", *command.split(), arg, "--data-dir", str(data)]
        out = subprocess.run(base, capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and "--disclosure" in out.stderr, command
        out = subprocess.run(
            [*base, "--disclosure", "999"], capture_output=True, text=True, timeout=60
        )
        assert out.returncode != 0 and "no disclosure record 999" in out.stderr, command
        dest = tmp_path / f"{command.split()[-1]}.out"
        out = subprocess.run(
            [*base, "--disclosure", str(d), "-o", str(dest)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert dest.stat().st_size > 0 and dest.stat().st_mode & 0o077 == 0


async def test_a_clip_is_not_a_picture_nor_a_picture_a_clip(ui: UI) -> None:
    app, _, client = ui
    values = await seed(app)
    admin = await client("admin")
    for url in (
        f"/pictures/{values['clip_id']}.jpg",
        f"/pictures/{values['clip_id']}",
        f"/clips/{values['media_id']}.mp4",
        f"/clips/{values['media_id']}",
    ):
        r = await admin.get(url)
        assert r.status == 404, url
    r = await admin.get(f"/clips/{values['clip_id']}.mp4")
    assert r.status == 200 and r.content_type == "video/mp4"


async def test_the_clip_page_shows_its_movement_and_plays_audited(ui: UI) -> None:
    from veilcam.capture.clips import insert_events_job
    from veilcam.capture.movement import BODY, Event, PoseFrame

    app, _, client = ui
    values = await seed(app)
    clip = values["clip_id"]
    hand = tuple((0.8, 0.4, 0.9) if n == "right_wrist" else None for n in BODY)
    await app.store.db.write(
        insert_events_job,
        clip,
        1,
        [Event(0, 1.0, "reach", "bread", 0.81, 0.42, depth_mm=1150.0)],
        app.clock.now() + 3600,
        [PoseFrame(0, 0.9, hand), PoseFrame(0, 1.0, hand)],
    )
    admin = await client("admin")
    page = await (await admin.get(f"/clips/{clip}")).text()
    assert "track 0: pose placed in 2 frame(s), 0.9–1.0 s" in page
    assert re.search(r"<td>reach</td><td>bread</td><td>0\.81, 0\.42</td><td>1150 mm</td>", page)
    assert (await admin.get(f"/clips/{clip}.mp4")).status == 200
    audited = await app.store.db.read(
        lambda db: db.conn.execute(
            "SELECT action FROM audit_log WHERE object = ? ORDER BY id", (clip,)
        ).fetchall()
    )
    assert [a[0] for a in audited][-1:] == ["clip.view"]
