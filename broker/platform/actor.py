"""Who is acting, for the audit log: set once per request or job."""

from __future__ import annotations

from contextvars import ContextVar

from broker.platform.texts import N_, define

_actor: ContextVar[str] = ContextVar("actor", default="system")


def current() -> str:
    return _actor.get()


def set_actor(actor: str) -> None:
    _actor.set(actor)


def for_user(user_id: int, username: str) -> str:
    return f"user:{user_id}:{username}"


# How the audit log's actors read to people. A user reads as their username (a proper
# name); the broker's own processes and adapters as what they are.
define(
    {
        "actor.system": N_("System"),
        "actor.system.seed": N_("System (demo data)"),
        "actor.system.reconciler": N_("System (routine check)"),
        "actor.cli": N_("Command line"),
        "actor.anonymous": N_("Not signed in"),
        "actor.adapter": N_("%(adapter)s (%(partner)s)"),
        "adapter.auto_grant": N_("Automatic grant"),
        "adapter.portal": N_("Partner portal"),
        "adapter.webhook": N_("Partner system"),
        "adapter.manual": N_("Referral by hand"),
    }
)


def described(actor: str, partner_names: dict[int, str] | None = None) -> dict | str:
    """An actor as a text code, or a user's name as it is: ``system:seed`` → 系统（演示数据）,
    ``adapter:auto_grant:1`` → 自动发放（<partner 1's name>）, ``user:7:li.wei`` → ``li.wei``."""
    kind, _, rest = (actor or "").partition(":")
    if kind == "user" and rest.count(":") >= 1:
        return rest.split(":", 1)[1]
    if kind == "system":
        return {"code": f"actor.system.{rest}" if rest in ("seed", "reconciler") else "actor.system", "params": {}}
    if kind == "cli":
        return {"code": "actor.cli", "params": {}}
    if kind in ("anonymous", "portal"):
        return {"code": "actor.anonymous", "params": {}}
    if kind == "adapter":
        name, _, pid = rest.partition(":")
        partner = (partner_names or {}).get(int(pid)) if pid.isdigit() else None
        known = name in ("auto_grant", "portal", "webhook", "manual")
        adapter = {"code": f"adapter.{name}", "params": {}} if known else name
        return {"code": "actor.adapter", "params": {"adapter": adapter, "partner": partner or pid or "—"}}
    return actor
