"""Import the domain modules that register outbox handlers, so that any process
(web, worker, CLI) can carry out any outbox row."""

from __future__ import annotations

import importlib

HANDLER_MODULES: tuple[str, ...] = ("broker.routing", "broker.delivery", "broker.offers", "broker.policy.reminders")


def load_all() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)
    from broker import adapter_registry

    adapter_registry.discover()
