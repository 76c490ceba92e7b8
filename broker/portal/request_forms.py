"""The caseworker's forms for steering a request: retry routing, refer by hand, hold,
resume, withdraw, complete as it is, retry automatically, route in full what is held for
a policy (the override), and the outcome of a referral.
Each page gives every one of these forms its own one-time key (``once_key()`` in the
templates), so that a second tap does the work once."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from broker.portal.forms import YuanField, _choices
from broker.portal.request_labels import REFERRAL_OUTCOMES, REVOKE_REASONS
from models.requests import REVOKE_REASONS as REVOKE_CODES

# Where to go back to after an action: the caseworker's list, or the household's page.
BACK = ("home", "household")


class ActionForm(FlaskForm):
    """An action with nothing to say but which page to go back to."""

    back = HiddenField(default="home")


class HoldForm(ActionForm):
    reason = StringField(_l("Why put it on hold (optional)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Put on hold"))


class PolicyOverrideForm(ActionForm):
    reason = TextAreaField(
        _l("Why the need cannot wait for the policy's decision"),
        validators=[DataRequired(_l("Say why the need cannot wait for the policy's decision.")), Length(max=500)],
    )
    submit = SubmitField(_l("Route the whole amount now"))


class RevokeForm(ActionForm):
    reason_code = SelectField(
        _l("Why withdraw it"),
        choices=[SelectChoice("", _l("— choose a reason —")), *_choices(REVOKE_REASONS, REVOKE_CODES)],
        validators=[DataRequired(_l("Choose why the request is withdrawn."))],
    )
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Withdraw"))


class CompleteRequestForm(ActionForm):
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Mark as completed"))


class AutoRetryForm(ActionForm):
    enabled = BooleanField(_l("Retry automatically when a partner or fund appears"))
    submit = SubmitField(_l("Save"))


class ReferForm(ActionForm):
    partner_id = SelectField(_l("Organisation on file"), choices=[], validate_choice=False)
    organisation = StringField(_l("Or a new organisation's name"), validators=[Optional(), Length(max=120)])
    contact = StringField(_l("Contact (optional)"), validators=[Optional(), Length(max=120)])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Record the referral"))


class OutcomeForm(ActionForm):
    outcome = SelectField(
        _l("The organisation's answer"),
        choices=_choices(REFERRAL_OUTCOMES, tuple(REFERRAL_OUTCOMES)),
        validators=[DataRequired()],
    )
    amount = YuanField(_l("Amount it took on (yuan, for money)"), validators=[Optional()])
    paid = YuanField(_l("Amount it paid (yuan, for money)"), validators=[Optional()])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Record the answer"))
