"""The forms of the family's voice: raising a concern on the public page (no account;
its one-time key makes a second tap file nothing more), recording one from the hotline,
answering one, and looking one up by its reference."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from broker.people import concerns
from broker.portal.forms import OnceForm

KINDS = {
    "complaint": _l("Complaint"),
    "not_received": _l("Help not received"),
    "wrong_information": _l("Wrong information"),
    "objection": _l("Objection to a public notice"),
    "other": _l("Other"),
}
STATES = {
    "open": _l("Received, being handled"),
    "escalated": _l("Past its deadline, passed to the auditor"),
    "closed": _l("Answered and closed"),
}
SOURCES = {"public": _l("Public page"), "hotline": _l("Hotline")}
KIND_CHOICES = [SelectChoice(code, KINDS[code]) for code in concerns.KINDS]


class ConcernForm(OnceForm):
    """What anyone may tell us; only the description is required."""

    kind = SelectField(_l("What is it about?"), choices=KIND_CHOICES)
    description = TextAreaField(
        _l("What happened"),
        validators=[DataRequired(_l("Tell us what happened.")), Length(max=concerns.DESCRIPTION_MAX)],
        render_kw={"rows": 6},
    )
    contact_phone = StringField(
        _l("Phone to call you back (optional)"),
        validators=[Optional(), Length(max=30)],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    ref = StringField(
        _l("Code on your slip or the notice (optional)"),
        validators=[Optional(), Length(max=concerns.REF_CODE_MAX)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    community = SelectField(_l("Community (optional)"), validators=[Optional()], validate_choice=False)


class HotlineForm(ConcernForm):
    """A caseworker recording a call: the household and the partner it concerns, if known."""

    household = IntegerField(_l("Household no. (optional)"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
    partner = SelectField(_l("Partner concerned (optional)"), validators=[Optional()], validate_choice=False)


class AnswerForm(OnceForm):
    answer = TextAreaField(
        _l("Closing answer"),
        validators=[DataRequired(_l("Write the answer given.")), Length(max=concerns.ANSWER_MAX)],
        render_kw={"rows": 4},
    )


class LookupForm(FlaskForm):
    """Looking a concern up reads the query string and changes nothing: no CSRF token."""

    class Meta:
        csrf = False

    reference = StringField(
        _l("Concern reference"),
        validators=[DataRequired(_l("Enter the reference.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "placeholder": "YJ-XXXX-XXXX"},
    )
