"""Forms of the volunteers' pages: the sign-up a volunteer fills in on a phone, a team
leader's decision and new task, a volunteer's code from the family, the period of a
certificate or of the figures."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields import DateTimeLocalField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from broker.community import volunteer_schema
from broker.portal.forms import OnceForm
from models.volunteers import TASK_CANCEL_REASONS, TASK_KINDS

TASK_KIND_LABELS = {
    "visit": _l("Home visit"),
    "escort": _l("Escort to hospital"),
    "tutoring": _l("Tutoring"),
    "repairs": _l("Repairs"),
    "delivery": _l("Delivery"),
    "other": _l("Other service"),
}
VOLUNTEER_STATUSES = {"pending": _l("Awaiting approval"), "active": _l("Approved"), "rejected": _l("Declined")}
TASK_STATUSES = {"open": _l("Open"), "done": _l("Done"), "cancelled": _l("Cancelled")}
CLAIM_STATUSES = {
    "claimed": _l("Claimed"),
    "checked_in": _l("Checked in"),
    "checked_out": _l("Checked out"),
    "confirmed": _l("Confirmed by the family"),
    "withdrawn": _l("Withdrawn"),
}


class AccountFields(FlaskForm):
    """The account a person makes on a phone to join: a name, a mobile number, a username
    and a password (volunteers and mobile grid members sign up the same way)."""

    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Tell us your name.")), Length(max=volunteer_schema.NAME_MAX)],
        render_kw={"autocomplete": "name"},
    )
    phone = StringField(
        _l("Mobile number"),
        validators=[
            DataRequired(_l("Your mobile number.")),
            Regexp(volunteer_schema.MOBILE, message=_l("11 digits starting with 1.")),
        ],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    username = StringField(
        _l("Username to sign in"),
        validators=[
            DataRequired(_l("Choose a username.")),
            Regexp(volunteer_schema.USERNAME, message=_l("3 to 64 letters, digits, dots, dashes or underscores.")),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(min=8, max=256, message=_l("At least 8 characters.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class SignUpForm(AccountFields):
    """What a volunteer gives to join a team; the ID number is optional."""

    team = SelectField(_l("Team"), coerce=int, validate_choice=False)
    id_number = StringField(
        _l("Resident ID number (optional)"),
        validators=[Optional(), Length(min=15, max=18)],
        render_kw={"autocomplete": "off", "inputmode": "text"},
    )
    skills = StringField(_l("Skills (separate with commas)"), validators=[Optional(), Length(max=400)])
    languages = StringField(_l("Languages and dialects"), validators=[Optional(), Length(max=400)])
    availability = StringField(
        _l("When you are free"), validators=[Optional(), Length(max=volunteer_schema.AVAILABILITY_MAX)]
    )
    grids = StringField(_l("Grid codes you cover (optional)"), validators=[Optional(), Length(max=400)])
    consent = BooleanField(
        _l("I agree that the team and the caseworkers keep these details to arrange volunteer service."),
        validators=[DataRequired(_l("Your consent is needed to sign up."))],
    )


class DecisionForm(OnceForm):
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=200)])


class TaskForm(OnceForm):
    """A task the leader hands out, from an accepted offer or the team's own."""

    offer_id = SelectField(_l("For the request"), coerce=int, validate_choice=False)
    kind = SelectField(_l("Kind of service"), choices=[SelectChoice(k, TASK_KIND_LABELS[k]) for k in TASK_KINDS])
    title = StringField(_l("What to do"), validators=[DataRequired(_l("Say what to do.")), Length(max=120)])
    place = StringField(_l("Where"), validators=[DataRequired(_l("Say where.")), Length(max=200)])
    starts_at = DateTimeLocalField(_l("Starts"), validators=[DataRequired(_l("When does it start?"))])
    ends_at = DateTimeLocalField(_l("Ends"), validators=[DataRequired(_l("When does it end?"))])
    slots = IntegerField(
        _l("Volunteers needed"), default=1, validators=[NumberRange(min=1, max=volunteer_schema.MAX_SLOTS)]
    )


CANCEL_REASONS = {
    "family_declined": _l("The family declined"),
    "need_met": _l("The need was met otherwise"),
    "no_volunteers": _l("No volunteer could go"),
    "rescheduled": _l("Rescheduled"),
    "entered_in_error": _l("Entered in error"),
    "other": _l("Another reason"),
}


class CancelTaskForm(OnceForm):
    reason = SelectField(_l("Why cancel it"), choices=[SelectChoice(r, CANCEL_REASONS[r]) for r in TASK_CANCEL_REASONS])


class ActForm(OnceForm):
    """A button on a task: claim, check in, check out, text the family a code."""


class CodeForm(OnceForm):
    code = StringField(
        _l("Code the family received"),
        validators=[DataRequired(_l("Type the six digits.")), Regexp(r"^\d{6}$", message=_l("Six digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField(_l("Period from"), validators=[Optional()])
    date_to = DateField(_l("Period to"), validators=[Optional()])
