"""The forms of jobs and skills: enrolling a member on a course or placing her in an
opening (from the matches page), a session attended, and the 3- or 6-month follow-up of a
placement (still working? earnings in yuan)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from broker.community.placements import MAX_NOTES
from broker.platform.input_schema import MAX_ID
from broker.portal.forms import OnceForm, YuanField


class EnrolForm(OnceForm):
    """Enrol the member chosen on the matches page on a course."""

    member = HiddenField(validators=[InputRequired()])
    course = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Enrol on this course"))


class PlaceForm(OnceForm):
    """Place the member chosen on the matches page in an opening."""

    member = HiddenField(validators=[InputRequired()])
    opening = HiddenField(validators=[InputRequired()])
    submit = SubmitField(_l("Place in this job"))


class AttendanceForm(FlaskForm):
    session_no = IntegerField(_l("Session"), validators=[InputRequired(), NumberRange(min=1, max=500)])
    submit = SubmitField(_l("Record attendance"))


class FollowUpForm(OnceForm):
    still_working = SelectField(
        _l("Still working there?"),
        choices=[SelectChoice("yes", _l("Yes, still working")), SelectChoice("no", _l("No, no longer working"))],
        validators=[InputRequired()],
    )
    earnings = YuanField(_l("Earned in the month before (yuan)"), validators=[Optional()], allow_zero=True)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=MAX_NOTES)])
    submit = SubmitField(_l("Record the follow-up"))


def member_id(value: str | None) -> int | None:
    """A hidden id field's value, or None when it is not one."""
    try:
        found = int(value or "")
    except ValueError:
        return None
    return found if 1 <= found <= MAX_ID else None
