"""The consent forms of the household page: record one member's consent to one purpose
(with the photo of the signed form, taken on the phone) and withdraw one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from broker.portal.consent_labels import PURPOSES
from broker.portal.forms import OnceForm
from broker.portal.i18n import PARTNER_KINDS
from broker.registry.consent_records import REASON_MAX


class ConsentForm(OnceForm):
    member = SelectField(_l("Who agrees"), coerce=int, validators=[DataRequired()])
    purpose = SelectField(
        _l("To what"),
        choices=[SelectChoice(code, label) for code, label in PURPOSES.items()],
        validators=[DataRequired()],
        default="share_with_partners",
    )
    guardian = SelectField(_l("Guardian who signs (for a minor)"), coerce=lambda v: int(v) if v else None)
    partner_kinds = SelectMultipleField(
        _l("Only these kinds of partner (none ticked: all)"),
        choices=[SelectChoice(code, label) for code, label in PARTNER_KINDS.items()],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validators=[Optional()],
    )
    evidence = StringField(_l("Number of the signed form"), validators=[Optional(), Length(max=200)])
    # accept/capture: a phone opens its camera; the server checks the bytes anyway.
    photo = FileField(_l("Photo of the signed form"), render_kw={"accept": "image/*", "capture": "environment"})


class WithdrawConsentForm(OnceForm):
    reason = TextAreaField(
        _l("Why the family withdraws it"),
        validators=[DataRequired(message=_l("Say why: the reason goes on the record.")), Length(max=REASON_MAX)],
        render_kw={"rows": 2},
    )
