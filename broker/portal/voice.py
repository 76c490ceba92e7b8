"""The family's voice in the portal. Two public pages, without an account, in Chinese
first: raising a concern (``/concerns/new``, ``?ref=`` filled in from a receipt slip or
a public notice) and looking one up by its reference (``/concerns/status``), which shows
the reference, the state and the dates only. Both are rate limited per address.

For those who answer: the list of concerns in one's scope (overdue first), recording one
from the hotline, and one concern with its answer form. Auditors read them all."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from broker.people import concern_reading, concerns
from broker.platform import db
from broker.platform.errors import DomainError, NotFound
from broker.portal import limits
from broker.portal.auth import current_principal, role_required
from broker.portal.once import once
from broker.portal.pages import attach_field_errors, commit, page_arg, refused
from broker.portal.voice_forms import KINDS, SOURCES, STATES, AnswerForm, ConcernForm, HotlineForm, LookupForm
from models.base import utcnow

bp = Blueprint("portal_voice", __name__)
READERS = ("caseworker", "auditor", "admin")
ACTORS = ("caseworker", "admin")
PER_PAGE = 25
FIELDS = {k: k for k in ("kind", "description", "contact_phone", "ref", "community", "household", "partner")}


def _community_choices() -> list[SelectChoice]:
    return [SelectChoice("", _("— not sure —")), *(SelectChoice(c, c) for c in concerns.communities(db.session()))]


@bp.route("/concerns/new", methods=["GET", "POST"])
@limits.concern_limit
def new_concern() -> Response | tuple[str, int]:
    """Anyone raises a concern; the answer is a reference to look it up by."""
    form = ConcernForm()
    form.community.choices = _community_choices()
    if request.method == "GET" and request.args.get("ref"):
        form.ref.data = request.args["ref"][: concerns.REF_CODE_MAX]
        if request.args["ref"].upper().startswith("GS"):
            form.kind.data = "objection"
    status = 200
    if form.validate_on_submit():
        try:
            filed = concerns.file_concern(
                db.session(),
                kind=form.kind.data,
                description=form.description.data,
                contact_phone=form.contact_phone.data,
                ref_code=form.ref.data,
                community=form.community.data,
                client_key=form.once_key.data,
            )
        except DomainError as exc:
            status = refused(exc)
            attach_field_errors(form, exc, FIELDS)
        else:
            reference = filed.concern.reference
            db.commit()
            return redirect(url_for(".status", reference=reference, filed=1), code=303)
    elif request.method == "POST":
        status = 400
    return render_template("portal/voice/new.html", form=form, kinds=KINDS), status


@bp.get("/concerns/status")
@limits.lookup_limit
def status() -> tuple[str, int]:
    """A concern's state and dates by its reference; nothing else about it."""
    form = LookupForm(request.args)
    found, code = None, 200
    if request.args.get("reference") is not None:
        if form.validate():
            try:
                found = concerns.public_status(db.session(), form.reference.data)
            except NotFound:
                form.reference.errors = [_("No concern has this reference. Check it against your slip or message.")]
                code = 404
        else:
            code = 400
    return render_template(
        "portal/voice/status.html", form=form, found=found, states=STATES, filed=bool(request.args.get("filed"))
    ), code


@bp.get("/caseworker/concerns")
@role_required(*READERS)
def concern_list() -> str:
    """Concerns in my scope: open ones first, the nearest deadline first."""
    principal = current_principal()
    session = db.session()
    state = request.args.get("state") if request.args.get("state") in concerns.STATES else None
    page = concerns.list_concerns(
        session, principal, state=state, page=page_arg(request.args.get("page")), per_page=PER_PAGE
    )
    return render_template(
        "portal/voice/list.html",
        page=page,
        state=state,
        now=utcnow(),
        kinds=KINDS,
        states=STATES,
        args={"state": state} if state else {},
    )


@bp.route("/caseworker/concerns/new", methods=["GET", "POST"])
@role_required(*ACTORS)
@once
def hotline() -> Response | tuple[str, int]:
    """Record a concern taken on the hotline; it is mine to answer."""
    principal = current_principal()
    session = db.session()
    form = HotlineForm()
    form.community.choices = _community_choices()
    form.partner.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(str(pid), name) for pid, name in concerns.partner_names(session)
    ]
    status_code = 200
    if form.validate_on_submit():
        try:
            filed = concerns.file_concern(
                session,
                kind=form.kind.data,
                description=form.description.data,
                contact_phone=form.contact_phone.data,
                ref_code=form.ref.data,
                community=form.community.data,
                principal=principal,
                household_id=form.household.data,
                partner_id=int(form.partner.data) if (form.partner.data or "").isdigit() else None,
                client_key=form.once_key.data,
            )
        except DomainError as exc:
            status_code = refused(exc)
            attach_field_errors(form, exc, FIELDS)
        else:
            reference = filed.concern.reference
            commit(_("Concern recorded. Tell the caller the reference %(reference)s.", reference=reference))
            return redirect(url_for(".concern", reference=reference))
    elif request.method == "POST":
        status_code = 400
    return render_template("portal/voice/hotline.html", form=form), status_code


@bp.get("/caseworker/concerns/<reference>")
@role_required(*READERS)
def concern(reference: str) -> str:
    """One concern, with its answer form for those who answer it."""
    principal = current_principal()
    session = db.session()
    found = concerns.get_concern(session, principal, reference)
    return render_template(
        "portal/voice/concern.html",
        c=concern_reading.describe(session, found, principal),
        form=AnswerForm(),
        kinds=KINDS,
        states=STATES,
        sources=SOURCES,
        now=utcnow(),
    )


@bp.post("/caseworker/concerns/<reference>/answer")
@role_required(*ACTORS)
@once
def answer(reference: str) -> Response | tuple[str, int]:
    """Close the concern with the answer given to the person who raised it."""
    principal = current_principal()
    session = db.session()
    form = AnswerForm()
    found = concerns.get_concern(session, principal, reference)
    if form.validate_on_submit():
        try:
            concerns.answer(session, principal, found.reference, form.answer.data)
        except DomainError as exc:
            refused(exc)
        else:
            commit(_("Answered and closed."))
        return redirect(url_for(".concern", reference=found.reference))
    flash(_("Write the answer given."), "error")
    return redirect(url_for(".concern", reference=found.reference))
