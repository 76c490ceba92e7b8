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


class RuleForm(OnceForm):
    """A community's rule for one activity (the same community and activity again changes it)."""

    community = StringField(_l("Community"), validators=[InputRequired(), Length(max=80)])
    activity = SelectField(_l("Volunteer activity"), validators=[InputRequired()])
    points_per_hour = IntegerField(
        _l("Points per hour"),
        validators=[InputRequired(), NumberRange(min=1, max=points_rules.MAX_RATE)],
        render_kw={"inputmode": "numeric"},
    )
    monthly_cap = IntegerField(
        _l("Monthly cap per household (optional)"),
        validators=[Optional(), NumberRange(min=1, max=points_rules.MAX_CAP)],
        render_kw={"inputmode": "numeric"},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.activity.choices = [(a, texts.render(f"points.activity.{a}")) for a in points_rules.ACTIVITIES]


class ItemForm(OnceForm):
    """Goods or a service donated to a community's points shop."""

    community = StringField(_l("Community"), validators=[InputRequired(), Length(max=80)])
    name = StringField(_l("Item"), validators=[InputRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), validators=[InputRequired()])
    price_points = IntegerField(
        _l("Price in points"),
        validators=[InputRequired(), NumberRange(min=1, max=points_shop.MAX_PRICE)],
        render_kw={"inputmode": "numeric"},
    )
    stock = IntegerField(
        _l("Stock"),
        validators=[InputRequired(), NumberRange(min=0, max=points_shop.MAX_STOCK)],
        render_kw={"inputmode": "numeric"},
    )
    description = StringField(_l("Donated by (optional)"), validators=[Optional(), Length(max=200)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [("goods", _l("Goods")), ("service", _l("Service"))]
