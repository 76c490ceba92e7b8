"""Who is acting, for the audit log: set once per request or job."""

from __future__ import annotations

from contextvars import ContextVar

_actor: ContextVar[str] = ContextVar("actor", default="system")


def current() -> str:
    return _actor.get()


def set_actor(actor: str) -> None:
    _actor.set(actor)


def for_user(user_id: int, username: str) -> str:
    return f"user:{user_id}:{username}"
