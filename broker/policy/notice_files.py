"""A public notice as a file to print or post: PDF (set in a font with Chinese glyphs,
``NOTICE_FONT`` or the first one fontconfig lists) or XLSX, in the reader's language.
Only what a notice may show: masked names, household size, aid, amount, period."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Font

from broker.platform import runtime, texts
from broker.platform.errors import DomainError
from broker.platform.texts import N_, define
from broker.policy import notices
from models import Notice

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIMETYPE = "application/pdf"
FORMATS = ("xlsx", "pdf")

define(
    {
        "notice.title": N_("Public notice of government aid: %(community)s"),
        "notice.period": N_("Posted from %(starts_on)s to %(ends_on)s"),
        "notice.objection": N_(
            "Anyone who believes an entry is wrong may object until %(ends_on)s at /concerns/new?ref=%(code)s "
            "(code %(code)s), or by telling the community's caseworker."
        ),
        "notice.col.no": N_("Row"),
        "notice.col.name": N_("Head of household"),
        "notice.col.size": N_("Household size"),
        "notice.col.aid": N_("Aid"),
        "notice.col.amount": N_("Amount (yuan)"),
        "notice.col.period": N_("Period"),
        "notice.col.approved": N_("Approved on"),
        "notice_period.monthly": N_("monthly"),
        "notice_period.yearly": N_("yearly"),
        "notice_period.once": N_("once"),
    }
)
COLUMNS = ("notice.col.no", "notice.col.name", "notice.col.size", "notice.col.aid", "notice.col.amount")
COLUMNS += ("notice.col.period", "notice.col.approved")
PDF_WIDTHS = (12, 28, 22, 50, 28, 18, 32)


class NoFont(DomainError):
    status = 503
    code = "no_cjk_font"


@dataclass(frozen=True)
class NoticeFile:
    filename: str
    mimetype: str
    content: bytes


def period_label(period: str) -> str:
    code = f"notice_period.{period}"
    return texts.render(code) if code in texts.codes() else period


def rows(notice: Notice, locale: str) -> list[list[str]]:
    """The notice's table as text, one list per entry, in ``locale``."""
    return [
        [
            str(i),
            e.masked_name,
            str(e.household_size),
            notices.policy_name(e, locale),
            texts.yuan(e.amount_fen).lstrip("¥") if e.amount_fen is not None else "—",
            period_label(e.period),
            e.approved_on.isoformat() if e.approved_on else "—",
        ]
        for i, e in enumerate(notice.entries, start=1)
    ]


def heading(notice: Notice) -> tuple[str, str, str]:
    """Title, period and the line that says how to object."""
    params = {"community": notice.community, "starts_on": notice.starts_on.isoformat()}
    params |= {"ends_on": notice.ends_on.isoformat(), "code": notice.code}
    return (
        texts.render("notice.title", params),
        texts.render("notice.period", params),
        texts.render("notice.objection", params),
    )


@cache
def _fontconfig_font() -> str | None:
    found = shutil.which("fc-list")
    if not found:
        return None
    out = subprocess.run([found, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False).stdout
    files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
    return files[0] if files else None


def font_file() -> str:
    """The font the PDF is set in; a 503 naming the setting when there is none."""
    path = runtime.settings().get("NOTICE_FONT") or _fontconfig_font()
    if not path:
        raise NoFont("No font with Chinese characters is installed; set NOTICE_FONT to a TTF or TTC file.")
    return path


def to_pdf(notice: Notice) -> NoticeFile:
    """The notice as an A4 PDF, Chinese set in the configured font."""
    locale = texts.current_locale()
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.add_font("notice", "", font_file())
    title, period, objection = heading(notice)
    pdf.set_font("notice", size=16)
    pdf.multi_cell(0, 9, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("notice", size=11)
    pdf.multi_cell(0, 7, period, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font("notice", size=10)
    heads = FontFace(emphasis="", fill_color=(230, 236, 244))  # one regular face: CJK fonts have no bold
    with pdf.table(col_widths=PDF_WIDTHS, text_align="CENTER", line_height=7, headings_style=heads) as table:
        table.row([texts.render(c) for c in COLUMNS])
        for row in rows(notice, locale):
            table.row(row)
    pdf.ln(4)
    pdf.multi_cell(0, 6, objection, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return NoticeFile(f"notice-{notice.code}.pdf", PDF_MIMETYPE, bytes(pdf.output()))


def to_xlsx(notice: Notice) -> NoticeFile:
    """The notice as a one-sheet workbook: title, period, the table, how to object."""
    locale = texts.current_locale()
    title, period, objection = heading(notice)
    wb = Workbook()
    ws = wb.active
    ws.title = notice.code
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([period])
    ws.append([texts.render(c) for c in COLUMNS])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for row in rows(notice, locale):
        ws.append(row)
    ws.append([])
    ws.append([objection])
    for letter, width in zip("ABCDEFG", (6, 14, 10, 24, 14, 10, 14), strict=True):
        ws.column_dimensions[letter].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return NoticeFile(f"notice-{notice.code}.xlsx", XLSX_MIMETYPE, buf.getvalue())


def export(notice: Notice, fmt: str) -> NoticeFile:
    return to_pdf(notice) if fmt == "pdf" else to_xlsx(notice)
