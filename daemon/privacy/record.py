"""The record of processing activities (GDPR Article 30(1)), from the configuration, the
feature gates and the disclosure register: who the controller is, each activity's purpose,
data subjects, data, legal basis, recipients, transfers and time limit, and the security
measures the appliance itself enforces. Written as Markdown and as a PDF."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from veilcam.config import Config
from veilcam.durations import format_duration
from veilcam.privacy import gates as gates_mod

SECURITY = [
    "People are redacted on the appliance before any picture is stored; a frame that "
    "cannot be redacted is stored blanked (fail closed). No raw frame reaches the disk.",
    "Each picture is encrypted (AES-256-GCM) under its own data key, wrapped by the media "
    "key; erasing a picture destroys its key. The media key can be rotated "
    "(`veilcam keys rotate`), the old one destroyed at the end.",
    "Retention limits are caps in code and in the database schema; configuration may "
    "shorten them, never lengthen them. Deleted rows are overwritten (secure_delete).",
    "Web UI over HTTPS only (TLS 1.2+, AEAD suites); passwords hashed with Argon2id; at "
    "most two administrators, whose passwords expire sooner; the last 5 passwords cannot be "
    "reused; API tokens expire.",
    "Every access to a picture and every privacy operation is written to a hash-chained "
    "audit log; nothing personal leaves without a disclosure record.",
    "Features that process people beyond redaction need a decision proposed by one "
    "administrator and approved by the other (feature gates).",
]


@dataclass
class Activity:
    name: str
    purpose: str
    subjects: str
    data: str
    basis: str
    recipients: str
    transfers: str
    limit: str


@dataclass
class Record:
    site: str
    controller: str
    contact: str
    made: str
    activities: list[Activity] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)


def _limit(config: Config, name: str) -> str:
    return format_duration(config.retention.seconds(name))


def recipients_job(db: Database) -> list[str]:
    """Everyone personal data was disclosed to, per the register."""
    rows = db.conn.execute(
        "SELECT recipient, count(*) AS n, max(at) AS last FROM disclosures"
        " GROUP BY recipient ORDER BY last DESC"
    )
    return [f"{r['recipient']} ({r['n']} disclosure(s), last {_day(r['last'])})" for r in rows]


def _day(t: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(t))


def build(config: Config, gates: list[dict[str, Any]], recipients: list[str]) -> Record:
    p = config.privacy
    rec = Record(
        site=config.site,
        controller=p.controller or f"(not set: privacy.controller) site {config.site}",
        contact=p.contact or "(not set: privacy.contact)",
        made=time.strftime("%Y-%m-%d %H:%M"),
        recipients=recipients,
        gates=gates,
    )
    on_request = "only as recorded in the disclosure register (see below)"
    purposes = {c.purpose for c in config.cameras}
    cams = {
        purpose: ", ".join(c.name for c in config.cameras if c.purpose == purpose)
        for purpose in purposes
    }
    if "fridge" in purposes:
        rec.activities.append(
            Activity(
                f"Fridge pictures ({cams['fridge']})",
                "food safety and stock monitoring: which facings need restocking",
                "shoppers and staff in front of an open fridge",
                "still pictures inside the fridge with every person and hand covered before "
                "storage; stock states per facing",
                p.stills_basis,
                on_request,
                "none",
                _limit(config, "fridge_stills"),
            )
        )
    if purposes & {"floor", "research"}:
        names = ", ".join(cams[x] for x in ("floor", "research") if x in cams)
        rec.activities.append(
            Activity(
                f"Shop-floor pictures ({names})",
                "the shop's safety",
                "shoppers and staff on the shop floor",
                "still pictures with whole people covered before storage (research cameras: "
                "faces and heads covered)",
                p.stills_basis,
                on_request,
                "none",
                _limit(config, "floor_stills"),
            )
        )
    for g in gates:
        if g["state"] != "open":
            continue
        rec.activities.append(
            Activity(
                f"{g['feature']} (feature gate #{g['id']})",
                g["purpose"],
                "shoppers" + (" taking part in the study" if g["feature"] == "research" else ""),
                gates_mod.FEATURES[g["feature"]],
                g["legal_basis"],
                "the chain's research storage" if g["feature"] == "uploads" else on_request,
                "as configured for uploads" if g["feature"] == "uploads" else "none",
                "30d" if g["feature"] in ("research", "uploads") else _limit(config, "watchlist"),
            )
        )
    rec.activities += [
        Activity(
            "Shoppers' requests and the privacy registers",
            "answering data-subject requests; disclosure, hold and breach registers",
            "shoppers who make a request; staff who handle it",
            "the request as written down (no identity documents), actions and replies",
            "legal obligation (GDPR Art. 12-22, 30, 33)",
            "the requester",
            "none",
            _limit(config, "requests"),
        ),
        Activity(
            "Audit log and staff accounts",
            "accountability: who looked at or changed what",
            "staff with an account",
            "user names, roles, password hashes, addresses and times of each access",
            "legal obligation (GDPR Art. 5(2), 32)",
            "none",
            "none",
            _limit(config, "audit_log"),
        ),
    ]
    return rec


def markdown(rec: Record) -> str:
    out = [
        f"# Record of processing activities — {rec.site}",
        "",
        f"Made {rec.made} by veilcam from the appliance's configuration and registers "
        "(GDPR Article 30(1)).",
        "",
        "## Controller",
        "",
        f"- Controller: {rec.controller}",
        f"- Data-protection contact: {rec.contact}",
        "",
        "## Processing activities",
        "",
    ]
    for a in rec.activities:
        out += [
            f"### {a.name}",
            "",
            f"- Purpose: {a.purpose}",
            f"- Data subjects: {a.subjects}",
            f"- Personal data: {a.data}",
            f"- Legal basis: {a.basis}",
            f"- Recipients: {a.recipients}",
            f"- Transfers to third countries: {a.transfers}",
            f"- Time limit for erasure: {a.limit}",
            "",
        ]
    out += ["## Feature gates", ""]
    if not rec.gates:
        out.append("No feature beyond redaction has been proposed.")
    for g in rec.gates:
        verb = "refused" if g["state"] == "refused" else "approved"
        decided = f", {verb} by {g['decided_by']}" if g["decided_by"] else ""
        closed = f", closed by {g['closed_by']}" if g["closed_by"] else ""
        out.append(
            f"- #{g['id']} {g['feature']}: {g['state']}; proposed by {g['proposed_by']}"
            f"{decided}{closed}; basis: {g['legal_basis']}; DPIA {g['dpia_ref']}; "
            f"signage: {g['signage']}"
        )
    out += ["", "## Recipients of disclosures", ""]
    out += [f"- {r}" for r in rec.recipients] or ["None recorded."]
    out += ["", "## Technical and organisational security measures (Art. 32)", ""]
    out += [f"- {m}" for m in SECURITY]
    return "\n".join(out) + "\n"


def pdf(rec: Record) -> bytes:
    """The same record as an A4 PDF."""
    from fpdf import FPDF

    from veilcam.privacy.notice_pdf import latin1

    doc = FPDF(orientation="portrait", unit="mm", format="A4")
    doc.set_margins(18, 16, 18)
    doc.set_auto_page_break(auto=True, margin=14)
    doc.add_page()
    width = doc.w - doc.l_margin - doc.r_margin
    for line in markdown(rec).splitlines():
        if line.startswith("# "):
            doc.set_font("Helvetica", style="B", size=16)
            doc.multi_cell(width, 8, latin1(line[2:]), new_x="LMARGIN", new_y="NEXT")
        elif line.startswith("## "):
            doc.ln(2)
            doc.set_font("Helvetica", style="B", size=13)
            doc.multi_cell(width, 7, latin1(line[3:]), new_x="LMARGIN", new_y="NEXT")
        elif line.startswith("### "):
            doc.set_font("Helvetica", style="B", size=11)
            doc.multi_cell(width, 6, latin1(line[4:]), new_x="LMARGIN", new_y="NEXT")
        elif line:
            doc.set_font("Helvetica", size=9.5)
            text = latin1(line.replace("`", ""))
            doc.multi_cell(width, 4.8, text, align="L", new_x="LMARGIN", new_y="NEXT")
        else:
            doc.ln(1.5)
    return bytes(doc.output())
