"""The portal's forms (Flask-WTF): every one that changes something carries a CSRF token;
the filter forms read the query string and change nothing, so they carry none.

Forms only parse and check the shape of what was typed (a number is a number, yuan have
at most two decimals); whether the action is allowed is the domain's call."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
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


class AcceptForm(FlaskForm):
    amount = YuanField(
        _l("Amount to commit (yuan)"),
        validators=[Optional()],
        description=_l("Leave empty to take the whole amount asked."),
    )
    submit = SubmitField(_l("Accept"))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=2, max=500)])
    submit = SubmitField(_l("Decline"))


class DisbursementForm(FlaskForm):
    amount = YuanField(_l("Amount (yuan)"), validators=[InputRequired()], allow_zero=True)
    kind = SelectField(_l("Kind"), choices=_choices(i18n.DISBURSEMENT_KINDS, ("cash", "in_kind", "service")))
    reference = StringField(_l("Reference (transfer no., receipt no.)"), validators=[Optional(), Length(max=120)])
    evidence = FileField(_l("Evidence (photo or PDF of the receipt)"))
    submit = SubmitField(_l("Record disbursement"))

    def validate_amount(self, field: YuanField) -> None:
        if field.data == 0 and self.kind.data == "cash":
            raise ValidationError(_l("A cash disbursement must be more than zero."))


class CompleteForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])
    more_available = BooleanField(_l("We can give more for this request: ask us again for what is left"))
    submit = SubmitField(_l("Mark as completed"))


# --- caseworker -----------------------------------------------------------------------


class CoverageForm(FlaskForm):
    class Meta:
        csrf = False

    days = IntegerField(_l("Not visited in (days)"), validators=[Optional(), NumberRange(min=1, max=3650)], default=30)


class VisitForm(FlaskForm):
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


class AssessmentForm(FlaskForm):
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=4000)])
    needs = FieldList(FormField(NeedForm), min_entries=3, max_entries=8)
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
