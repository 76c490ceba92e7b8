"""The forms of special groups and care plans: recording a member in a group, making a
plan with its carers, and recording a contact on a phone (who, when, how, what, the
concerns raised, and a need to open for them)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from broker.community.care_contacts import MAX_TEXT
from broker.portal import care_labels
from broker.portal.forms import NeedForm, OnceForm
from broker.referral.assessment import MONEY_CATEGORIES
from broker.registry import special_groups
from models.care import CONTACT_CHANNELS, PLAN_KINDS, SCHEDULE_DAYS
from models.special_groups import END_REASONS, GROUP_SOURCES, SPECIAL_GROUPS


def _choices(labels: dict, codes: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice(code, labels[code]) for code in codes]


class SpecialGroupForm(OnceForm):
    member = SelectField(_l("Member"), coerce=int, validators=[InputRequired()])
    group = SelectField(_l("Special group"), validators=[InputRequired()])
    source = SelectField(
        _l("How you know"), choices=_choices(care_labels.GROUP_SOURCES, GROUP_SOURCES), validators=[InputRequired()]
    )
    known_on = DateField(_l("Known since (leave empty for today)"), validators=[Optional()])
    submit = SubmitField(_l("Record the special group"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.group.choices = [SelectChoice(g, special_groups.group_name(g)) for g in SPECIAL_GROUPS]


class GroupEndForm(OnceForm):
    reason = SelectField(_l("Why the member left the group"), validators=[InputRequired()])
    ended_on = DateField(_l("Left on (leave empty for today)"), validators=[Optional()])
    submit = SubmitField(_l("Record that the member left the group"))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = [SelectChoice(r, special_groups.end_reason_name(r)) for r in END_REASONS]


class CarerFields(FlaskForm):
    """One carer of a new plan (a blank name leaves the carer out)."""

    class Meta:
        csrf = False

    name = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=120)])


class CarePlanForm(OnceForm):
    who = SelectField(_l("Who the plan is for"), validators=[InputRequired()])
    kind = SelectField(_l("Kind of plan"), choices=_choices(care_labels.PLAN_KINDS, PLAN_KINDS))
    schedule = SelectField(
        _l("How often a carer gets in touch"), choices=_choices(care_labels.SCHEDULES, tuple(SCHEDULE_DAYS))
    )
    starts_on = DateField(_l("Starts on (leave empty for today)"), validators=[Optional()])
    mentor = FormField(CarerFields, label=_l("Dream mentor"))
    doctor = FormField(CarerFields, label=_l("Family doctor"))
    volunteer = FormField(CarerFields, label=_l("Volunteer"))
    submit = SubmitField(_l("Make the care plan"))

    def carers(self) -> list[dict]:
        """The carers filled in, for the plan's kind (a mentor plan names its mentor; the
        other a doctor and a volunteer)."""
        roles = ("mentor",) if self.kind.data == "mentor" else ("doctor", "volunteer")
        found = []
        for role in roles:
            sub = getattr(self, role).form
            if (sub.name.data or "").strip():
                found.append(
                    {
                        "role": role,
                        "name": sub.name.data.strip(),
                        "phone": sub.phone.data or "",
                        "organisation": sub.organisation.data or "",
                    }
                )
        return found


class ContactForm(OnceForm):
    carer = SelectField(_l("Who made the contact"), coerce=int, validators=[InputRequired()])
    channel = SelectField(_l("How"), choices=_choices(care_labels.CONTACT_CHANNELS, CONTACT_CHANNELS))
    contacted_at = DateTimeLocalField(
        _l("When it happened (leave empty for now)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    summary = TextAreaField(_l("What was done"), validators=[DataRequired(), Length(max=MAX_TEXT)])
    concerns = TextAreaField(
        _l("Concerns raised (the caseworkers are told)"), validators=[Optional(), Length(max=MAX_TEXT)]
    )
    new_need = FormField(NeedForm, label=_l("Open a need for the concern (optional)"))
    submit = SubmitField(_l("Record the contact"))

    def validate(self, extra_validators: dict | None = None) -> bool:
        """The fields' own checks, then: a money need names its amount."""
        valid = super().validate(extra_validators)
        need = self.new_need.form
        if not need.is_blank() and need.category.data in MONEY_CATEGORIES and need.amount.data is None:
            need.amount.errors = [*list(need.amount.errors or []), _l("Give the amount in yuan for this need.")]
            return False
        return valid

    def new_need_data(self) -> dict | None:
        need = self.new_need.form
        if need.is_blank():
            return None
        return {
            "category": need.category.data,
            "urgency": need.urgency.data,
            "amount_fen": need.amount.data,
            "description": need.description.data or "",
        }


class CampForm(OnceForm):
    grid = SelectField(_l("Grid"), validators=[InputRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    held_on = DateField(_l("Held on"), validators=[InputRequired()])
    notes = TextAreaField(_l("What the children did"), validators=[Optional(), Length(max=MAX_TEXT)])
    children = SelectMultipleField(
        _l("Mentored children who came"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[Optional()],
    )
    submit = SubmitField(_l("Record the camp session"))
