"""Applications filed for a family (代办), in the portal: start one from the household's
policy package, keep a phone photo of each document (which ticks it), tick what is in
hand on paper, record each step with the department's reference number, see the
deadline and whether the caseworkers were reminded, and print the filled form for the
family to sign.

Scope is the household's: another grid's application is "not found"; auditors and
admins read, the forms are the caseworker's (the domain refuses anyone else). Every
form carries a one-time key, so a double tap files, uploads or advances once."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from broker.platform import db, periods
from broker.platform.errors import DomainError
from broker.policy import application_form, applications, catalogue, document_files, reminders
from broker.policy import package as policy_package
from broker.policy.evaluation import Facts
from broker.portal import i18n
from broker.portal.application_forms import STEPS, FileApplicationForm, StepForm, TickForm, UploadForm
from broker.portal.auth import current_principal, role_required
from broker.portal.errors import domain_message
from broker.portal.i18n import label
from broker.portal.once import once
from broker.portal.pages import commit
from broker.registry import households
from models import Application

bp = Blueprint("portal_applications", __name__, url_prefix="/caseworker")
READERS = ("caseworker", "auditor", "admin")
WRITERS = ("caseworker", "admin")


def _doc_label(doc: dict[str, Any]) -> str:
    return doc["label"] if i18n.select_locale() == "zh_CN" else doc["label_en"]


def _policy_name(policy: Any) -> str:
    return policy.name if i18n.select_locale() == "zh_CN" else policy.name_en


def say(error: DomainError, app: Application | None = None, wanted: str | None = None) -> str:
    """The refusal in the reader's language, naming what to do about it."""
    details = error.details or {}
    if error.code == "invalid_transition" and wanted and "current_status" in details:
        current = details["current_status"]
        allowed = [label(s, "application_status") for s in applications.TRANSITIONS.get(current, ())]
        return _(
            "This application is “%(current)s”: it cannot be marked “%(wanted)s” now. Next can be: %(allowed)s.",
            current=label(current, "application_status"),
            wanted=label(wanted, "application_status"),
            allowed="、".join(allowed) or "—",
        )
    if error.code == "documents_missing" and app is not None:
        policy = catalogue.current().get(app.policy_code, app.policy_version)
        labels = {d.code: _doc_label(d.as_dict()) for d in policy.documents}
        missing = "、".join(labels.get(c, c) for c in details.get("missing_documents", []))
        return _("Not every document is in hand yet; still missing: %(documents)s.", documents=missing)
    if error.code == "file_too_large":
        return _(
            "The photo is too large (%(size)s MB); at most %(max)s MB. Take it again at a lower resolution.",
            size=round(details.get("size", 0) / 1024 / 1024, 1),
            max=details.get("max_bytes", document_files.MAX_BYTES) // (1024 * 1024),
        )
    if error.code == "not_an_image":
        return _("Only a photo or a scanned image (JPEG, PNG, WebP or HEIC) can be kept with a document.")
    if error.code == "file_empty":
        return _("The file is empty. Take the photo again.")
    if error.code in ("checklist_closed", "too_many_files"):
        return _("The checklist is closed: the application has been handed in.")
    if error.code == "application_open":
        return _("This family already has an open application for this policy; continue that one.")
    if error.code == "already_receives":
        return _("The family already receives this benefit.")
    if error.code == "validation_error" and "note" in details:
        return _("Say why the department rejected it.")
    return domain_message(error)


def _refuse(error: DomainError, app: Application | None = None, wanted: str | None = None) -> None:
    db.session.rollback()
    if error.status in (401, 403, 404):
        raise error
    flash(say(error, app, wanted), "error")


def _to_application(app_id: int, anchor: str | None = None) -> Response:
    return redirect(url_for(".application", application_id=app_id, _anchor=anchor))


# --------------------------------------------------------------------------- filing


@bp.route("/households/<int:household_id>/applications/new", methods=["GET", "POST"])
@role_required(*WRITERS)
@once
def new(household_id: int) -> Response | tuple[str, int]:
    """Start an application for a policy: why the family qualifies (or where the rule
    says it does not: the caseworker may know better), the documents to gather."""
    principal = current_principal()
    session = db.session()
    household = households.get_household(session, principal, household_id, write=True)
    code = (request.values.get("policy") or "").strip()
    if code not in catalogue.current().codes():
        flash(_("Choose a policy from the household's policy package."), "error")
        return redirect(url_for("portal_caseworker.household", household_id=household.id, _anchor="policy-title"))
    policy = catalogue.current().get(code)
    package = policy_package.package_for(session, household)
    entry = next((e for e in package.items if e.policy.code == code), None)
    clauses = entry.why if entry is not None else policy.explain(Facts.of(household))
    form = FileApplicationForm()
    status = 200
    if form.validate_on_submit():
        try:
            app = applications.file_application(session, principal, household.id, code, form.note.data or "")
        except DomainError as exc:
            _refuse(exc)
            status = exc.status
        else:
            commit(_("Application started: gather the documents on the checklist."))
            return _to_application(app.id)
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "portal/caseworker/application_new.html",
            household=household,
            policy=policy,
            policy_name=_policy_name(policy),
            why=clauses,
            qualifies=all(c.holds for c in clauses),
            open_application=entry.application if entry is not None and entry.state == "applied" else None,
            form=form,
        ),
        status,
    )


# --------------------------------------------------------------------------- reading


def _context(app: Application, **forms: Any) -> dict[str, Any]:
    principal = current_principal()
    session = db.session()
    described = applications.describe(app)
    policy = catalogue.current().get(app.policy_code, app.policy_version)
    files = document_files.files_of(session, app.id)
    tick = forms.get("tick_form") or TickForm(formdata=None)
    tick.ticked.choices = [SelectChoice(d["code"], _doc_label(d)) for d in described["documents"]]
    tick.ticked.data = [d["code"] for d in described["documents"] if d["ticked"]]
    step = forms.get("step_form") or StepForm(formdata=None)
    step.status.choices = [SelectChoice(s, label(s, "application_status")) for s in described["allowed_next"]]
    return {
        "app": described,
        "household": households.get_household(session, principal, app.household_id),
        "policy_name": _policy_name(policy),
        "files": {d["code"]: [f for f in files if f.document_code == d["code"]] for d in described["documents"]},
        "doc_label": _doc_label,
        "upload_form": UploadForm(formdata=None),
        "upload_error": forms.get("upload_error"),
        "tick_form": tick,
        "step_form": step,
        "can_write": principal.role in WRITERS,
        # Both days in the city's time zone: just after midnight the UTC date is still yesterday's.
        "days_left": (periods.to_local(app.deadline_at).date() - i18n.local_now().date()).days
        if app.deadline_at
        else None,
    }


@bp.get("/applications/<int:application_id>")
@role_required(*READERS)
def application(application_id: int) -> str:
    """One application: its checklist with photos, deadline, reminder and steps."""
    app = applications.get_application(db.session(), current_principal(), application_id)
    return render_template("portal/caseworker/application.html", **_context(app))


@bp.get("/applications")
@role_required(*READERS)
def due() -> str:
    """My open applications, the most urgent first (past the deadline, then due soonest)."""
    rows = reminders.open_for(db.session(), current_principal())
    return render_template(
        "portal/caseworker/applications.html",
        rows=[(applications.describe(app), household) for app, household in rows],
        today=i18n.local_now().date(),
    )


@bp.get("/application-files/<int:file_id>")
@role_required(*READERS)
def document_file(file_id: int) -> Response:
    """A kept photo, only to those who may see the household; never cached, never sniffed."""
    record, data = document_files.read_file(db.session(), current_principal(), file_id)
    response = Response(data, mimetype=record.content_type)
    response.headers["Content-Disposition"] = f'inline; filename="document-{record.id}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- changing


@bp.post("/applications/<int:application_id>/documents/<code>/file")
@role_required(*WRITERS)
@once
def upload(application_id: int, code: str) -> Response | tuple[str, int]:
    """Keep a photo of one document; it ticks the document."""
    principal = current_principal()
    session = db.session()
    app = applications.get_application(session, principal, application_id, write=True)
    form = UploadForm()
    if form.validate_on_submit():
        sent = form.file.data
        sent_file = document_files.Upload(filename=sent.filename or "", data=sent.read())
        try:
            document_files.add_file(session, principal, app.id, code, sent_file)
        except DomainError as exc:
            _refuse(exc, app)
            return _to_application(app.id, f"doc-{code}")
        commit(_("Photo kept; the document is ticked."))
        return _to_application(app.id, f"doc-{code}")
    flash(" ".join(str(e) for e in form.file.errors) or _("The form was not accepted; send it again."), "error")
    return _to_application(app.id, f"doc-{code}")


@bp.post("/applications/<int:application_id>/documents")
@role_required(*WRITERS)
@once
def tick(application_id: int) -> Response:
    """Tick what is in hand on paper (untick what was ticked by mistake)."""
    principal = current_principal()
    session = db.session()
    app = applications.get_application(session, principal, application_id, write=True)
    form = TickForm()
    if not form.validate_on_submit():
        flash(_("The form was not accepted; send it again."), "error")
        return _to_application(app.id, "checklist")
    policy = catalogue.current().get(app.policy_code, app.policy_version)
    chosen = set(form.ticked.data or [])
    try:
        applications.tick_documents(
            session, principal, app.id, {code: code in chosen for code in policy.document_codes()}
        )
    except DomainError as exc:
        _refuse(exc, app)
    else:
        commit(_("Checklist saved."))
    return _to_application(app.id, "checklist")


def _when(on: Any) -> datetime | None:
    """A date typed for a step: today means now; an earlier day, noon local time."""
    if on is None or on >= i18n.local_now().date():
        return None
    return datetime.combine(on, time(12, 0))


@bp.post("/applications/<int:application_id>/steps")
@role_required(*WRITERS)
@once
def advance(application_id: int) -> Response | tuple[str, int]:
    """Record the next step: handed in (with the department's reference number), under
    review, approved (with the monthly amount), rejected (with the reason), withdrawn."""
    principal = current_principal()
    session = db.session()
    app = applications.get_application(session, principal, application_id, write=True)
    form = StepForm()
    form.status.choices = [SelectChoice(s, label(s, "application_status")) for s in STEPS]
    if form.validate_on_submit():
        if form.status.data not in STEPS:
            flash(_("Choose the next step from the list."), "error")
            return _to_application(app.id, "next-step")
        try:
            applications.advance(
                session,
                principal,
                app.id,
                form.status.data,
                note=form.note.data or "",
                at=_when(form.on.data),
                monthly_amount_fen=form.monthly_amount.data,
                reference=form.reference.data or None,
            )
        except DomainError as exc:
            _refuse(exc, app, form.status.data)
        else:
            commit(_("Step recorded: %(status)s.", status=label(form.status.data, "application_status")))
            return _to_application(app.id)
        return _to_application(app.id, "next-step")
    return render_template("portal/caseworker/application.html", **_context(app, step_form=form)), 400


@bp.post("/applications/<int:application_id>/form")
@role_required(*WRITERS)
def print_form(application_id: int) -> Response:
    """The filled application form (.docx) for the family to sign; the print is audited."""
    principal = current_principal()
    session = db.session()
    try:
        data, name = application_form.fill_form(
            session, principal, application_id, reason=f"{request.method} {request.path}"
        )
    except DomainError as exc:
        _refuse(exc)
        return _to_application(application_id)
    db.commit()
    response = Response(data, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
