"""The forms of an application filed for a family (代办): start it, keep a photo of a
document, tick the checklist, record the next step with the department's reference
number. Each carries a one-time key and a CSRF token; whether the step is allowed is
the domain's call."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from broker.portal.forms import OnceForm, YuanField

# The steps a caseworker records after filing, in the order they usually come.
STEPS = ("submitted", "under-review", "approved", "rejected", "withdrawn")


class FileApplicationForm(OnceForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=4000)])


class UploadForm(OnceForm):
    # accept/capture: a phone opens its camera; the server checks the bytes anyway.
    file = FileField(
        _l("Photo or scan"),
        validators=[FileRequired(message=_l("Choose a photo or a scanned image first."))],
        render_kw={"accept": "image/*", "capture": "environment"},
    )


class TickForm(OnceForm):
    ticked = SelectMultipleField(
        _l("Documents in hand"),
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class StepForm(OnceForm):
    status = SelectField(_l("Next step"), choices=[], validate_choice=False, validators=[InputRequired()])
    reference = StringField(
        _l("Department's reference number"),
        validators=[Optional(), Length(max=80)],
        render_kw={"autocomplete": "off"},
    )
    on = DateField(_l("Date (leave empty for today)"), validators=[Optional()])
    monthly_amount = YuanField(_l("Monthly amount granted (yuan, with the approval)"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)])

    def validate(self, extra_validators: Any = None) -> bool:
        """Which fields a step needs depends on the step (an empty optional field stops
        its own validators, so these are checked here)."""
        ok = super().validate(extra_validators)
        status = self.status.data
        if status == "submitted" and not (self.reference.data or "").strip():
            self.reference.errors = [
                *self.reference.errors,
                _l("Enter the reference number the department gave when it took the file in."),
            ]
            ok = False
        if status == "rejected" and not (self.note.data or "").strip():
            self.note.errors = [*self.note.errors, _l("Say why the department rejected it.")]
            ok = False
        if self.monthly_amount.data is not None and status != "approved":
            self.monthly_amount.errors = [
                *self.monthly_amount.errors,
                _l("A monthly amount is entered only with the approval."),
            ]
            ok = False
        return ok
