"""The form a caseworker fills in after a follow-up visit (回访): is the need met, how
satisfied the family is, notes, and — optionally — a new need found on the visit."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, FormField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from broker.portal import household_labels
from broker.portal.forms import NeedForm, OnceForm
from broker.referral.assessment import MONEY_CATEGORIES
from broker.referral.followup_visits import MAX_NOTES
from models.followups import NEED_MET

SATISFACTION = {
    "5": _l("5 — very satisfied"),
    "4": _l("4 — satisfied"),
    "3": _l("3 — so-so"),
    "2": _l("2 — dissatisfied"),
    "1": _l("1 — very dissatisfied"),
}


class FollowUpForm(OnceForm):
    need_met = SelectField(
        _l("Is the need met?"),
        choices=[SelectChoice(code, household_labels.NEED_MET[code]) for code in NEED_MET],
        validators=[InputRequired()],
    )
    satisfaction = SelectField(
        _l("The family's satisfaction"),
        choices=[SelectChoice(score, text) for score, text in SATISFACTION.items()],
        validators=[InputRequired()],
        coerce=int,
    )
    notes = TextAreaField(_l("What you found on the visit"), validators=[Optional(), Length(max=MAX_NOTES)])
    new_need = FormField(NeedForm, label=_l("A new need (optional)"))
    confirm_duplicate = BooleanField(_l("Yes, record it again"), default=False)
    submit = SubmitField(_l("Save follow-up visit"))

    def validate(self, extra_validators: dict | None = None) -> bool:
        """The fields' own checks, then: a money need names its amount."""
        valid = super().validate(extra_validators)
        need = self.new_need.form
        if not need.is_blank() and need.category.data in MONEY_CATEGORIES and need.amount.data is None:
            need.amount.errors = [*list(need.amount.errors or []), _l("Give the amount in yuan for this need.")]
            return False
        return valid

    def new_need_data(self) -> dict | None:
        """The new need as the domain takes it, or None when its category is left empty."""
        need = self.new_need.form
        if need.is_blank():
            return None
        return {
            "category": need.category.data,
            "urgency": need.urgency.data,
            "amount_fen": need.amount.data,
            "description": need.description.data or "",
        }
