"""The forms of the family's points page: volunteer hours earned, and an item of the
points shop redeemed (each form with its one-time key: a double tap does one thing)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from broker.community import points, points_rules, points_shop
from broker.platform import texts
from broker.portal.forms import OnceForm


class EarnForm(OnceForm):
    activity = SelectField(_l("Volunteer activity"), validators=[InputRequired()])
    minutes = IntegerField(
        _l("Minutes of service"),
        validators=[InputRequired(), NumberRange(min=1, max=points.MAX_MINUTES)],
        render_kw={"inputmode": "numeric"},
    )
    reference = StringField(
        _l("Sign-in sheet or record no. (optional)"),
        validators=[Optional(), Length(max=100)],
        description=_l("The same record is counted once, however often it is entered."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.activity.choices = [(a, texts.render(f"points.activity.{a}")) for a in points_rules.ACTIVITIES]


class RedeemForm(OnceForm):
    item_id = HiddenField(validators=[InputRequired()])
    quantity = IntegerField(
        _l("Quantity"),
        default=1,
        validators=[InputRequired(), NumberRange(min=1, max=points_shop.MAX_QUANTITY)],
        render_kw={"inputmode": "numeric"},
    )
