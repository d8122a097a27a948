"""The notice to shoppers, made from the site's settings and what is actually switched on:
the same sections for the printed A4 (``notice_pdf``) and the ``/privacy`` page. Texts come
from ``locale/<lang>.toml``; a key a translation lacks falls back to English.

Only cameras that are configured and features whose gate is open are named, so the notice
never promises less than the appliance does, nor warns of what it does not do.
"""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from veilcam.certificate import lan_addresses
from veilcam.config import Config
from veilcam.durations import format_duration
from veilcam.retention import CLASSES

LOCALE = Path(__file__).parent / "locale"
GATED = ("research", "uploads", "watchlist", "counting_dedup")


def languages() -> list[str]:
    return sorted(p.stem for p in LOCALE.glob("*.toml"))


@functools.cache
def strings(lang: str) -> dict[str, dict[str, str]]:
    """The texts of ``lang``, each section completed from English."""
    if lang not in languages():
        raise ValueError(f"no notice translation {lang!r}; one of {', '.join(languages())}")
    english = tomllib.loads((LOCALE / "en.toml").read_text(encoding="utf-8"))
    own = tomllib.loads((LOCALE / f"{lang}.toml").read_text(encoding="utf-8"))
    return {part: {**english[part], **own.get(part, {})} for part in english}


def notice_url(config: Config) -> str:
    """Where the QR code points: the configured URL, else this appliance's /privacy on its
    address on the shop's network (the plain-HTTP notice port when there is one)."""
    p = config.privacy
    if p.notice_url:
        return p.notice_url
    web = config.web
    host = next(iter(lan_addresses(web.host if web else "")), "127.0.0.1")
    if p.notice_http_port is not None:
        return f"http://{host}:{p.notice_http_port}/privacy"
    if web is not None:
        scheme = "https" if web.tls else "http"
        host = host if web.host not in ("127.0.0.1", "::1", "localhost") else web.host
        return f"{scheme}://{host}:{web.port}/privacy"
    return ""


@dataclass
class Section:
    heading: str
    lines: list[str] = field(default_factory=list)
    rows: list[tuple[str, str]] = field(default_factory=list)  # (what, limit or basis)


@dataclass
class Notice:
    lang: str
    language: str
    title: str
    subtitle: str
    sections: list[Section]
    url: str
    updated: str
    more: str
    others: dict[str, str]  # the other languages: code -> own name


def build(
    config: Config,
    open_gates: dict[str, dict[str, Any]],
    now_text: str,
    lang: str,
    studies: Sequence[tuple[str, str, list[str]]] = (),
) -> Notice:
    """``studies``: the research studies recording now, as (name, end date, cameras)."""
    t = strings(lang)
    text, capture, classes, labels = t["text"], t["capture"], t["classes"], t["labels"]
    site = config.site
    controller = config.privacy.controller or site
    purposes = {c.purpose for c in config.cameras}
    gated = [f for f in GATED if f in open_gates]

    what = Section(text["what"])
    basis = Section(text["basis"])
    stills = [p for p in ("fridge", "floor") if p in purposes]
    for p in stills:
        what.lines.append(capture[p])
    if stills:
        basis.rows.append((", ".join(labels[p] for p in stills), config.privacy.stills_basis))
    for f in gated:
        what.lines.append(capture[f])
        basis.rows.append((labels[f], open_gates[f]["legal_basis"]))
    if config.sensors is not None or config.cabinets:
        what.lines.append(capture["sensors"])
    what.lines.append(text["no_faces"])

    keep = Section(text["keep"])
    kept = []
    if "fridge" in purposes:
        kept.append("fridge_stills")
    if purposes & {"floor", "research"}:
        kept.append("floor_stills")
    if "watchlist" in gated:
        kept += ["watchlist", "face_evidence"]
    if "counting_dedup" in gated:
        kept.append("visitor_templates")
    kept += ["audit_log", "requests"]
    for name in kept:
        limit = config.retention.seconds(name)
        keep.rows.append((classes.get(name, CLASSES[name].what), format_duration(limit)))
    if "research" in gated:
        keep.rows.append((classes["research_clips"], "30d"))

    decisions = Section(text["decisions"])
    for f in gated:
        g = open_gates[f]
        decisions.lines.append(
            text["decision_line"].format(
                feature=labels[f],
                proposed_by=g["proposed_by"],
                decided_by=g["decided_by"],
                decided=dt.datetime.fromtimestamp(g["decided_at"]).strftime("%Y-%m-%d"),
                dpia_ref=g["dpia_ref"],
            )
        )
    if not gated:
        decisions.lines.append(text["no_decisions"])
    for name, until, cams in studies:
        decisions.lines.append(
            text["study_line"].format(name=name, until=until, cameras=", ".join(cams))
        )

    share = config.watchlist.sharing
    shared = None
    if share is not None and "watchlist" in gated:
        shared = Section(
            text["shared"],
            [
                text["shared_who"].format(group=share.group),
                text["shared_purpose"].format(purpose=share.purpose),
                text["shared_data"].format(data=share.data),
                text["shared_responsible"].format(responsible=share.responsible),
            ],
        )
    contact = config.privacy.contact or controller
    sections = [
        Section(text["who"], [text["who_text"].format(controller=controller)]),
        Section(text["contact"], [contact]),
        what,
        basis,
        keep,
        Section(text["rights"], [text["rights_text"].format(days=config.privacy.request_days)]),
        decisions,
        *([shared] if shared is not None else []),
    ]
    return Notice(
        lang=lang,
        language=t["meta"]["name"],
        title=text["title"],
        subtitle=text["subtitle"].format(site=site),
        sections=sections,
        url=notice_url(config),
        updated=text["updated"].format(when=now_text),
        more=text["more"],
        others={
            code: strings(code)["meta"]["name"]
            for code in config.privacy.notice_languages
            if code != lang
        },
    )
