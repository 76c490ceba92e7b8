"""The receipt (签收) forms: the family's signature drawn on screen, a photo of the signed
slip, or the code sent to the family's phone; and the reconciliation period."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, InputRequired, Optional, Regexp

from broker.portal.forms import OnceForm


class ReceiptForm(OnceForm):
    method = HiddenField(validators=[InputRequired(), AnyOf(("signature", "photo", "code"))])
    # A canvas drawing as a data: URL, filled in by the page's script.
    signature = HiddenField(validators=[Optional()])
    photo = FileField(_l("Photo of the signed slip"), render_kw={"accept": "image/*", "capture": "environment"})
    code = StringField(
        _l("Code the family received"),
        validators=[Optional(), Regexp(r"^\d{6}$", message=_l("Six digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )


class SendCodeForm(OnceForm):
    """Send the family a code (a tap sent twice sends one SMS)."""
