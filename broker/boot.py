"""Starting a process of the broker (web, worker, CLI, a job in a fresh work horse):
settings, database and Redis from the platform, then what the domains add — the policy
catalogue, the outbox handlers and the delivery adapters — so that any process can carry
out any outbox row."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from broker.platform import adapter_registry, runtime, texts
from broker.policy import catalogue as policy_catalogue

HANDLER_MODULES: tuple[str, ...] = (
    "broker.referral.routing",
    "broker.referral.policy_holds",
    "broker.referral.route_batch",  # drains route_request rows in batches
    "broker.referral.delivery",
    "broker.referral.offers",
    "broker.policy.reminders",
    "broker.referral.followups",
    "broker.people.sending",
    "broker.people.concern_deadlines",
    "broker.people.family_messages",
    "broker.community.care_misses",
    "broker.community.care_contacts",
    # Not an outbox handler: subscribes to confirmed service records (the family's points).
    "broker.community.service_points",
)
# The one gettext catalogue of the project, filed with the portal that edits it most;
# handed to the platform here so that a worker renders text codes as the web does.
TRANSLATIONS = Path(__file__).resolve().parent / "portal" / "translations"


def init(override: dict[str, Any] | None = None, *, start_redis: bool = True) -> dict[str, Any]:
    """Start this process: a malformed policy file stops it, naming file and line, before
    anything connects."""
    settings = runtime.configure(override, start_redis=start_redis, check=policy_catalogue.init)
    texts.configure(TRANSLATIONS)
    load_all()
    return settings


def ensure() -> dict[str, Any]:
    """Start from the environment if nothing has yet (an RQ job in a fresh process)."""
    return runtime.settings() if runtime.configured() else init()


def load_all() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)
    adapter_registry.discover()
