"""The caseworker's forms for the registry: a household (new, with its head; or its
details changed), a member (added or changed), the household's state and a member's
death. They check the shape of what was typed, with the limits of the API's schemas
(:mod:`broker.registry.household_schema`), and the resident ID with the registry's own
check, said in the reader's language; the schemas and the domain then check it all
again, exactly as for the API."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from broker.platform.input_schema import MAX_INCOME_FEN
from broker.portal import household_labels, i18n
from broker.portal.forms import OnceForm, YuanField, _choices
from broker.registry import identity
from broker.registry.household_schema import (
    EMPLOYMENT,
    MAX_ASSETS_FEN,
    MAX_VEHICLES,
    RELATIONS,
    SCHOOLING,
)
from broker.registry.household_states import REASON_MAX, REASON_MIN

PHONE = r"^\+?[0-9][0-9 \-]{4,28}$"
_NONE = SelectChoice("", _l("— not recorded —"))


class MultiCheckboxField(SelectMultipleField):
    """A list of labelled checkboxes (a member's conditions)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MemberFields(FlaskForm):
    """A member's fields; the form that carries them has the CSRF token."""

    class Meta:
        csrf = False

    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the member's name.")), Length(max=80)])
    relation = SelectField(_l("Relation to the head"), choices=_choices(i18n.RELATIONS, RELATIONS), default="head")
    id_number = StringField(
        _l("Resident ID number"),
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "maxlength": "18"},
    )
    birth_date = DateField(_l("Date of birth"), validators=[Optional()])
    sex = SelectField(_l("Sex"), choices=[_NONE, *_choices(household_labels.SEXES, ("M", "F"))], default="")
    conditions = MultiCheckboxField(
        _l("Health"), choices=_choices(household_labels.CONDITIONS, tuple(household_labels.CONDITIONS))
    )
    disability_grade = SelectField(
        _l("Disability grade"),
        choices=[_NONE, *(SelectChoice(str(g), _l("Grade %(grade)s", grade=g)) for g in range(1, 5))],
        default="",
    )
    disability_kind = SelectField(
        _l("Kind of disability"),
        choices=[_NONE, *_choices(household_labels.DISABILITY_KINDS, tuple(household_labels.DISABILITY_KINDS))],
        default="",
    )
    schooling = SelectField(_l("Schooling"), choices=[_NONE, *_choices(i18n.SCHOOLING, SCHOOLING)], default="")
    employment = SelectField(_l("Work"), choices=[_NONE, *_choices(i18n.EMPLOYMENT, EMPLOYMENT)], default="")
    supporter = SelectField(
        _l("Legal supporter"),
        choices=[_NONE, *_choices(household_labels.SUPPORTER, tuple(household_labels.SUPPORTER))],
        default="",
    )

    # Set by the view for a member whose ID number is already recorded (blank keeps it).
    has_id_number = False

    def validate_id_number(self, field: StringField) -> None:
        if (field.data or "").strip():
            said = household_labels.id_problem(identity.problem(field.data))
            if said:
                raise ValidationError(said)

    def validate(self, extra_validators: Any = None) -> bool:
        """Each field, then the birth date against the ID number (a blank date field
        stops its own validators, so this is checked here)."""
        ok = super().validate(extra_validators)
        number = (self.id_number.data or "").strip()
        born_field = self.birth_date
        if born_field.data is None and not born_field.errors and not number and not self.has_id_number:
            born_field.errors = [_l("Give the date of birth, or the ID number (which contains it).")]
            return False
        if born_field.data is not None and number and identity.problem(number) is None:
            born = identity.parse(number)[1]
            if born_field.data != born:
                born_field.errors = [
                    _l("Does not match the birth date in the ID number (%(born)s).", born=born.isoformat())
                ]
                return False
        return ok

    def data_for_domain(self) -> dict[str, Any]:
        """What the API's schema takes for this member (a blank ID number is left out)."""
        data: dict[str, Any] = {
            "name": (self.name.data or "").strip(),
            "relation": self.relation.data,
            "birth_date": self.birth_date.data.isoformat() if self.birth_date.data else None,
            "sex": self.sex.data or None,
            "conditions": list(self.conditions.data or []),
            "disability_grade": int(self.disability_grade.data) if self.disability_grade.data else None,
            "disability_kind": self.disability_kind.data or None,
            "schooling": self.schooling.data or None,
            "employment": self.employment.data or None,
            "supporter_able": {"yes": True, "no": False}.get(self.supporter.data or ""),
        }
        if (self.id_number.data or "").strip():
            data["id_number"] = self.id_number.data.strip().upper()
        elif self.has_id_number and data["birth_date"] is None:
            data.pop("birth_date")
        return data


class MemberForm(OnceForm):
    member = FormField(MemberFields, separator="-")
    submit = SubmitField(_l("Save member"))


class HouseholdForm(OnceForm):
    """A household's own details."""

    address = StringField(_l("Address"), validators=[DataRequired(_l("Give the address.")), Length(min=4, max=255)])
    head_name = StringField(_l("Name of the head (if not the first member)"), validators=[Optional(), Length(max=80)])
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Regexp(PHONE, message=_l("Digits only (a leading + and spaces or - are fine)."))],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    income = YuanField(
        _l("Monthly income of the household (yuan)"),
        validators=[InputRequired(_l("Give the monthly income; 0 if there is none."))],
        allow_zero=True,
    )
    consent_to_share = BooleanField(_l("The family agrees that partners may see its name"))
    sudden_hardship = BooleanField(_l("Sudden hardship (illness, accident, disaster)"))
    residence = SelectField(
        _l("Residence"),
        choices=_choices(household_labels.RESIDENCES, tuple(household_labels.RESIDENCES)),
        default="urban",
    )
    financial_assets = YuanField(
        _l("Financial assets of the household (yuan)"), validators=[Optional()], allow_zero=True
    )
    motor_vehicles = IntegerField(
        _l("Motor vehicles owned"),
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_VEHICLES, message=_l("From 0 to %(max)s.", max=MAX_VEHICLES)),
        ],
        default=0,
        render_kw={"inputmode": "numeric"},
    )
    surplus_housing = BooleanField(_l("Owns housing beyond the household's need"))
    medical_spending = YuanField(
        _l("Rigid medical spending paid out of pocket (yuan)"), validators=[Optional()], allow_zero=True
    )
    medical_spending_period = SelectField(
        _l("The medical spending is"),
        choices=_choices(household_labels.SPENDING_PERIODS, tuple(household_labels.SPENDING_PERIODS)),
        default="monthly",
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Save household"))

    def validate_income(self, field: YuanField) -> None:
        if field.data is not None and field.data > MAX_INCOME_FEN:
            raise ValidationError(_l("At most %(max)s a month.", max=i18n.format_yuan(MAX_INCOME_FEN)))

    def validate_financial_assets(self, field: YuanField) -> None:
        if field.data is not None and field.data > MAX_ASSETS_FEN:
            raise ValidationError(_l("At most %(max)s.", max=i18n.format_yuan(MAX_ASSETS_FEN)))

    def validate_medical_spending(self, field: YuanField) -> None:
        if field.data is not None and field.data > MAX_INCOME_FEN * 12:
            raise ValidationError(_l("At most %(max)s.", max=i18n.format_yuan(MAX_INCOME_FEN * 12)))

    def fill(self, household: Any) -> None:
        """Show a household's recorded amounts (in yuan) on the form."""
        self.income.data = household.monthly_income_fen
        self.financial_assets.data = household.financial_assets_fen
        self.medical_spending.data = household.medical_spending_fen

    def data_for_domain(self) -> dict[str, Any]:
        return {
            "address": (self.address.data or "").strip(),
            "head_name": (self.head_name.data or "").strip(),
            "phone": (self.phone.data or "").strip() or None,
            "monthly_income_fen": self.income.data or 0,
            "consent_to_share": bool(self.consent_to_share.data),
            "sudden_hardship": bool(self.sudden_hardship.data),
            "residence": self.residence.data or "urban",
            "financial_assets_fen": self.financial_assets.data or 0,
            "motor_vehicles": self.motor_vehicles.data or 0,
            "surplus_housing": bool(self.surplus_housing.data),
            "medical_spending_fen": self.medical_spending.data or 0,
            "medical_spending_period": self.medical_spending_period.data or "monthly",
            "notes": self.notes.data or "",
        }


class NewHouseholdForm(HouseholdForm):
    """A new household on one of my grids, with its first member (more are added after)."""

    grid = SelectField(_l("Grid"), choices=[])
    head = FormField(MemberFields, separator="-")
    submit = SubmitField(_l("Register the household"))


class StateForm(OnceForm):
    state = SelectField(
        _l("What happened"),
        choices=[
            SelectChoice("", _l("— choose —")),
            *_choices(household_labels.STATE_ACTIONS, tuple(household_labels.STATE_ACTIONS)),
        ],
        validators=[DataRequired(_l("Choose what happened."))],
    )
    reason = TextAreaField(
        _l("Why (goes on the record)"),
        validators=[
            DataRequired(_l("Say why: the reason goes on the record.")),
            Length(min=REASON_MIN, max=REASON_MAX),
        ],
    )
    submit = SubmitField(_l("Save"))


class DeceasedForm(OnceForm):
    on = DateField(_l("Date of death (leave empty for today)"), validators=[Optional()])
    reason = TextAreaField(
        _l("How you learned it, or why it is corrected (goes on the record)"),
        validators=[
            DataRequired(_l("Say why: the reason goes on the record.")),
            Length(min=REASON_MIN, max=REASON_MAX),
        ],
    )
    submit = SubmitField(_l("Save"))
