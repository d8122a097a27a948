"""The notice to shoppers: the printed A4 rendered and its QR code decoded to the URL the
appliance serves the second layer on, read-only over plain HTTP; every text translated."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import aiohttp
import cv2
import numpy as np
import pypdfium2

from tests.support.aio import until
from tests.support.daemon import DEMO_ASSETS, config_for, free_port
from veilcam.clock import FakeClock
from veilcam.privacy.notice import LOCALE, notice_url
from veilcam.runtime.supervisor import running
from veilcam.web.app import web_services


def decode_qr(pdf: bytes, page: int = 0) -> str:
    image = pypdfium2.PdfDocument(pdf)[page].render(scale=2).to_pil().convert("L")
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(np.asarray(image))
    assert points is not None and text, "no QR code found on the notice"
    return str(text)


async def test_the_printed_notice_leads_to_the_page_it_names(data_dir: Path) -> None:
    port = free_port()
    config = config_for(
        data_dir,
        '[[cameras]]\nname = "floor-1"\npurpose = "floor"\n'
        f'source = {{ kind = "replay", path = "{DEMO_ASSETS / "floor"}" }}\n'
        '[privacy]\ncontroller = "Bakkerij Jansen B.V., Dorpsstraat 12"\n'
        'contact = "privacy@jansen.example"\n'
        f"notice_http_port = {port}\n",
    )
    url = notice_url(config)
    assert url.startswith("http://") and url.endswith(f":{port}/privacy")
    async with running(config, clock=FakeClock(), extra=web_services(config)):
        async with aiohttp.ClientSession() as http:
            await until(lambda: _answers(http, f"http://127.0.0.1:{port}/privacy"))
            async with http.get(f"http://127.0.0.1:{port}/privacy/notice.pdf") as r:
                assert r.status == 200 and r.content_type == "application/pdf"
                pdf = await r.read()
            doc = pypdfium2.PdfDocument(pdf)
            assert len(doc) == 2  # English, then Dutch
            assert decode_qr(pdf, 0) == url and decode_qr(pdf, 1) == url
            assert "Cameras in this shop" in doc[0].get_textpage().get_text_range()
            assert "Camera's in deze winkel" in doc[1].get_textpage().get_text_range()

            async with http.get(url) as r:  # where a phone that scanned it goes
                page = await r.text()
                assert r.status == 200 and "Set-Cookie" not in r.headers
            assert "Bakkerij Jansen B.V." in page and "privacy@jansen.example" in page
            assert "fridge pictures" in page and "shop-floor pictures" in page
            assert "within 7 days" in page

            async with http.get(url, headers={"Accept-Language": "nl-NL,nl;q=0.9"}) as r:
                assert "Uw rechten" in await r.text() and r.headers["Content-Language"] == "nl"
            async with http.get(url + "?lang=en", headers={"Accept-Language": "nl"}) as r:
                assert "Your rights" in await r.text()

            # Nothing else of the appliance is on the plain-HTTP port.
            base = f"http://127.0.0.1:{port}"
            for path in ("/login", "/api/status", "/pictures", "/requests", "/gates"):
                async with http.get(base + path) as r:
                    assert r.status == 404, path
            async with http.post(base + "/privacy", data={"x": "1"}) as r:
                assert r.status == 405


async def _answers(http: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with http.get(url) as r:
            return r.status == 200
    except aiohttp.ClientError:
        await asyncio.sleep(0.05)
        return False


def test_every_text_of_the_notice_is_translated() -> None:
    english = tomllib.loads((LOCALE / "en.toml").read_text())
    for path in LOCALE.glob("*.toml"):
        other = tomllib.loads(path.read_text())
        missing = [
            f"{part}.{key}"
            for part, texts in english.items()
            for key in texts
            if key not in other.get(part, {})
        ]
        assert not missing, f"{path.name} lacks {missing}"
        for part, texts in english.items():  # the same placeholders, none lost
            for key, text in texts.items():
                want = sorted(w.split("}")[0] for w in text.split("{")[1:])
                got = sorted(w.split("}")[0] for w in other[part][key].split("{")[1:])
                assert got == want, f"{path.name} {part}.{key}: {got} != {want}"


def test_a_running_study_is_named_with_its_end_and_cameras(data_dir: Path) -> None:
    from veilcam.privacy.notice import build

    config = config_for(data_dir)
    gate = {"research": {"legal_basis": "consent", "proposed_by": "ada", "decided_by": "ben",
                         "decided_at": 1.8e9, "dpia_ref": "DPIA-7"}}  # fmt: skip
    studies = [("bread shelf", "2027-01-06", ["aisle-1"])]
    en = build(config, gate, "now", "en", studies)
    nl = build(config, gate, "now", "nl", studies)
    assert any('"bread shelf" records here until 2027-01-06 (aisle-1)' in line
               for s in en.sections for line in s.lines)  # fmt: skip
    assert any("bread shelf" in line and "binnen 30 dagen" in line
               for s in nl.sections for line in s.lines)  # fmt: skip
