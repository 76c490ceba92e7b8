"""Public notices (公示) in the portal: a caseworker posts the community's approved
applications for public notice, and prints the notice — a page made for paper (masked
names only, the period, and the code that leads to the public concern page) — or
downloads it as PDF or XLSX. Auditors and admins read every notice."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from broker.platform import db, runtime, texts
from broker.platform.errors import DomainError
from broker.policy import notice_files, notices
from broker.portal.auth import current_principal, role_required
from broker.portal.forms import OnceForm
from broker.portal.once import once
from broker.portal.pages import commit, page_arg, refused

bp = Blueprint("portal_notices", __name__, url_prefix="/caseworker/notices")
READERS = notices.READERS
PER_PAGE = 20


class PublishForm(OnceForm):
    community = SelectField(_l("Community"))
    days = IntegerField(
        _l("Days to post it"), validators=[Optional(), NumberRange(min=1, max=notices.MAX_DAYS)], default=7
    )


def _form() -> PublishForm:
    form = PublishForm()
    form.community.choices = [SelectChoice(c, c) for c in notices.communities(db.session(), current_principal())]
    if form.days.data is None:
        form.days.data = runtime.settings()["NOTICE_DAYS"]
    return form


@bp.route("", methods=["GET", "POST"])
@role_required(*READERS)
@once
def notice_list() -> WerkzeugResponse | tuple[str, int]:
    """The notices of my communities, newest first, and posting a new one."""
    principal = current_principal()
    session = db.session()
    form = _form()
    status = 200
    if request.method == "POST":
        if principal.role not in notices.PUBLISHERS:
            abort(403)
        if form.validate_on_submit():
            try:
                notice = notices.publish(session, principal, form.community.data, days=form.days.data)
            except DomainError as exc:
                status = refused(exc)
            else:
                commit(_("Notice posted. Print it and put it up in the community."))
                return redirect(url_for(".notice", notice_id=notice.id))
        else:
            status = 400
    page = notices.list_notices(session, principal, page=page_arg(request.args.get("page")), per_page=PER_PAGE)
    objections = {n.id: len(notices.objections(session, n)) for n in page.items}
    return render_template(
        "portal/notices/list.html", form=form, page=page, state=notices.state, objections=objections
    ), status


@bp.get("/<int:notice_id>")
@role_required(*READERS)
def notice(notice_id: int) -> str:
    """The notice as it is printed: masked names, household size, aid, amount, period."""
    found = notices.get_notice(db.session(), current_principal(), notice_id)
    title, period, _how_to_object = notice_files.heading(found)
    return render_template(
        "portal/notices/notice.html",
        notice=found,
        title=title,
        period=period,
        rows=notice_files.rows(found, texts.current_locale()),
        objections=notices.objections(db.session(), found),
        state=notices.state(found),
        concern_url=url_for("portal_voice.new_concern", ref=found.code, _external=True),
    )


@bp.get("/<int:notice_id>.<fmt>")
@role_required(*READERS)
def notice_file(notice_id: int, fmt: str) -> Response:
    """The notice as PDF or XLSX."""
    if fmt not in notice_files.FORMATS:
        abort(404)
    found = notices.get_notice(db.session(), current_principal(), notice_id)
    file = notice_files.export(found, fmt)
    return Response(
        file.content,
        mimetype=file.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{file.filename}"', "Cache-Control": "no-store"},
    )
