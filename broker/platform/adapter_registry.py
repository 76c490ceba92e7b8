"""The adapters the broker can deliver through, found through the entry-point group
``aidbroker.adapters`` (the built-ins are registered there too, so a third-party
adapter is installed exactly like one of ours). Discovery runs once per process from
:func:`broker.boot.load_all`; a plugin that fails to load is logged by name and
left out, and the broker starts without it."""

from __future__ import annotations

import logging
import threading
from importlib.metadata import entry_points
from typing import Any

from marshmallow import ValidationError

from adapters.base import ENTRY_POINT_GROUP, Adapter
from broker.platform.errors import Invalid

log = logging.getLogger(__name__)

_lock = threading.Lock()
_state: dict[str, Any] = {"adapters": None, "failed": {}}


def _load_entry_point(ep: Any) -> Adapter:
    obj = ep.load()
    adapter = obj() if isinstance(obj, type) else obj
    if not isinstance(adapter, Adapter):
        raise TypeError(f"{ep.value} is not an adapters.base.Adapter")
    if adapter.name != ep.name:
        raise TypeError(f"{ep.value} calls itself {adapter.name!r} but is registered as {ep.name!r}")
    return adapter


def discover(*, reload: bool = False) -> dict[str, Adapter]:
    """Load every adapter declared in the entry-point group (once per process unless
    ``reload``). Returns name → adapter instance."""
    with _lock:
        if _state["adapters"] is not None and not reload:
            return _state["adapters"]
        found: dict[str, Adapter] = {}
        failed: dict[str, str] = {}
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in found:
                log.error("adapter plugin %r is declared twice; keeping %s", ep.name, type(found[ep.name]).__module__)
                continue
            try:
                found[ep.name] = _load_entry_point(ep)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the broker
                failed[ep.name] = f"{type(exc).__name__}: {exc}"
                log.error(
                    "adapter plugin %r (%s) failed to load and is disabled: %s", ep.name, ep.value, failed[ep.name]
                )
        _state["adapters"] = found
        _state["failed"] = failed
        return found


def register(adapter: Adapter) -> None:
    """Add an adapter instance by hand (an application embedding the broker)."""
    adapters = discover()
    with _lock:
        adapters[adapter.name] = adapter


def names() -> list[str]:
    """The names of the adapters that loaded, sorted."""
    return sorted(discover())


def failed() -> dict[str, str]:
    """Plugins that failed to load at discovery: name → error."""
    discover()
    return dict(_state["failed"])


def get(name: str) -> Adapter:
    """The adapter called ``name``; :class:`Invalid` naming the known ones otherwise."""
    adapters = discover()
    try:
        return adapters[name]
    except KeyError:
        known = ", ".join(sorted(adapters))
        raise Invalid(
            f"No adapter called {name!r} is installed; known adapters: {known}.",
            details={"adapter": [f"unknown adapter; known: {known}"]},
            code="unknown_adapter",
        ) from None


def describe() -> list[dict[str, Any]]:
    """Name, description and config fields of each adapter (for docs and admin pages)."""
    out = []
    for name, adapter in sorted(discover().items()):
        schema = adapter.config_schema()
        out.append(
            {
                "name": name,
                "description": adapter.description,
                "config_fields": {
                    field_name: {"required": field.required, "secret": field.load_only}
                    for field_name, field in schema.fields.items()
                },
            }
        )
    return out


def validate_config(name: str, config: dict[str, Any] | None, *, partial: bool = False) -> dict[str, Any]:
    """Validate ``config`` with the adapter's ``config_schema`` and return the loaded
    (normalised) config. Errors are reported under ``adapter_config.<field>``."""
    adapter = get(name)
    try:
        loaded = adapter.config_schema().load(config or {}, partial=partial)
    except ValidationError as exc:
        details = _prefixed(exc.messages, "adapter_config")
        fields = ", ".join(sorted(details))
        raise Invalid(
            f"The {name} adapter's settings are not valid: {fields}.",
            details=details,
        ) from None
    return loaded


def _prefixed(messages: Any, prefix: str) -> dict[str, Any]:
    if isinstance(messages, dict):
        return {f"{prefix}.{key}": value for key, value in messages.items()}
    return {prefix: messages}


def dump_config(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config as it may be shown: ``load_only`` (secret) fields left out."""
    try:
        adapter = get(name)
    except Invalid:
        return {}
    schema = adapter.config_schema()
    secret = {key for key, field in schema.fields.items() if field.load_only}
    return {key: value for key, value in (config or {}).items() if key not in secret}
