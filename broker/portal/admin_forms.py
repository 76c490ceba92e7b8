"""The admin pages' forms: grids, partners, deposits and users.

They only read what was typed (yuan into fen, ticked boxes into lists); whether it is
valid is decided by the domain's own schemas and rules, the API's, through
:mod:`broker.portal.admin_checks`. Every form that changes something carries a one-time
key (:class:`~broker.portal.forms.OnceForm`), so a double submission does its work once."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from broker.portal import i18n
from broker.portal.forms import OnceForm, YuanField
from models.assessment import CATEGORIES
from models.partners import PARTNER_KINDS
from models.regions import REGION_KINDS
from models.users import ROLES

# Volunteers and mobile grid members make their own light accounts when they sign up
# (/volunteers/join, /reporters/join).
STAFF_ROLES = tuple(r for r in ROLES if r not in ("volunteer", "reporter"))

ALL_REGIONS = "*"


class CheckboxesField(SelectMultipleField):
    """Several choices as tick boxes (easier than a multiple select on a phone); the
    choices themselves are checked by the domain, not here."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        """Leave unknown choices to the domain's schema, which names them."""


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def whole_number(value: Any) -> int | str | None:
    """A typed whole number as an int for the schema; anything else as typed (the schema
    names what is wrong with it), empty as None. Only ASCII digits: ``"²".isdigit()``."""
    typed = text(value).strip()
    if typed.isascii() and typed.isdigit() and len(typed) < 12:
        return int(typed)
    return typed or None


class GridForm(OnceForm):
    code = StringField(
        _l("Grid code"),
        description=_l("Letters, digits and - _ . only, e.g. HD-ZGC-01. It cannot be changed later."),
        render_kw={"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"},
    )
    name = StringField(_l("Grid name"))
    district = StringField(_l("District"))
    street = StringField(_l("Street"))
    community = StringField(_l("Community"))
    submit = SubmitField(_l("Save grid"))

    def data_for(self, *, with_code: bool) -> dict[str, Any]:
        names = (("code",) if with_code else ()) + ("name", "district", "street", "community")
        return {name: text(getattr(self, name).data) for name in names}


class RegionForm(OnceForm):
    code = StringField(
        _l("Region code"),
        description=_l("Letters, digits and - _ . only, e.g. HD-ZGC. It cannot be changed later."),
        render_kw={"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"},
    )
    name = StringField(_l("Region name"))
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(code, i18n.REGION_KINDS[code]) for code in REGION_KINDS],
        validate_choice=False,
    )
    parent = SelectField(
        _l("Under"),
        description=_l(
            "A district or county is under nothing; a street or town under a district or county; "
            "a community or village under a street or town."
        ),
        choices=[],
        validate_choice=False,
    )
    submit = SubmitField(_l("Save region"))

    def set_parents(self, nodes: list[tuple[str, str]]) -> None:
        self.parent.choices = [
            SelectChoice("", _l("— nothing (a district or county) —")),
            *(SelectChoice(code, f"{path} ({code})") for code, path in nodes),
        ]

    def data_for(self, *, with_code: bool) -> dict[str, Any]:
        data = {"name": text(self.name.data), "kind": text(self.kind.data), "parent": text(self.parent.data) or None}
        return {"code": text(self.code.data), **data} if with_code else data


class PartnerForm(OnceForm):
    """A partner's own fields; :func:`broker.portal.admin_adapters.partner_form` adds its
    adapter's settings as ``cfg_<name>`` fields."""

    name = StringField(_l("Partner name"))
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(code, i18n.PARTNER_KINDS[code]) for code in PARTNER_KINDS],
        validate_choice=False,
    )
    adapter = HiddenField()
    categories = CheckboxesField(
        _l("Categories of need it funds"), choices=[SelectChoice(code, i18n.CATEGORIES[code]) for code in CATEGORIES]
    )
    regions = CheckboxesField(_l("Grids it serves"), choices=[])
    max_amount = YuanField(
        _l("Most it gives for one request (yuan, optional)"), description=_l("Leave empty for no limit.")
    )
    respond_within_hours = StringField(
        _l("Answers offers within (hours)"), default="48", render_kw={"inputmode": "numeric", "autocomplete": "off"}
    )
    contact = StringField(_l("Contact (name and phone)"))
    active = BooleanField(_l("Active: routing may offer it requests"), default=True)
    submit = SubmitField(_l("Save partner"))

    def set_grids(self, grids: list[tuple[str, str]]) -> None:
        self.regions.choices = [
            SelectChoice(ALL_REGIONS, _l("Everywhere (all grids)")),
            *(SelectChoice(code, f"{name} ({code})") for code, name in grids),
        ]

    def data_for(self) -> dict[str, Any]:
        return {
            "name": text(self.name.data),
            "kind": text(self.kind.data),
            "adapter": text(self.adapter.data),
            "categories": list(self.categories.data or []),
            "regions": list(self.regions.data or []),
            "max_amount_fen": self.max_amount.data,
            "respond_within_hours": whole_number(self.respond_within_hours.data),
            "contact": text(self.contact.data),
            "active": bool(self.active.data),
        }


class ActiveForm(OnceForm):
    """Activate or deactivate (a partner, an account): the value says which, so that
    sending it twice leaves it as asked."""

    active = HiddenField()


class DepositForm(OnceForm):
    """A deposit, and — when the donor restricted the money (定向/专项) — its restriction:
    filled in only if any of the restriction's fields is."""

    amount = YuanField(_l("Amount (yuan)"))
    donor = StringField(_l("Source (donor or grant)"))
    reference = StringField(_l("Reference (bank transfer no., receipt no.)"))
    memo = StringField(_l("Note (optional)"))
    r_categories = CheckboxesField(
        _l("Only for these kinds of need"),
        choices=[SelectChoice(code, i18n.CATEGORIES[code]) for code in CATEGORIES],
    )
    r_regions = CheckboxesField(_l("Only for households in these regions or on these grids"), choices=[])
    r_programme = StringField(_l("Programme (e.g. 大病救助专项基金)"))
    r_expires_on = StringField(
        _l("Last day it may be offered (YYYY-MM-DD, optional)"),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "placeholder": "2027-12-31"},
    )
    submit = SubmitField(_l("Record deposit"))

    def set_grids(self, grids: list[tuple[str, str]], regions: list[tuple[str, str]] = ()) -> None:
        """Nodes of the region tree first (each covers every grid below it), then the grids."""
        self.r_regions.choices = [
            *(SelectChoice(code, f"{path} ({code})") for code, path in regions),
            *(SelectChoice(code, f"{name} ({code})") for code, name in grids),
        ]

    def data_for(self) -> dict[str, Any]:
        restriction = {
            "categories": list(self.r_categories.data or []),
            "regions": list(self.r_regions.data or []),
            "programme": text(self.r_programme.data).strip(),
            "expires_on": text(self.r_expires_on.data).strip() or None,
        }
        return {
            "amount_fen": self.amount.data,
            "donor": text(self.donor.data),
            "reference": text(self.reference.data),
            "memo": text(self.memo.data),
            "restriction": restriction if any(restriction.values()) else None,
        }


NO_PARTNER = ""


class UserForm(OnceForm):
    """An account's role, language, grids (caseworker) or partner (partner clerk)."""

    display_name = StringField(_l("Name shown"))
    role = SelectField(
        _l("Role"), choices=[SelectChoice(code, i18n.ROLES[code]) for code in STAFF_ROLES], validate_choice=False
    )
    locale = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, name) for code, name in i18n.LOCALE_NAMES.items()],
        default=i18n.DEFAULT_LOCALE,
        validate_choice=False,
    )
    grids = CheckboxesField(_l("Grids (caseworkers only)"), choices=[])
    partner = SelectField(_l("Partner (partner clerks only)"), choices=[], validate_choice=False)
    region = SelectField(
        _l("Region (auditors and admins only)"),
        description=_l("They then see only the households, requests and money below it."),
        choices=[],
        validate_choice=False,
    )
    submit = SubmitField(_l("Save account"))

    def set_choices(
        self, grids: list[tuple[str, str]], partners: list[tuple[int, str]], regions: list[tuple[str, str]] = ()
    ) -> None:
        self.grids.choices = [SelectChoice(code, f"{name} ({code})") for code, name in grids]
        self.partner.choices = [
            SelectChoice(NO_PARTNER, _l("— none —")),
            *(SelectChoice(str(pid), name) for pid, name in partners),
        ]
        self.region.choices = [
            SelectChoice("", _l("— everything —")),
            *(SelectChoice(code, f"{path} ({code})") for code, path in regions),
        ]

    def data_for(self) -> dict[str, Any]:
        return {
            "display_name": text(self.display_name.data),
            "role": text(self.role.data),
            "locale": text(self.locale.data) or None,
            "grid_codes": list(self.grids.data or []),
            "partner_id": whole_number(self.partner.data),
            "region": text(self.region.data) or None,
        }


class NewUserForm(UserForm):
    username = StringField(
        _l("Username"),
        description=_l("What they sign in with: no spaces."),
        render_kw={"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"},
    )
    password = PasswordField(
        _l("Password"), description=_l("At least 8 characters."), render_kw={"autocomplete": "new-password"}
    )

    def data_for(self) -> dict[str, Any]:
        return {**super().data_for(), "username": text(self.username.data), "password": text(self.password.data)}


class PasswordForm(OnceForm):
    password = PasswordField(
        _l("New password"), description=_l("At least 8 characters."), render_kw={"autocomplete": "new-password"}
    )
    submit = SubmitField(_l("Set password"))
