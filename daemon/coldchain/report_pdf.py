"""The daily cold-chain report as a PDF: a summary, a chart and the excursions per cabinet
(fpdf2).

fpdf2 and the fontTools it brings take about 20 MB; the web handler and the CLI import this
module when a PDF is asked for, so the daemon does not carry them from its start.
"""

from __future__ import annotations

from fpdf import FPDF

from veilcam.alerts.episodes import duration_text
from veilcam.coldchain.report import (
    MIN_EXCURSION,
    CabinetDay,
    Report,
    excursion_text,
    iso,
)


def _chart(pdf: FPDF, c: CabinetDay, start: float, end: float, x: float, y: float) -> None:
    """Temperature over the day, the limits as lines, door openings as shaded bands."""
    w, h = 165.0, 55.0
    values = [v for _, v in c.series] + [c.limit, c.alarm_limit]
    lo, hi = min(values) - 1, max(values) + 1
    span = end - start

    def px(t: float) -> float:
        return x + (t - start) / span * w

    def py(v: float) -> float:
        return y + h - (v - lo) / (hi - lo) * h

    pdf.set_fill_color(225, 235, 250)
    for a, b in c.doors:
        pdf.rect(px(a), y, max(px(b) - px(a), 0.2), h, style="F")
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    pdf.rect(x, y, w, h)
    pdf.set_font("Helvetica", size=7)
    for hour in range(0, 25, 3):
        tx = x + hour / 24 * w
        pdf.line(tx, y + h, tx, y + h + 1)
        pdf.text(tx - 2, y + h + 4, f"{hour:02d}")
    for v, colour in ((c.limit, (230, 150, 0)), (c.alarm_limit, (200, 0, 0))):
        pdf.set_draw_color(*colour)
        pdf.line(x, py(v), x + w, py(v))
        pdf.text(x + w + 1, py(v) + 1, f"{v:.1f} °C")
    pdf.set_draw_color(120, 120, 120)
    pdf.text(x - 12, y + 3, f"{hi:.0f} °C")
    pdf.text(x - 12, y + h, f"{lo:.0f} °C")
    # One point per chart column is plenty (a day of 1 s readings is 86,400 points).
    columns: dict[int, list[float]] = {}
    for t, v in c.series:
        columns.setdefault(int((t - start) / span * 360), []).append(v)
    pdf.set_draw_color(20, 90, 200)
    pdf.set_line_width(0.35)
    line: list[tuple[float, float]] = []
    prev = None
    for col in sorted(columns):
        vs = columns[col]
        if prev is not None and col - prev > 2 and len(line) > 1:  # a gap in the data
            pdf.polyline(line)
            line = []
        tx = x + col / 360 * w
        line += [(tx, py(max(vs))), (tx, py(min(vs)))]
        prev = col
    if len(line) > 1:
        pdf.polyline(line)
    pdf.set_line_width(0.2)


def to_pdf(report: Report) -> bytes:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(f"Cold-chain report {report.site} {report.day.isoformat()}")
    pdf.set_creator("veilcam")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=15)
    pdf.cell(0, 9, f"Cold-chain report: {report.site}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(
        0,
        6,
        f"{report.day.strftime('%A %d %B %Y')}, {iso(report.start)} to {iso(report.end)}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    for c in report.cabinets:
        if pdf.get_y() > 170:
            pdf.add_page()
        pdf.ln(4)
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.cell(
            0,
            7,
            f"{c.cabinet} ({c.profile}, limit {c.limit:.1f} °C, alarm {c.alarm_limit:.1f} °C)",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("Helvetica", size=9)
        if not c.readings:
            pdf.cell(0, 5, "No readings this day.", new_x="LMARGIN", new_y="NEXT")
            continue
        assert c.minimum is not None and c.maximum is not None and c.mean is not None
        doors = (
            "no door switch"
            if c.door_openings is None
            else f"door opened {c.door_openings} times, "
            f"open {duration_text(c.door_open_time)} in all"
        )
        summary = (
            f"{c.readings} readings: min {c.minimum:.1f} °C, max {c.maximum:.1f} °C, "
            f"mean {c.mean:.1f} °C; out of range {duration_text(c.out_of_range)} "
            f"({len(c.excursions)} excursion(s) of {duration_text(MIN_EXCURSION)} or more, "
            f"{c.brief_excursions} brief); {doors}; {c.faults} probe fault(s)"
        )
        pdf.multi_cell(0, 5, summary, new_x="LMARGIN", new_y="NEXT")
        y = pdf.get_y() + 2
        _chart(pdf, c, report.start, report.end, pdf.l_margin + 12, y)
        pdf.set_y(y + 62)
        if c.excursions:
            with pdf.table(col_widths=(40, 40, 30, 30), text_align="LEFT") as table:
                table.row(["Excursion start", "End", "Peak", "Duration"])
                for e in c.excursions:
                    table.row(list(excursion_text(e).values()))
        else:
            pdf.cell(0, 5, "No excursions.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
