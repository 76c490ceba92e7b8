"""Language and formatting for the portal: which locale a request reads in, how money and
times are written, and how yuan typed into a form become fen.

Chinese (zh_CN) is the default; English is the other choice. A reader's choice is kept
in the session (so it holds before signing in) and on the user (so it follows them to
another device). Amounts are integer fen everywhere; they become text only here, with
``Decimal`` so that no float ever touches money. Times are stored in UTC and shown in
the city's zone (``TIMEZONE``, Asia/Shanghai)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel import Locale, support
from flask import current_app, session
from flask_babel import Babel, Domain
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.utils import cached_property

from broker.platform import amounts, texts
from broker.portal import care_labels, consent_labels, household_labels, request_labels

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
# How each language names itself in the switch, so a reader finds their own.
LOCALE_NAMES = {"zh_CN": "中文", "en": "English"}

_FEN_PER_YUAN = 100
# Either plain digits or correctly grouped thousands, then at most two decimals.
_YUAN_RE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$")
MAX_FEN = 10**13  # a hundred billion yuan: anything above is a typing slip


class _Catalogues(dict):
    """The translation cache of the portal's domain, which loads a catalogue on first use
    from the folder the portal files it under. Babel spells the parsed Chinese locale
    with its script (``zh_Hans_CN``); the catalogue lives under ``zh_CN``, the name
    gettext tools and translators use."""

    def __init__(self, directory: str) -> None:
        super().__init__()
        self.directory = directory
        self.folders = {str(Locale.parse(code)): code for code in LOCALES}

    def __missing__(self, key: tuple[str, str]) -> support.Translations:
        locale_name, domain = key
        folder = self.folders.get(locale_name, locale_name)
        catalogue = support.Translations.load(self.directory, [folder], domain)
        self[key] = catalogue
        return catalogue


class PortalDomain(Domain):
    def __init__(self, directory: str) -> None:
        super().__init__(translation_directories=directory)
        self.cache = _Catalogues(directory)


class PortalBabel(Babel):
    """Flask-Babel with the portal's catalogue folders (see :class:`_Catalogues`)."""

    directory = ""

    @cached_property
    def domain_instance(self) -> Domain:
        return PortalDomain(self.directory)


def select_locale() -> str:
    """The locale of this request: the session's choice, else the user's, else Chinese."""
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    return DEFAULT_LOCALE


def select_timezone() -> str:
    return current_app.config.get("TIMEZONE", "Asia/Shanghai")


def html_lang(locale: str) -> str:
    """The BCP 47 tag for ``<html lang>``: it picks the font and the screen reader's voice."""
    return "zh-CN" if locale == "zh_CN" else "en"


def format_yuan(fen: int | None) -> str:
    """``123450`` → ``¥1,234.50``, the same in both languages; ``None`` → an em dash."""
    return amounts.yuan(fen)


def format_hours(minutes: int | None) -> str:
    """A session's length in hours: ``90`` → ``1.5``, ``20`` → ``0.33``; ``None`` → an em dash."""
    if minutes is None:
        return "—"
    hours = (Decimal(int(minutes)) / 60).quantize(Decimal("0.01"))
    return f"{hours.normalize():f}"


def format_quantity(value: object) -> str:
    """An item's quantity as typed: ``10``, ``2.5``."""
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except ArithmeticError:
        return str(value)


def yuan_input(fen: int | None) -> str:
    """Fen as a form field shows it, without the sign or grouping: ``123450`` → ``1234.50``."""
    if fen is None:
        return ""
    return f"{Decimal(int(fen)) / _FEN_PER_YUAN:.2f}"


class MoneyError(ValueError):
    """Typed yuan that cannot be an amount; ``message`` is what the form shows."""

    def __init__(self, message: object) -> None:
        super().__init__(message)
        self.message = message  # translated when shown, in the reader's language


def parse_yuan(text: str, *, allow_zero: bool = False) -> int:
    """Typed yuan → integer fen, exactly: ``"1,234.50"`` → ``123450``.

    Full-width digits and punctuation from a Chinese input method (``１２３．５``, ``￥``,
    ``，``) are folded to ASCII first. A sign, more than two decimals (``12.345``: which
    fen did they mean?), badly grouped thousands and anything not a number are refused
    with a message the form can show, never rounded."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    raw = raw.replace(" ", "").lstrip("¥").replace("元", "")
    if not raw:
        raise MoneyError(_l("Enter an amount in yuan, such as 1,234.50."))
    if raw.startswith("-"):
        raise MoneyError(_l("The amount cannot be negative."))
    if re.fullmatch(r"[\d,]*\.\d{3,}", raw):
        raise MoneyError(_l("Use at most two decimals (fen)."))
    if not _YUAN_RE.match(raw):
        raise MoneyError(_l("Enter an amount in yuan, such as 1,234.50."))
    try:
        fen = int(Decimal(raw.replace(",", "")) * _FEN_PER_YUAN)
    except InvalidOperation as exc:  # the pattern should have caught it; keep the promise
        raise MoneyError(_l("Enter an amount in yuan, such as 1,234.50.")) from exc
    if fen == 0 and not allow_zero:
        raise MoneyError(_l("The amount must be more than zero."))
    if fen > MAX_FEN:
        raise MoneyError(_l("The amount is too large."))
    return fen


def local_zone() -> ZoneInfo:
    return ZoneInfo(select_timezone())


def format_datetime(value: datetime | None, *, seconds: bool = False) -> str:
    """A UTC timestamp in the city's zone, written the same way in both languages
    (``2024-05-01 14:03``) so that caseworkers and auditors can compare them."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(local_zone())
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(local_zone()).date()
    return value.isoformat()


def local_now() -> datetime:
    return datetime.now(local_zone())


# Labels for the codes the domain uses. The codes stay English in the database and API;
# only their names on the page are translated.
CATEGORIES = {
    "living": _l("Living aid"),
    "medical": _l("Medical aid"),
    "schooling": _l("Schooling aid"),
    "employment": _l("Job support"),
    "counselling": _l("Counselling"),
    "emergency": _l("Emergency grant"),
    "in_kind": _l("In-kind goods"),
}
URGENCIES = {"critical": _l("Critical"), "high": _l("Urgent"), "normal": _l("Normal")}
OFFER_STATUSES = {
    "requested": _l("Being delivered"),
    "received": _l("Awaiting your answer"),
    "accepted": _l("Accepted"),
    "rejected": _l("Declined"),
    "in-progress": _l("In progress"),
    "completed": _l("Completed"),
    "cancelled": _l("Withdrawn"),
    "failed": _l("Delivery failed"),
}
REQUEST_STATUSES = {
    "active": _l("Open"),
    "on-hold": _l("On hold"),
    "completed": _l("Completed"),
    "revoked": _l("Withdrawn"),
    "entered-in-error": _l("Entered in error"),
}
APPLICATION_STATUSES = {
    "documents-gathering": _l("Gathering documents"),
    "submitted": _l("Submitted"),
    "under-review": _l("Under review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}
VISIT_CHANNELS = {
    "routine": _l("Routine visit"),
    "holiday": _l("Holiday visit"),
    "neighbour_report": _l("Neighbour report"),
    "self_report": _l("Self-report"),
    "hotline": _l("Hotline"),
}
PARTNER_KINDS = {
    "mutual_aid_fund": _l("Community mutual-aid fund"),
    "charity": _l("Charity federation"),
    "red_cross": _l("Red Cross"),
    "company": _l("Caring company"),
    "social_org": _l("Social organisation"),
    "volunteer_team": _l("Volunteer team"),
}
DISBURSEMENT_KINDS = {"cash": _l("Cash"), "in_kind": _l("Goods"), "service": _l("Service")}
NEED_KINDS = {"money": _l("Money"), "service": _l("Service (sessions)"), "in_kind": _l("Goods (in kind)")}
LEDGER_KINDS = {
    "deposit": _l("Deposit"),
    "pledge": _l("Pledge"),
    "release": _l("Release"),
    "disbursement": _l("Disbursement"),
    "reversal": _l("Reversal"),
    "points_earn": _l("Points earned"),
    "points_redeem": _l("Points redeemed"),
}
REVERSAL_STATUSES = {
    "pending": _l("Awaiting approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
PACKAGE_STATES = {
    "to_apply": _l("Qualifies: to apply"),
    "applied": _l("Application under way"),
    "closed": _l("Application refused"),
    "receives": _l("Already receives"),
}
RELATIONS = {
    "head": _l("Head of household"),
    "spouse": _l("Spouse"),
    "child": _l("Child"),
    "parent": _l("Parent"),
    "grandchild": _l("Grandchild"),
    "grandparent": _l("Grandparent"),
    "sibling": _l("Sibling"),
    "in_law": _l("In-law"),
    "other": _l("Other"),
}
SCHOOLING = {
    "none": _l("Not in school"),
    "preschool": _l("Preschool"),
    "primary": _l("Primary school"),
    "junior": _l("Junior secondary"),
    "senior": _l("Senior secondary"),
    "vocational": _l("Vocational school"),
    "college": _l("College"),
}
EMPLOYMENT = {
    "employed": _l("Employed"),
    "self_employed": _l("Self-employed"),
    "unemployed": _l("Unemployed"),
    "retired": _l("Retired"),
    "student": _l("Student"),
    "unable": _l("Unable to work"),
}
DUPLICATE_REASONS = {
    "beyond_need": _l("paid beyond the need"),
    "several_sources": _l("helped from several sources"),
    "same_fund_again": _l("paid again by the same fund"),
}
REGION_KINDS = {
    "district": _l("District"),
    "county": _l("County"),
    "street": _l("Street"),
    "town": _l("Town"),
    "community": _l("Community"),
    "village": _l("Village"),
}

ROLES = {
    "caseworker": _l("Caseworker"),
    "partner": _l("Partner"),
    "auditor": _l("Auditor"),
    "admin": _l("Administrator"),
    "volunteer": _l("Volunteer"),
    "reporter": _l("Mobile grid member"),
}

LABELS = {
    **care_labels.LABELS,
    "category": CATEGORIES,
    "urgency": URGENCIES,
    "offer_status": OFFER_STATUSES,
    "request_status": REQUEST_STATUSES,
    "routing_state": request_labels.ROUTING_STATES,
    "policy_hold_status": request_labels.POLICY_HOLD_STATUSES,
    "revoke_reason": request_labels.REVOKE_REASONS,
    "application_status": APPLICATION_STATUSES,
    "channel": VISIT_CHANNELS,
    "partner_kind": PARTNER_KINDS,
    "disbursement_kind": DISBURSEMENT_KINDS,
    "need_kind": NEED_KINDS,
    "ledger_kind": LEDGER_KINDS,
    "reversal_status": REVERSAL_STATUSES,
    "role": ROLES,
    "package_state": PACKAGE_STATES,
    "duplicate_reason": DUPLICATE_REASONS,
    "relation": RELATIONS,
    "schooling": SCHOOLING,
    "employment": EMPLOYMENT,
    "household_state": household_labels.HOUSEHOLD_STATES,
    "condition": household_labels.CONDITIONS,
    "sex": household_labels.SEXES,
    "history": household_labels.HISTORY,
    "consent_purpose": consent_labels.PURPOSES,
    "need_met": household_labels.NEED_MET,
    "follow_up_status": household_labels.FOLLOW_UP_STATUSES,
    "residence": household_labels.RESIDENCES,
    "spending_period": household_labels.SPENDING_PERIODS,
    "disability_kind": household_labels.DISABILITY_KINDS,
    "receipt_method": {
        "signature": _l("signed on screen"),
        "photo": _l("photo of the signed slip"),
        "code": _l("code sent by SMS"),
    },
}


# Kinds whose names the domain registers as text codes (``<prefix><code>``).
TEXT_CODE_KINDS = {"event": "event.", "special_group": "special_group.", "special_group_end": "special_group_end."}


def label(code: str | None, kind: str) -> str:
    """The reader's name for a domain code; an unknown code shows as itself."""
    if code is None:
        return "—"
    if kind in TEXT_CODE_KINDS:
        full = TEXT_CODE_KINDS[kind] + code
        return texts.render(full) if full in texts.codes() else code
    found = LABELS[kind].get(code)
    return str(found) if found is not None else code
