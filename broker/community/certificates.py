"""The volunteer service certificate (志愿服务证明): one volunteer's confirmed service over
a period, as an A4 PDF to print and stamp — who, the team, each service (when, what,
where, hours) and the total — set in the CJK font the public notices use. It never
names the families served, nor the volunteer's ID number: only the last four digits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from sqlalchemy.orm import Session

from broker.community import service_records
from broker.platform import periods, security, texts
from broker.platform.scope import Principal
from broker.platform.texts import N_, define
from broker.policy import notice_files
from models import Partner, ServiceRecord, Volunteer
from models.base import utcnow

PDF_MIMETYPE = "application/pdf"
WIDTHS = (12, 38, 28, 62, 20)

define(
    {
        "certificate.title": N_("Volunteer service certificate"),
        "certificate.body": N_(
            "This certifies that %(name)s%(id_tail)s, a volunteer of %(team)s, gave %(count)s services totalling "
            "%(hours)s hours from %(from)s to %(to)s, as recorded below and confirmed by the families served "
            "or their caseworkers."
        ),
        "certificate.id_tail": N_(" (ID number ending %(tail)s)"),
        "certificate.col.no": N_("No."),
        "certificate.col.when": N_("Date and time"),
        "certificate.col.kind": N_("Service"),
        "certificate.col.what": N_("Content and place"),
        "certificate.col.hours": N_("Hours"),
        "certificate.issued": N_(
            "Issued by %(team)s on %(date)s. Records kept under the volunteer service record rules."
        ),
        "certificate.none": N_("No confirmed service in this period."),
        "task_kind.visit": N_("Home visit"),
        "task_kind.escort": N_("Escort to hospital"),
        "task_kind.tutoring": N_("Tutoring"),
        "task_kind.repairs": N_("Repairs"),
        "task_kind.delivery": N_("Delivery"),
        "task_kind.other": N_("Other service"),
    }
)


@dataclass(frozen=True)
class CertificateFile:
    filename: str
    mimetype: str
    content: bytes


def _id_tail(volunteer: Volunteer) -> str:
    if not volunteer.id_number_enc:
        return ""
    return texts.render("certificate.id_tail", {"tail": security.decrypt(volunteer.id_number_enc)[-4:]})


def build(session: Session, principal: Principal, volunteer_id: int, date_from: date, date_to: date) -> CertificateFile:
    """The certificate of ``volunteer_id`` for the local days ``date_from``..``date_to``."""
    volunteer, records = service_records.of_volunteer(session, principal, volunteer_id, date_from, date_to)
    team = session.get(Partner, volunteer.team_id)
    total = service_records.total_minutes(records)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.add_font("cert", "", notice_files.font_file())
    pdf.set_font("cert", size=18)
    pdf.multi_cell(0, 12, texts.render("certificate.title"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("cert", size=11)
    body = {
        "name": volunteer.name,
        "id_tail": _id_tail(volunteer),
        "team": team.name,
        "count": len(records),
        "hours": service_records.hours(total),
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
    }
    pdf.multi_cell(0, 7, texts.render("certificate.body", body), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    if records:
        _table(pdf, records)
    else:
        pdf.multi_cell(0, 7, texts.render("certificate.none"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    today = periods.to_local(utcnow()).date().isoformat()
    issued = texts.render("certificate.issued", {"team": team.name, "date": today})
    pdf.multi_cell(0, 7, issued, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    name = f"volunteer-certificate-{volunteer.id}-{date_from.isoformat()}-{date_to.isoformat()}.pdf"
    return CertificateFile(name, PDF_MIMETYPE, bytes(pdf.output()))


def _table(pdf: FPDF, records: list[ServiceRecord]) -> None:
    pdf.set_font("cert", size=10)
    heads = FontFace(emphasis="", fill_color=(230, 236, 244))  # CJK fonts have no bold face
    columns = ("certificate.col.no", "certificate.col.when", "certificate.col.kind")
    columns += ("certificate.col.what", "certificate.col.hours")
    with pdf.table(col_widths=WIDTHS, text_align="CENTER", line_height=7, headings_style=heads) as table:
        table.row([texts.render(c) for c in columns])
        for i, r in enumerate(records, start=1):
            table.row(
                [
                    str(i),
                    service_records.local(r.started_at),
                    texts.render(f"task_kind.{r.kind}"),
                    f"{r.content} · {r.place}",
                    service_records.hours(r.minutes),
                ]
            )
