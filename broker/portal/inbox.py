"""The notifications inbox, for every role the broker tells something (caseworkers, and
admins who recorded a need): newest first, only the unread on request, each leading to
what it is about, marked read one by one or all at once; the unread count every page
shows; and the settings page where a user chooses email or a WeCom / DingTalk group
robot besides the portal.

Marking read and choosing a channel are idempotent, so a form sent twice changes nothing
more the second time. Texts are rendered in the reader's language as the page is drawn."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from broker.people import channels, inbox, notice_texts
from broker.platform import db
from broker.platform.errors import Invalid
from broker.portal.auth import current_principal, role_required
from broker.portal.pages import commit, page_arg
from models.notifications import CHANNELS

bp = Blueprint("portal_inbox", __name__, url_prefix="/inbox")
RECEIVERS = ("caseworker", "admin")
PER_PAGE = 25

# The domain's codes for a channel refused, as the reader is told.
REFUSALS = {
    "not_an_email": _l("Enter an email address, such as name@example.org."),
    "not_a_robot": _l("Paste the robot's webhook address as the group settings show it, or just its key."),
    "not_a_secret": _l("The signing secret has only letters and digits; it starts with SEC."),
    "unknown_channel": _l("Choose email, WeCom or DingTalk."),
}


class ReadForm(FlaskForm):
    """Marking read: nothing to say but the CSRF token."""


class ChannelForm(FlaskForm):
    """One channel's address. Three are on one page, so each has a prefix; the CSRF token
    is the page's own (checked for every portal POST), not a prefixed one per form."""

    class Meta:
        csrf = False

    channel = HiddenField(validators=[DataRequired()])
    target = StringField(
        _l("Address"),
        validators=[DataRequired(_l("Fill this in.")), Length(max=500)],
        render_kw={"autocomplete": "off"},
    )
    secret = StringField(
        _l("Signing secret (if the robot has one)"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )


def _locale() -> str:
    return str(get_locale() or notice_texts.DEFAULT_LOCALE)


def link_of(params: dict) -> str | None:
    """Where a notification leads: the household page, at the request or applications."""
    if params.get("concern_id") and params.get("reference"):
        return url_for("portal_voice.concern", reference=params["reference"])
    household = params.get("household_id")
    if not household:
        return None
    if params.get("care_plan_id"):
        return url_for("portal_care.plan", plan_id=params["care_plan_id"])
    if params.get("follow_up_id"):
        return url_for("portal_caseworker.follow_up", household_id=household, follow_up_id=params["follow_up_id"])
    page = url_for("portal_caseworker.household", household_id=household)
    if params.get("request_id"):
        return f"{page}#request-{params['request_id']}"
    if params.get("application_id"):
        return f"{page}#applications-title"
    return page


def unread_context() -> dict[str, Any]:
    """The unread count for the header of every page (None where nobody is told anything)."""
    principal = g.get("principal")
    if principal is None or principal.role not in RECEIVERS:
        return {"unread_count": None}
    try:
        return {"unread_count": inbox.unread_count(db.session(), principal.user_id)}
    except SQLAlchemyError:  # an error page drawn after a failed transaction still draws
        return {"unread_count": None}


@bp.get("/")
@role_required(*RECEIVERS)
def index() -> str:
    principal = current_principal()
    unread = request.args.get("unread") == "1"
    page = inbox.list_notifications(
        db.session(), principal.user_id, unread=unread, page=page_arg(request.args.get("page")), per_page=PER_PAGE
    )
    locale = _locale()
    items = [
        {
            "id": n.id,
            "text": notice_texts.render(n.code, n.params, locale),
            "created_at": n.created_at,
            "read": n.read_at is not None,
            "link": link_of(n.params),
        }
        for n in page.items
    ]
    return render_template("portal/inbox/index.html", page=page, items=items, unread=unread, form=ReadForm())


def _back() -> Response:
    return redirect(url_for(".index", unread="1" if request.form.get("unread") == "1" else None))


@bp.post("/<int:notification_id>/read")
@role_required(*RECEIVERS)
def read(notification_id: int) -> Response:
    """Mark one notification read (again: no change, no error)."""
    if not ReadForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return _back()
    inbox.mark_read(db.session(), current_principal().user_id, notification_id)
    commit(_("Marked as read."))
    return _back()


@bp.post("/read-all")
@role_required(*RECEIVERS)
def read_all() -> Response:
    if not ReadForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return _back()
    done = inbox.mark_all_read(db.session(), current_principal().user_id)
    commit(_("%(n)s notification(s) marked as read.", n=done) if done else _("Nothing was unread."))
    return _back()


def _channel_forms(sent: ChannelForm | None = None) -> dict[str, ChannelForm]:
    forms = {}
    for channel in CHANNELS:
        if sent is not None and sent.channel.data == channel:
            forms[channel] = sent
        else:
            forms[channel] = ChannelForm(formdata=None, prefix=channel, channel=channel)
    return forms


def _render_channels(forms: dict[str, ChannelForm], status: int = 200) -> tuple[str, int]:
    principal = current_principal()
    chosen = {c.channel: c.hint for c in channels.chosen(db.session(), principal.user_id)}
    return (
        render_template(
            "portal/inbox/channels.html",
            forms=forms,
            chosen=chosen,
            email_available=channels.email_available(),
            remove_form=ReadForm(),
        ),
        status,
    )


@bp.get("/channels")
@role_required(*RECEIVERS)
def channel_settings() -> tuple[str, int]:
    """Where notifications go besides this inbox."""
    return _render_channels(_channel_forms())


@bp.post("/channels/<channel>")
@role_required(*RECEIVERS)
def choose_channel(channel: str) -> Response | tuple[str, int]:
    """Set (or replace) one channel; what was typed is checked by the domain."""
    if channel not in CHANNELS:
        return _render_channels(_channel_forms(), 404)
    form = ChannelForm(prefix=channel)
    form.channel.data = channel
    if not form.validate_on_submit():
        return _render_channels(_channel_forms(form), 400)
    try:
        channels.choose(
            db.session(), current_principal().user_id, channel, form.target.data or "", form.secret.data or ""
        )
    except Invalid as exc:
        db.session.rollback()
        for name, codes in (exc.details or {}).items():
            field = getattr(form, name, None) or form.target
            field.errors = [*list(field.errors or []), *(str(REFUSALS.get(c, c)) for c in codes)]
        return _render_channels(_channel_forms(form), 422)
    commit(_("Saved. Notifications will also be sent there."))
    return redirect(url_for(".channel_settings"))


@bp.post("/channels/<channel>/remove")
@role_required(*RECEIVERS)
def remove_channel(channel: str) -> Response | tuple[str, int]:
    if channel not in CHANNELS:
        return _render_channels(_channel_forms(), 404)
    if not ReadForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for(".channel_settings"))
    channels.remove(db.session(), current_principal().user_id, channel)
    commit(_("Removed. Notifications are no longer sent there."))
    return redirect(url_for(".channel_settings"))
