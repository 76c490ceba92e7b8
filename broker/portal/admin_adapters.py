"""A partner's adapter in the admin pages: the adapter chosen among those installed
(:mod:`broker.platform.adapter_registry`), and its settings as form fields generated from
the adapter's own marshmallow ``config_schema``, so that a plugin's settings get a form
without a line of portal code.

A setting the schema marks ``load_only`` is a secret: its field is a password box that is
never filled in; left empty on an edit it keeps the stored secret (the domain keeps
secrets a new config leaves out), typed in it replaces it. Amounts in fen are typed in
yuan. The built-in adapters' names, descriptions and settings have labels in the
portal's catalogue; a plugin's show their own names."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import fields as mf
from wtforms import BooleanField, Field, PasswordField, StringField

from broker.platform import adapter_registry
from broker.portal.admin_forms import PartnerForm
from broker.portal.forms import YuanField

PREFIX = "cfg_"
SEALED_PREFIX = "enc:v1:"  # how the domain marks a stored secret (never shown)

ADAPTERS: dict[str, Any] = {
    "portal": (
        _l("Portal inbox"),
        _l("The offer waits in the partner's inbox on this portal; the partner answers there."),
    ),
    "webhook": (
        _l("Webhook"),
        _l("The offer is sent to the partner's own system as a signed message; it answers through the API."),
    ),
    "auto_grant": (
        _l("Automatic grant"),
        _l("A mutual-aid fund's rule: accept and pay at once any amount up to the limit, if the fund holds it."),
    ),
    "manual": (
        _l("Referral by hand"),
        _l("The caseworker refers the family to the organisation and records its answer; routing never picks it."),
    ),
}
SETTINGS: dict[str, Any] = {
    "notify_email": (_l("Email for new offers (optional)"), None),
    "url": (_l("Address of the partner's system (URL)"), _l("Begins with https:// (or http:// on a local network).")),
    "secret": (
        _l("Signing secret"),
        _l("whsec_ followed by 24 to 64 random bytes in base64; the partner uses it to check our signature."),
    ),
    "timeout_seconds": (_l("Wait for an answer (seconds, optional)"), _l("From 0.5 to 30; empty for the default.")),
    "limit_fen": (_l("Grant at once up to (yuan)"), _l("Larger amounts are not granted automatically.")),
    "cap_fen_per_household": (
        _l("At most per household, automatically (yuan, optional)"),
        _l("Beyond this, within the period below, the fund's people decide."),
    ),
    "cap_period_days": (_l("Period of that cap (days)"), _l("365 for once a year; needed with the cap.")),
    "phone": (_l("Phone (optional)"), _l("How the caseworker reaches the organisation.")),
}
SECRET_HINT = _l("Not shown. Leave empty to keep the secret; type a new one to replace it.")


def adapter_label(name: str) -> Any:
    return ADAPTERS.get(name, (name, ""))[0]


def adapter_description(name: str) -> Any:
    return ADAPTERS.get(name, (name, ""))[1]


def installed() -> list[str]:
    return adapter_registry.names()


def _schema_fields(adapter: str) -> dict[str, mf.Field]:
    return dict(adapter_registry.get(adapter).config_schema().fields)


def _form_field(name: str, field: mf.Field, *, secret_set: bool) -> Field:
    label, hint = SETTINGS.get(name, (name, None))
    if field.load_only:
        placeholder = "••••" if secret_set else ""
        return PasswordField(
            label,
            description=SECRET_HINT if secret_set else hint,
            render_kw={"autocomplete": "new-password", "placeholder": placeholder},
        )
    if isinstance(field, mf.Boolean):
        return BooleanField(label, description=hint)
    if isinstance(field, mf.Integer) and (name.endswith("_fen") or "_fen_" in name):
        return YuanField(label, description=hint)
    kw = {"inputmode": "decimal"} if isinstance(field, mf.Number) else {}
    return StringField(label, description=hint, render_kw={"autocomplete": "off", **kw})


def partner_form(adapter: str, *, stored: dict[str, Any] | None = None, **kwargs: Any) -> PartnerForm:
    """The partner form with ``adapter``'s settings added as ``cfg_<name>`` fields;
    ``stored`` is the partner's stored config when the adapter is its own (to tell
    whether a secret is set)."""
    stored = stored or {}
    extra = {
        PREFIX + name: _form_field(name, field, secret_set=str(stored.get(name, "")).startswith(SEALED_PREFIX))
        for name, field in _schema_fields(adapter).items()
    }
    form_class = type("AdapterPartnerForm", (PartnerForm,), extra)
    form = form_class(**kwargs)
    form.adapter.data = adapter
    form.config_names = list(extra)
    return form


def config_fields(form: PartnerForm) -> list[Field]:
    return [getattr(form, name) for name in getattr(form, "config_names", [])]


def secret_names(adapter: str) -> set[str]:
    return {name for name, field in _schema_fields(adapter).items() if field.load_only}


def config_from(form: PartnerForm, adapter: str) -> dict[str, Any]:
    """The settings as typed, for the adapter's schema: numbers as numbers where they
    read as such, and an empty box left out (the schema's default, or for a secret on an
    edit, the stored one)."""
    out: dict[str, Any] = {}
    for name, field in _schema_fields(adapter).items():
        value = getattr(form, PREFIX + name).data
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
            value = _number(value, field)
        elif value is None:
            continue
        out[name] = value
    return out


def _number(value: str, field: mf.Field) -> Any:
    try:
        if isinstance(field, mf.Integer):
            return int(value)
        if isinstance(field, mf.Number):
            return float(value)
    except ValueError:
        return value  # the schema says what is wrong with it
    return value


def shown_config(partner_config: dict[str, Any], adapter: str) -> dict[str, Any]:
    """The stored settings to fill the form with: everything but secrets."""
    secret = secret_names(adapter)
    return {PREFIX + k: v for k, v in (partner_config or {}).items() if k not in secret}


def names_map(adapter: str) -> dict[str, str]:
    """The adapter's error keys (``adapter_config.<name>``) → form field names."""
    return {f"adapter_config.{name}": PREFIX + name for name in _schema_fields(adapter)}
