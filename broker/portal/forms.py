"""The portal's forms (Flask-WTF): every one that changes something carries a CSRF token;
the filter forms read the query string and change nothing, so they carry none.

Forms only parse and check the shape of what was typed (a number is a number, yuan have
at most two decimals); whether the action is allowed is the domain's call."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    Field,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import TextInput

from broker.money import disbursement_kinds
from broker.portal import i18n
from models.assessment import CATEGORIES, URGENCIES
from models.registry import VISIT_CHANNELS
from models.requests import OFFER_STATUSES


def safe_next(target: str | None) -> str | None:
    """A redirect target only if it stays on this site (a path, not ``//host`` or a URL)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


class YuanField(Field):
    """An amount typed in yuan (``1,234.50``, ``￥1234.5``), kept as integer fen in
    ``data``. Parsed with ``Decimal``; more than two decimals is an error, not a rounding."""

    widget = TextInput()

    def __init__(self, label: Any = None, validators: Any = None, *, allow_zero: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.allow_zero = allow_zero
        self.raw = ""

    def _value(self) -> str:
        if self.raw:
            return self.raw
        return i18n.yuan_input(self.data) if isinstance(self.data, int) else ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = (valuelist[0] if valuelist else "") or ""
        if not self.raw.strip():
            self.data = None
            return
        try:
            self.data = i18n.parse_yuan(self.raw, allow_zero=self.allow_zero)
        except i18n.MoneyError as exc:
            self.data = None
            raise ValueError(str(exc.message)) from exc


class OnceForm(FlaskForm):
    """A form that creates something: it carries a one-time key, so that sending it twice
    does the work once (see :mod:`broker.portal.once`)."""

    once_key = HiddenField(default=lambda: uuid.uuid4().hex)


def _choices(labels: dict[str, Any], codes: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice(code, labels[code]) for code in codes]


def _with_any(choices: list[SelectChoice]) -> list[SelectChoice]:
    return [SelectChoice("", _l("All")), *choices]


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=256)], render_kw={"autocomplete": "current-password"}
    )
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=[SelectChoice(code, name) for code, name in i18n.LOCALE_NAMES.items()])
    next = HiddenField()


# --- partner --------------------------------------------------------------------------


class InboxFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"), choices=_with_any(_choices(i18n.OFFER_STATUSES, OFFER_STATUSES)), validators=[Optional()]
    )
    category = SelectField(
        _l("Category"), choices=_with_any(_choices(i18n.CATEGORIES, CATEGORIES)), validators=[Optional()]
    )
    page = IntegerField(validators=[Optional(), NumberRange(min=1)], default=1)


class AcceptForm(OnceForm):
    amount = YuanField(
        _l("Amount to commit (yuan)"),
        validators=[Optional()],
        description=_l("Leave empty to take the whole amount asked."),
    )
    submit = SubmitField(_l("Accept"))


class RejectForm(OnceForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=2, max=500)])
    submit = SubmitField(_l("Decline"))


def _reference_field(label: Any) -> StringField:
    """The optional voucher number every disbursement form asks for (transfer, sheet, note)."""
    return StringField(label, validators=[Optional(), Length(max=disbursement_kinds.REFERENCE_MAX)])


def _notes_field() -> TextAreaField:
    """The optional free notes on a service session or goods handed over."""
    return TextAreaField(_l("Notes (optional)"), validators=[Optional(), Length(max=disbursement_kinds.NOTES_MAX)])


class DisbursementForm(OnceForm):
    """Money paid out on a money offer."""

    amount = YuanField(_l("Amount (yuan)"), validators=[InputRequired()])
    reference = _reference_field(_l("Reference (transfer no., receipt no.)"))
    evidence = FileField(_l("Evidence (photo or PDF of the receipt)"))
    submit = SubmitField(_l("Record disbursement"))


class SessionForm(OnceForm):
    """A session of a service (counselling, job support): no money moves."""

    date = DateField(_l("Date of the session"), validators=[InputRequired()])
    hours = DecimalField(
        _l("Hours"),
        places=None,
        validators=[InputRequired(), NumberRange(min=0.01, max=disbursement_kinds.MAX_SESSION_MINUTES // 60)],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    delivered_by = StringField(
        _l("Delivered by"), validators=[DataRequired(), Length(max=disbursement_kinds.DELIVERED_BY_MAX)]
    )
    notes = _notes_field()
    reference = _reference_field(_l("Reference (optional: attendance sheet no.)"))
    evidence = FileField(_l("Evidence (optional: signed attendance sheet)"))
    submit = SubmitField(_l("Record session"))

    def validate_hours(self, field: DecimalField) -> None:
        if field.data is not None and field.data * 60 != (field.data * 60).to_integral_value():
            raise ValidationError(_l("Give the length in whole minutes, e.g. 0.5, 0.75 or 1.5 hours."))

    @property
    def minutes(self) -> int | None:
        return int(self.hours.data * 60) if self.hours.data is not None else None


class ItemForm(FlaskForm):
    """One row of goods handed over; a row left blank is skipped."""

    class Meta:
        csrf = False

    name = StringField(_l("Item"), validators=[Optional(), Length(max=disbursement_kinds.NAME_MAX)])
    quantity = DecimalField(
        _l("Quantity"),
        places=None,
        validators=[Optional(), NumberRange(min=0.001, max=float(disbursement_kinds.MAX_QUANTITY))],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=disbursement_kinds.UNIT_MAX)])

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip() and self.quantity.data is None and not (self.unit.data or "").strip()


class GoodsForm(OnceForm):
    """Goods handed over on an in-kind offer: items and quantities, no money."""

    items = FieldList(FormField(ItemForm), min_entries=3, max_entries=disbursement_kinds.MAX_ITEMS)
    notes = _notes_field()
    reference = _reference_field(_l("Reference (optional: delivery note no.)"))
    evidence = FileField(_l("Evidence (optional: signed delivery note)"))
    submit = SubmitField(_l("Record goods handed over"))

    def validate_items(self, field: FieldList) -> None:
        filled = [entry.form for entry in field.entries if not entry.form.is_blank()]
        if not filled:
            raise ValidationError(_l("Add at least one item: its name, quantity and unit."))
        for row in filled:
            for part in (row.name, row.quantity, row.unit):
                if part.data in (None, "") or (isinstance(part.data, str) and not part.data.strip()):
                    part.errors = [*list(part.errors or []), _l("Required for this item.")]
                    raise ValidationError(_l("Each item needs a name, a quantity and a unit."))

    def filled_items(self) -> list[dict]:
        return [
            {"name": e.form.name.data, "quantity": e.form.quantity.data, "unit": e.form.unit.data}
            for e in self.items.entries
            if not e.form.is_blank()
        ]


# The form recorded on each kind of offer.
DELIVERY_FORMS = {"money": DisbursementForm, "service": SessionForm, "in_kind": GoodsForm}


class CompleteForm(OnceForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    more_available = BooleanField(_l("We can give more for this request: ask us again for what is left"))
    submit = SubmitField(_l("Mark as completed"))


class ReversalForm(OnceForm):
    """Propose reversing (红冲) one of the offer's disbursements recorded in error."""

    # Any id is taken: the domain decides whether it may be reversed, and says why not.
    disbursement = SelectField(_l("Disbursement"), coerce=int, validators=[DataRequired()], validate_choice=False)
    reason = TextAreaField(_l("What was recorded in error"), validators=[DataRequired(), Length(min=2, max=500)])
    submit = SubmitField(_l("Propose the reversal"))


class ApproveReversalForm(OnceForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Approve the reversal"))


class RejectReversalForm(OnceForm):
    note = TextAreaField(_l("Why not"), validators=[DataRequired(), Length(min=2, max=500)])
    submit = SubmitField(_l("Reject"))


# --- caseworker -----------------------------------------------------------------------


class CoverageForm(FlaskForm):
    class Meta:
        csrf = False

    days = IntegerField(_l("Not visited in (days)"), validators=[Optional(), NumberRange(min=1, max=3650)], default=30)


class VisitForm(OnceForm):
    channel = SelectField(_l("Channel"), choices=_choices(i18n.VISIT_CHANNELS, VISIT_CHANNELS))
    visited_at = DateTimeLocalField(_l("When (leave empty for now)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    findings = TextAreaField(_l("What you found"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Record visit"))


class NeedForm(FlaskForm):
    """One need row of an assessment; a row left blank is skipped."""

    class Meta:
        csrf = False

    category = SelectField(
        _l("Category"),
        choices=[SelectChoice("", _l("— none —")), *_choices(i18n.CATEGORIES, CATEGORIES)],
        validators=[Optional()],
    )
    urgency = SelectField(_l("Urgency"), choices=_choices(i18n.URGENCIES, URGENCIES), default="normal")
    amount = YuanField(_l("Amount (yuan, if money)"), validators=[Optional()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])

    def is_blank(self) -> bool:
        return not self.category.data


class AssessmentForm(OnceForm):
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=4000)])
    needs = FieldList(FormField(NeedForm), min_entries=3, max_entries=8)
    # Set by the caseworker on the confirm step when a need looks like one just recorded.
    confirm_duplicate = BooleanField(_l("Yes, record it again"), default=False)
    submit = SubmitField(_l("Save assessment"))

    def validate_needs(self, field: FieldList) -> None:
        if all(entry.form.is_blank() for entry in field.entries):
            raise ValidationError(_l("Add at least one need (choose its category)."))


# --- auditor --------------------------------------------------------------------------


class LedgerFilterForm(FlaskForm):
    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), choices=_with_any(_choices(i18n.LEDGER_KINDS, tuple(i18n.LEDGER_KINDS))))
    partner = SelectField(_l("Partner"), choices=[SelectChoice("", _l("All"))], validators=[Optional()])
    since = StringField(_l("From (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])
    until = StringField(_l("To (YYYY-MM-DD)"), validators=[Optional(), Length(max=10)])
    page = IntegerField(validators=[Optional(), NumberRange(min=1)], default=1)
