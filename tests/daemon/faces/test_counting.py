"""Anonymous visitor counting: people crossing a line, in and out, once each however long
they stand on it; staff seen in their badge zone not counted; counts per 15 minutes, and
nothing else stored. Through the whole daemon with the replayed shopper."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.support.aio import until
from tests.support.daemon import config_for
from tests.support.web import PW, sign_in
from veilcam.accounts import Accounts
from veilcam.config import CountingConfig, WebConfig, loads
from veilcam.demo import research as scene
from veilcam.errors import ConfigError
from veilcam.faces.counting import BUCKET, LineCounter
from veilcam.runtime.supervisor import running
from veilcam.web.app import make_web_app

SHAPE = (100, 200)  # h, w
ACROSS = CountingConfig(line=((0.0, 0.5), (1.0, 0.5)))  # walking down the picture: in


def walk(
    counter: LineCounter, feet_y: list[float], x: float = 100, t0: float = 0.0
) -> dict[str, int]:
    """One person (a 40 x 30 box) whose feet go through ``feet_y`` (pixels), a frame each."""
    total = {"entered": 0, "exited": 0, "staff": 0}
    for i, y in enumerate(feet_y):
        box = np.array([[x - 15, y - 40, x + 15, y]])
        for k, v in counter.step(t0 + i * 0.2, box, SHAPE).items():
            total[k] += v
    return total


def test_in_and_out_once_each() -> None:
    c = LineCounter(ACROSS)
    assert walk(c, [20, 30, 40, 50, 60, 70, 80]) == {"entered": 1, "exited": 0, "staff": 0}
    c = LineCounter(ACROSS)
    assert walk(c, [80, 70, 60, 50, 40, 30]) == {"entered": 0, "exited": 1, "staff": 0}


def test_standing_on_the_line_counts_once() -> None:
    c = LineCounter(ACROSS)
    jitter = [30, 40, 49, 51, 49, 51, 50, 49, 51, 60, 70, 51, 49, 51]
    assert walk(c, jitter) == {"entered": 1, "exited": 0, "staff": 0}


def test_two_people_at_once_and_one_who_never_crosses() -> None:
    c = LineCounter(ACROSS)
    total = {"entered": 0, "exited": 0, "staff": 0}
    for i, (a, b, d) in enumerate(
        zip([20, 35, 55, 70], [80, 65, 45, 30], [10, 12, 14, 16], strict=True)
    ):
        boxes = np.array([[30, a - 30, 60, a], [130, b - 30, 160, b], [170, d - 8, 190, d]])
        for k, v in c.step(i * 0.2, boxes, SHAPE).items():
            total[k] += v
    assert total == {"entered": 1, "exited": 1, "staff": 0}


def test_staff_seen_in_their_badge_zone_are_not_counted() -> None:
    badge = CountingConfig(
        line=((0.0, 0.5), (1.0, 0.5)),
        staff_zone=[(0.0, 0.0), (0.3, 0.0), (0.3, 0.3), (0.0, 0.3)],
    )
    c = LineCounter(badge)
    assert walk(c, [20, 25, 40, 60, 80], x=30) == {"entered": 0, "exited": 0, "staff": 1}
    assert walk(c, [20, 40, 60, 80], x=150, t0=10) == {"entered": 1, "exited": 0, "staff": 0}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('purpose = "fridge"\nstream = { fps = 2 }\n', "counted on a floor camera's stream"),
        ('purpose = "floor"\n', "without a \\[cameras.stream\\]"),
    ],
)
def test_counting_needs_a_floor_stream(extra: str, message: str) -> None:
    text = (
        '[[cameras]]\nname = "door"\n' + extra + 'source = { kind = "replay", path = "x" }\n'
        "counting = { line = [[0, 0.5], [1, 0.5]] }\n"
    )
    with pytest.raises(ConfigError, match=message):
        loads(text)
    with pytest.raises(ConfigError, match="two points must be apart"):
        loads(text.replace("[[0, 0.5], [1, 0.5]]", "[[0.5, 0.5], [0.51, 0.5]]"))


@pytest.mark.slow  # the whole daemon redacting a replayed stream
async def test_the_daemon_counts_the_replayed_shopper(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "door"
    scene.write(folder)
    extra = (
        '[[cameras]]\nname = "door"\npurpose = "floor"\n'
        f'source = {{ kind = "replay", path = "{folder}" }}\n'
        'stream = { fps = 10, still_interval = "60s" }\n'
        # Up the middle of the picture: walking in from the left is coming in.
        "counting = { line = [[0.5, 1.0], [0.5, 0.0]] }\n"
    )

    def rows() -> list[tuple[object, ...]]:
        with sqlite3.connect(data_dir / "veilcam.db") as conn:
            return conn.execute(
                "SELECT camera, bucket, entered, exited, staff FROM visitor_counts"
            ).fetchall()

    async with running(config_for(data_dir, extra)) as app:

        async def both_ways() -> bool:
            got = rows()
            return bool(got) and sum(r[3] for r in got) >= 1  # type: ignore[misc]

        await until(both_ways, 60)
        # The manager's dashboard shows today's numbers, and nothing more.
        await Accounts(app.store).add("maria", "manager", PW, actor="test")
        web = TestClient(TestServer(make_web_app(app, WebConfig(tls=False))))
        await web.start_server()
        try:
            assert (await sign_in(web, "maria")).status == 302
            page = await (await web.get("/")).text()
            counts = await (await web.get("/api/counts?camera=door")).json()
            bad = await web.get("/api/counts?hours=100000")
        finally:
            await web.close()
    got = rows()
    assert "came in past door" in page and "no face is looked at" in page
    assert counts["bucket_seconds"] == BUCKET and counts["counts"]
    first = counts["counts"][0]
    assert set(first) == {
        "camera",
        "bucket",
        "entered",
        "exited",
        "staff",
        "unique_visitors",
        "repeat_visitors",
    }
    assert first["unique_visitors"] is None, "anonymous mode: no de-duplication at all"
    assert bad.status == 400
    assert {r[0] for r in got} == {"door"} and all(float(r[1]) % BUCKET == 0 for r in got)  # type: ignore[arg-type]
    entered, exited = sum(r[2] for r in got), sum(r[3] for r in got)  # type: ignore[misc]
    assert entered >= 1 and exited >= 1 and abs(entered - exited) <= 1
    with sqlite3.connect(data_dir / "veilcam.db") as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(visitor_counts)")]
    assert columns == [
        "camera", "bucket", "entered", "exited", "staff", "expires_at", "unique_visitors",
        "repeat_visitors",
    ]  # fmt: skip
    assert app.counting is not None and not app.counting.pending
