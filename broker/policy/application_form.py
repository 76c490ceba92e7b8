"""The filled application form the family signs (申请表): a Word document made from the
policy's own template (``<POLICY_DIR>/forms/<code>.docx``, else ``default.docx``) with
the household's details, its members, the reasons it qualifies and the checklist.

The department needs the applicant's full resident ID number on the form, so printing
is for those who may change the household (its caseworkers, admins), and every print is
on the audit chain; the other members' numbers are masked (their ID cards are copied
for the file anyway). The form is in Chinese: it goes to a Chinese department."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from docxtpl import DocxTemplate
from sqlalchemy.orm import Session

from broker import audit
from broker.platform import runtime, security
from broker.platform.errors import NotFound
from broker.platform.scope import Principal
from broker.policy import catalogue, wording
from broker.policy.applications import get_application
from broker.policy.catalogue import Policy
from broker.policy.evaluation import Facts
from broker.policy.package import benefits_of, checklist
from broker.registry import access_log, identity
from models import Application, Household, Member, User

FORMS_FOLDER = "forms"
DEFAULT_FORM = "default.docx"
LOCALE = "zh_CN"


def template_path(policy: Policy) -> Path:
    """The policy's form template, or the general one."""
    folder = Path(runtime.settings()["POLICY_DIR"]) / FORMS_FOLDER
    for name in (f"{policy.code}.docx", DEFAULT_FORM):
        if (folder / name).is_file():
            return folder / name
    raise NotFound(f"No application form template for {policy.code}.", code="form_template_missing")


def _id_number(member: Member | None, *, full: bool) -> str:
    if member is None or member.id_number_enc is None:
        return ""
    number = security.decrypt(member.id_number_enc)
    return number if full else identity.masked(number)


def _yuan(fen: int | None) -> str:
    return wording.yuan(fen or 0)


def context(session: Session, app: Application, printed_by: str) -> dict[str, Any]:
    """What the template is filled with (plain text; the template lays it out)."""
    household = session.get(Household, app.household_id)
    policy = catalogue.current().get(app.policy_code, app.policy_version)
    members = list(household.members)
    head = next((m for m in members if m.relation == "head"), members[0] if members else None)
    facts = Facts.of(household, benefits=[b.policy_code for b in benefits_of(session, household.id)])
    reasons = [wording.render(c.reason["code"], c.reason.get("params"), LOCALE) for c in policy.explain(facts)]
    docs, _missing = checklist(policy, app)
    now = datetime.now(ZoneInfo(runtime.settings()["TIMEZONE"]))
    return {
        "policy_name": policy.name,
        "policy_code": policy.code,
        "department": app.department or policy.department,
        "application_no": app.id,
        "reference": app.reference or "",
        "head_name": household.head_name or (head.name if head else ""),
        "head_id_number": _id_number(head, full=True),
        "address": household.address,
        "phone": household.phone or "",
        "community": f"{household.grid.community} {household.grid.name}",
        "member_count": household.member_count,
        "monthly_income": _yuan(household.monthly_income_fen),
        "income_per_capita": _yuan(household.income_per_capita_fen),
        "members": [
            {
                "name": m.name,
                "relation": wording.render(f"policy.relation.{m.relation or 'other'}", None, LOCALE)
                if f"policy.relation.{m.relation}" in wording.TEXTS
                else (m.relation or ""),
                "born": m.birth_date.strftime("%Y-%m-%d") if m.birth_date else "",
                "id_number": _id_number(m, full=m is head),
            }
            for m in members
        ],
        "reasons": reasons,
        "documents": [{"label": d["label"], "ticked": "☑" if d["ticked"] else "☐"} for d in docs],
        "caseworker": printed_by,
        "date": f"{now.year}年{now.month}月{now.day}日",
    }


def fill_form(
    session: Session, principal: Principal, application_id: int, *, reason: str = "application form"
) -> tuple[bytes, str]:
    """The filled form as .docx bytes and a file name; recorded on the audit chain
    (the applicant's full ID number is on it) and in the access log (``reason``: the
    page or call that printed it)."""
    app = get_application(session, principal, application_id, write=True)
    household = session.get(Household, app.household_id)
    head = next((m for m in household.members if m.relation == "head"), None)
    access_log.record(session, principal, household, reason, id_numbers_of=(head.id,) if head else ())
    policy = catalogue.current().get(app.policy_code, app.policy_version)
    user = session.get(User, principal.user_id) if principal.user_id else None
    printed_by = (user.display_name or user.username) if user else ""
    document = DocxTemplate(str(template_path(policy)))
    document.render(context(session, app, printed_by), autoescape=True)
    out = io.BytesIO()
    document.save(out)
    audit.record(
        session,
        "application.form_printed",
        app,
        household_id=app.household_id,
        after={"template": template_path(policy).name, "status": app.status},
    )
    return out.getvalue(), f"application-{app.id}-{policy.code}.docx"
