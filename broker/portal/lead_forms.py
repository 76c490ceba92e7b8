"""Forms of the leads' pages: a mobile grid member's sign-up and report (on a phone, with
a photo from the camera), and the caseworker's visit from a lead or its closing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from broker.community import lead_schema
from broker.portal.forms import OnceForm
from broker.portal.volunteer_forms import AccountFields
from models.leads import LEAD_CLOSE_REASONS, LEAD_URGENCIES, REPORTER_KINDS

KIND_LABELS = {"courier": _l("Courier or delivery rider"), "neighbour": _l("Neighbour"), "other": _l("Other")}
URGENCY_LABELS = {
    "normal": _l("Normal"),
    "urgent": _l("Urgent: within a day or two"),
    "critical": _l("Critical: someone is in danger now"),
}
STATUS_LABELS = {"new": _l("Waiting for a visit"), "visited": _l("Visited"), "closed": _l("Closed")}
CLOSE_LABELS = {
    "duplicate": _l("Already reported"),
    "not_found": _l("Nobody found at the address"),
    "no_need": _l("No help needed"),
    "moved_away": _l("Moved away"),
    "already_known": _l("Already cared for"),
    "other": _l("Other reason"),
}


class ReporterSignUpForm(AccountFields):
    """What a mobile grid member gives to sign up."""

    kind = SelectField(_l("You are"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in REPORTER_KINDS])
    organisation = StringField(
        _l("Company or organisation (optional)"),
        validators=[Optional(), Length(max=lead_schema.ORGANISATION_MAX)],
        render_kw={"autocomplete": "organization"},
    )
    consent = BooleanField(
        _l("I agree that caseworkers keep my name and number to follow up my reports."),
        validators=[DataRequired(_l("Your consent is needed to sign up."))],
    )


class LeadForm(OnceForm):
    """A household that may need help, as a reporter tells it."""

    address = StringField(
        _l("Address"),
        validators=[DataRequired(_l("Where is the household?")), Length(min=4, max=lead_schema.ADDRESS_MAX)],
        render_kw={"autocomplete": "street-address"},
    )
    community = StringField(_l("Community (社区)"), validators=[Optional(), Length(max=lead_schema.COMMUNITY_MAX)])
    seen = TextAreaField(
        _l("What did you see?"),
        validators=[DataRequired(_l("Say what you saw.")), Length(min=2, max=lead_schema.SEEN_MAX)],
        render_kw={"rows": 4},
    )
    urgency = SelectField(_l("How urgent"), choices=[SelectChoice(u, URGENCY_LABELS[u]) for u in LEAD_URGENCIES])
    photo = FileField(_l("Photo (optional)"), render_kw={"accept": "image/*", "capture": "environment"})


class VisitLeadForm(OnceForm):
    """The visit from a lead: a household registered already, or a new one recorded now."""

    household = SelectField(_l("Household"), coerce=int, validate_choice=False)
    grid = SelectField(_l("Grid"), validate_choice=False)
    head_name = StringField(_l("Head of household (a new household)"), validators=[Optional(), Length(max=80)])
    sex = SelectField(
        _l("Sex"), choices=[SelectChoice("F", _l("Female")), SelectChoice("M", _l("Male"))], validate_choice=False
    )
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])
    income_yuan = DecimalField(
        _l("Monthly income of the household (yuan)"), places=2, default=0, validators=[Optional(), NumberRange(min=0)]
    )
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=30)])
    findings = TextAreaField(_l("What you found"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 4})


class CloseLeadForm(OnceForm):
    reason = SelectField(_l("Why close it"), choices=[SelectChoice(r, CLOSE_LABELS[r]) for r in LEAD_CLOSE_REASONS])
