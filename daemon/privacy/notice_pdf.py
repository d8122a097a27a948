"""The printable notice: one A4 page per language, with a QR code to the second layer.

fpdf2's core fonts cover Latin-1 (English, Dutch); text typed into the settings or a gate
with other characters is shown with its nearest Latin-1 spelling rather than failing.
"""

from __future__ import annotations

import io
import unicodedata

import segno
from fpdf import FPDF

from veilcam.privacy.notice import Notice

QR_MM = 42.0
BODY, LINE = 10.0, 4.7  # points, millimetres: readable on a door at arm's length
_PUNCTUATION = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "•": "-"}
)


def latin1(text: str) -> str:
    text = text.translate(_PUNCTUATION)
    if all(ord(c) < 256 for c in text):
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c if ord(c) < 256 else "?" for c in decomposed if not unicodedata.combining(c))


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=10, border=4)
    return out.getvalue()


def _page(pdf: FPDF, n: Notice) -> None:
    """The QR code top right, beside the title and who is responsible, so it is there
    however long the sections below run."""
    pdf.add_page()
    full = pdf.w - pdf.l_margin - pdf.r_margin
    qr_bottom = pdf.t_margin
    if n.url:
        x = pdf.w - pdf.r_margin - QR_MM
        pdf.image(io.BytesIO(qr_png(n.url)), x=x, y=pdf.t_margin, w=QR_MM, h=QR_MM)
        pdf.set_xy(x - 4, pdf.t_margin + QR_MM)
        pdf.set_font("Helvetica", style="B", size=7.5)
        pdf.multi_cell(QR_MM + 8, 3.4, latin1(n.more), align="C", new_x="LEFT", new_y="NEXT")
        pdf.set_font("Courier", size=7)
        pdf.multi_cell(QR_MM + 8, 3.4, latin1(n.url), align="C", new_x="LEFT", new_y="NEXT")
        qr_bottom = pdf.get_y() + 2
        pdf.set_xy(pdf.l_margin, pdf.t_margin)

    def width() -> float:
        return full - QR_MM - 10 if pdf.get_y() < qr_bottom else full

    pdf.set_font("Helvetica", style="B", size=26)
    pdf.multi_cell(width(), 11, latin1(n.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(width(), 6, latin1(n.subtitle), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for s in n.sections:
        pdf.set_font("Helvetica", style="B", size=12)
        pdf.multi_cell(width(), 6.5, latin1(s.heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=BODY)
        for line in s.lines:
            pdf.multi_cell(width(), LINE, latin1(line), align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.8)
        for what, value in s.rows:
            y, w = pdf.get_y(), width()
            pdf.multi_cell(w * 0.4, LINE, latin1(what), align="L", new_x="LMARGIN", new_y="NEXT")
            left_end = pdf.get_y()
            pdf.set_xy(pdf.l_margin + w * 0.4, y)
            pdf.multi_cell(w * 0.6, LINE, latin1(value), align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.set_y(max(pdf.get_y(), left_end) + 0.6)
        pdf.ln(2)
    pdf.set_font("Helvetica", size=7.5)
    pdf.set_text_color(90)
    pdf.multi_cell(full, 4, latin1(n.updated), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)


def notice_pdf(notices: list[Notice]) -> bytes:
    """The notice as an A4 PDF, one page per language (a long one may take two)."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(16, 14, 16)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(latin1(notices[0].title))
    pdf.set_creator("veilcam")
    for n in notices:
        _page(pdf, n)
    return bytes(pdf.output())
