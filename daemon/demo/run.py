"""The demo store: simulated sensor board, replay cameras over the shipped pictures, the daemon."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import logging
import secrets
import urllib.parse
from pathlib import Path

from PIL import Image

from veilcam.accounts import Accounts
from veilcam.clock import ScaledClock
from veilcam.config import Config, load
from veilcam.demo import fridge
from veilcam.demo import research as research_scene
from veilcam.demo.broker import local_broker
from veilcam.demo.config import assets, write_config
from veilcam.demo.console import DemoConsole
from veilcam.privacy import gates, requests
from veilcam.privacy.scope import Scope, media_job
from veilcam.runtime.context import App
from veilcam.runtime.supervisor import running, stop_on_signals
from veilcam.sensors.simulator import BoardSimulator, FaultRates
from veilcam.stock import admin, queries
from veilcam.stock.catalogue import Catalogue
from veilcam.store.references import References, empty_name
from veilcam.web.app import web_services

log = logging.getLogger(__name__)


async def _first_admin(app: App) -> None:
    """No default credentials: the demo makes its administrator with a random one-time
    password, printed once, to be changed at the first sign-in."""
    accounts = Accounts(app.store)
    if await accounts.list():
        return
    password = secrets.token_urlsafe(12)
    await accounts.add("admin", "admin", password, actor="demo", must_change=True)
    print(
        f"veilcam demo: sign in as admin with the one-time password {password} "
        "(shown only now; you will choose a new one)",
        flush=True,
    )


def calibrate_fridge(data_dir: Path) -> None:
    """What the technician did at installation: the fridge's stocked and empty pictures
    (``veilcam calibrate fridge-1`` and ``--empty``), taken with nobody in front."""
    refs = References(data_dir)
    if refs.load(fridge.CAMERA) is None:
        refs.save(fridge.CAMERA, fridge.stocked())
        refs.save(empty_name(fridge.CAMERA), fridge.empty())


async def _technician(app: App) -> str:
    """The installer's account for the demo's serial console (a technician's password is
    theirs: nothing to change at the first sign-in)."""
    password = secrets.token_urlsafe(12)
    await Accounts(app.store).add("tech", "technician", password, actor="demo")
    return password


async def _stock_catalogue(app: App) -> None:
    """... and the store's catalogue and planogram, imported as its planogram tool wrote them."""
    if await app.store.db.read(queries.facings_job, fridge.CAMERA):
        return
    cat = Catalogue(fridge.PRODUCTS, fridge.planogram())
    await admin.import_catalogue(app.store, cat, "demo", fridges=[fridge.CAMERA])
    for p in fridge.PRODUCTS:
        await admin.set_image(
            app.store, p.sku, fridge.jpeg(fridge.catalogue_picture(p.sku)), "demo"
        )


async def _second_admin_proposal(app: App) -> None:
    """The store's other administrator (the data-protection officer) has proposed a
    research study; the demo's admin decides it under Privacy > Feature gates. Its password
    is random and never shown: the account exists only to have proposed."""
    privacy = app.privacy
    accounts = Accounts(app.store)
    if privacy is None or any(u["username"] == "dpo" for u in await accounts.list()):
        return
    await accounts.add("dpo", "admin", secrets.token_urlsafe(24), actor="demo")
    await privacy.propose(
        privacy.act("dpo"),
        feature="research",
        legal_basis="consent of the study's participants (GDPR Art. 6(1)(a)), recruited in store",
        purpose="how shoppers move and reach at the bread shelf, for the chain's layout study",
        dpia_ref="DPIA-2026-07 (bread-shelf study)",
        signage="A4 notices at both entrances and at the bread shelf, printed from /privacy",
    )


async def _research_study(app: App) -> None:
    """The research scenario: the demo's administrator approves the DPO's proposal (both
    are the demo's accounts: in a store, two people decide) and a study starts on the aisle
    camera, with the shelf as its zone."""
    privacy, research = app.privacy, app.research
    if privacy is None or research is None or "research" in privacy.open_gates:
        return
    rows = await app.store.db.read(gates.list_job)
    proposed = next(g for g in rows if g["feature"] == "research" and g["state"] == "proposed")
    await privacy.decide_gate(privacy.act("admin"), proposed["id"], True)
    now = app.clock.now()
    await research.create(
        privacy.act("admin"),
        name="bread shelf",
        purpose="how shoppers reach at the bread shelf, for the chain's layout study",
        legal_basis="consent of the study's participants (GDPR Art. 6(1)(a))",
        starts_at=now - 60,
        ends_at=now + 14 * 86400,
        areas={"aisle-2": research_scene.AREA},
        zones={"aisle-2": {"bread": research_scene.ZONE}},
    )
    print("veilcam demo: research study 'bread shelf' recording on aisle-2", flush=True)


def _faces_installed() -> None:
    """The watchlist scenario needs the face features: say how to get them, or fetch the
    pinned models (about 100 MB, once)."""
    try:
        import dlib  # noqa: F401
    except ImportError:
        raise SystemExit(
            "veilcam demo: the watchlist scenario needs the face features:"
            " .venv/bin/pip install -e '.[faces]'"
        ) from None
    from veilcam.vision import models

    models.fetch(extras=("faces",))


async def _watchlist_entry(app: App) -> None:
    """The watchlist scenario: the DPO proposes the watchlist, the demo's admin approves;
    the DPO registers a shopper from a photo of an earlier incident (the demo's smaller
    picture of her), the admin approves the entry; the floor camera at the entrance then
    sees her and a match waits for review under Privacy > Watchlist."""
    privacy, w = app.privacy, app.watchlist
    if privacy is None or w is None or "watchlist" in privacy.open_gates:
        return
    gate = await privacy.propose(
        privacy.act("dpo"),
        feature="watchlist",
        legal_basis="legitimate interest after repeated thefts (GDPR Art. 6(1)(f)), DPIA done",
        purpose="recognise people banned after an incident at the entrance, for staff review",
        dpia_ref="DPIA-2026-11 (entrance watchlist)",
        signage="notice at the entrance naming the watchlist, printed from /privacy",
    )
    await privacy.decide_gate(privacy.act("admin"), gate, True)
    with Image.open(assets() / "floor" / "aisle-2-shopper.jpg") as im:
        crop = im.convert("RGB").crop((700, 300, 1060, 660))
        out = io.BytesIO()
        crop.save(out, "JPEG", quality=92)
    entry = await w.register(
        privacy.act("dpo"), [out.getvalue()], reference="INC-2026-117", category="theft"
    )
    await w.decide(privacy.act("admin"), entry, True)
    print(
        "veilcam demo: watchlist entry #1 registered and approved; floor-1 watches the"
        " entrance: see Privacy > Watchlist",
        flush=True,
    )


async def _privacy_examples(app: App) -> None:
    """Two shoppers' requests about the floor camera's last minutes, as a store would have
    them: one asking for a copy (access), one letter asking for erasure that came in six
    days ago and is due tomorrow. People are in those pictures, redacted."""
    privacy = app.privacy
    if privacy is None or len(await app.store.db.read(requests.list_job)) > 0:
        return
    for _ in range(120):  # the first floor pictures arrive within seconds
        now = app.clock.now()
        scope = Scope(("floor-1",), now - 600, now + 60)
        if len(await app.store.db.read(media_job, scope)) >= 3:
            break
        await asyncio.sleep(0.5)
    else:
        return
    act = privacy.act("demo")
    common = {
        "cameras": ["floor-1"],
        "start": now - 600,
        "end": now + 60,
        "processing": None,
        "correction": None,
    }
    await privacy.create_request(
        act,
        kind="access",
        received_at=now,
        channel="counter",
        identity_check="came back with the receipt of the visit",
        description="asks for every picture of them near the bread shelf in the last minutes",
        **common,
    )
    await privacy.create_request(
        act,
        kind="erasure",
        received_at=now - 6 * 86400,
        channel="letter",
        identity_check="letter names the visit's date and time, card payment matches",
        description="asks that pictures of them from this visit be deleted",
        **common,
    )


async def run_demo(
    data_dir: Path,
    *,
    port: int,
    duration: float | None,
    seed: int | None,
    faults: str,
    speed: float,
    scenario: str = "normal-day",
    email_to: str | None = None,
    smtp: str = "127.0.0.1:25",
    mqtt: str | None = None,
) -> None:
    if mqtt == "local":  # a broker of the demo's own, for the fleet view
        with local_broker(data_dir / "broker") as url:
            await run_demo(
                data_dir,
                port=port,
                duration=duration,
                seed=seed,
                faults=faults,
                speed=speed,
                scenario=scenario,
                email_to=email_to,
                smtp=smtp,
                mqtt=url,
            )
        return
    defrost = None
    if scenario == "defrost-cycles":  # the board defrosts every 6 h from now: tell the rules
        start = dt.datetime.now()
        defrost = sorted({(start + dt.timedelta(hours=6 * k)).strftime("%H:%M") for k in range(4)})
    fridge.write_day(data_dir / "fridge-1-replay")
    calibrate_fridge(data_dir)
    research_scene.write(data_dir / "door-replay")  # the counting camera's walking shopper
    scene = None
    if scenario == "research":
        scene = data_dir / "research-scene"
        research_scene.write(scene)
        scenario = "normal-day"  # the sensor board's day goes on as usual
    watchlist = scenario == "watchlist"
    if watchlist:
        _faces_installed()
        scenario = "normal-day"
    config_path = write_config(
        data_dir, port, speed, defrost, email_to, smtp, scene, watchlist, mqtt
    )
    config: Config = load(config_path)
    # The daemon's log, also to a file: what the console's `logs` shows without a journal.
    log_file = logging.FileHandler(data_dir / "daemon.log")
    log_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(log_file)
    console: DemoConsole | None = None
    assert config.sensors is not None
    sim_log = (data_dir / "sim.log").open("a")
    sim = BoardSimulator(
        Path(config.sensors.port),
        seed=seed,
        speed=speed,
        faults=FaultRates.parse(faults),
        log_file=sim_log,
        # A door opening (and its picture) within the first half minute a new user watches,
        # then one every 45 s on average.
        door_interval=45.0,
        first_door=8.0,
        scenario=scenario,
    )
    await sim.start()
    web = config.web
    try:
        with stop_on_signals() as stop:
            clock = ScaledClock(speed) if speed != 1.0 else None
            async with running(config, clock=clock, extra=web_services(config)) as app:
                if web:
                    scheme = "https" if web.tls else "http"
                    print(
                        f"veilcam demo: web UI on {scheme}://{web.host}:{web.port}/  "
                        f"data in {data_dir}  (Ctrl-C stops)",
                        flush=True,
                    )
                    await _first_admin(app)
                console = DemoConsole(data_dir, config_path, data_dir / "daemon.log")
                print(
                    f"veilcam demo: technician console on {console.link} (picocom -q"
                    f" {console.link}, or screen): sign in as tech with the password"
                    f" {await _technician(app)}",
                    flush=True,
                )
                if mqtt is not None:
                    where = urllib.parse.urlsplit(mqtt)
                    print(
                        "veilcam demo: head office's view of the box: veilcam fleet watch"
                        f" --broker mqtt://{where.hostname}:{where.port}",
                        flush=True,
                    )
                await _stock_catalogue(app)
                await _second_admin_proposal(app)
                if scene is not None:
                    await _research_study(app)
                if watchlist:
                    await _watchlist_entry(app)
                board = asyncio.create_task(sim.run())
                examples = asyncio.create_task(_privacy_examples(app))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(duration):
                        await stop.wait()
                board.cancel()
                examples.cancel()
                await asyncio.gather(board, examples, return_exceptions=True)
                await asyncio.sleep(0.5)  # let the reader take what the board already sent
    finally:
        if console is not None:
            console.close()
        logging.getLogger().removeHandler(log_file)
        log_file.close()
        sim.close()
        sim_log.close()
