"""Generations that any process can advance: how a process keeps what it read from a few
tables until somebody, in any process, changes one of them.

A :class:`Generation` names a set of tables. A transaction that writes to one of them
(through the ORM or a Core statement on the session) announces it right after its commit:
this process's generation advances at once, and a Redis publish advances every other
process's. A reader caches a value with the generation it read it under and uses it
only while the generation is the same.

The generation is trusted only while this process is subscribed: :meth:`Generation.current`
answers None (do not cache) until the subscription is confirmed, and a lost connection
advances the generation and answers None until it is back. An announcement published
while Redis is away finds no subscriber either, and each one advances again as it
subscribes again, so no cached value survives an outage. What pub/sub cannot see (a
silent network partition) is bounded by the cache's own time limit."""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from typing import Any

import redis
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from broker.platform import queue

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "aidbroker:invalidate:"
_INFO = "invalidation.changed"  # session.info: names of generations this transaction changed
_registry: dict[str, Generation] = {}
_counter = itertools.count(1)


class Generation:
    """A number that changes whenever one of ``tables`` may have changed anywhere."""

    def __init__(self, name: str, tables: frozenset[str], inserts_harmless: frozenset[str] = frozenset()) -> None:
        self.name = name
        self.tables = tables
        self.inserts_harmless = inserts_harmless  # tables whose new rows change nothing kept
        self._value = next(_counter)

    def current(self) -> int | None:
        """The generation now, or None when changes elsewhere cannot be heard (no Redis,
        not yet subscribed, or the subscription lost): then nothing may be cached."""
        return self._value if _listener().live else None

    def advance(self) -> None:
        self._value = next(_counter)


def generation(
    name: str, tables: set[str] | frozenset[str], *, inserts_harmless: set[str] | frozenset[str] = frozenset()
) -> Generation:
    """The process-wide generation ``name`` over ``tables`` (made on first call); a row
    inserted into one of ``inserts_harmless`` does not advance it (a new sign-in token
    changes no principal already read)."""
    if name not in _registry:
        _registry[name] = Generation(name, frozenset(tables), frozenset(inserts_harmless))
        _state["listener"] = None  # subscribe again, to this channel too
    return _registry[name]


def announce(name: str) -> None:
    """Advance ``name`` here and in every other process (best effort for the others:
    while Redis is away none of them is subscribed, so none is caching)."""
    _registry[name].advance()
    try:
        conn = queue.connection()
        conn.publish(_channel(name, conn), b"1")
    except (redis.RedisError, OSError, RuntimeError) as exc:
        log.warning("cannot announce a change of %s: %s", name, exc)


def _channel(name: str, conn: redis.Redis) -> str:
    """The channel of generation ``name`` for the Redis database ``conn`` uses. Redis
    hands a publish to the subscribers of every database on the server, so the channel
    names the database: instances that share a server on databases of their own (a
    staging beside production, two test runs) do not hear each other."""
    return f"{CHANNEL_PREFIX}{conn.connection_pool.connection_kwargs.get('db', 0)}:{name}"


# --- noticing writes ------------------------------------------------------------------------


def _mark(session: Session, changed: set[str], inserted: set[str] = frozenset()) -> None:
    """Note the generations that tables ``changed`` (updated or deleted rows) and
    ``inserted`` (new rows) touch, to announce at the commit."""
    names = {g.name for g in _registry.values() if g.tables & changed or (g.tables & inserted) - g.inserts_harmless}
    if names:
        session.info.setdefault(_INFO, set()).update(names)


@event.listens_for(Session, "do_orm_execute")
def _noticed_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None and state.is_insert:
            _mark(state.session, set(), {table.name})
        elif table is not None:
            _mark(state.session, {table.name})


@event.listens_for(Session, "after_flush")
def _noticed_flush(session: Session, _context: Any) -> None:
    def names(objs: Any) -> set[str]:
        return {getattr(type(obj), "__tablename__", "") for obj in objs}

    _mark(session, names(session.dirty) | names(session.deleted), names(session.new))


@event.listens_for(Session, "after_commit")
def _announce_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return
    for name in session.info.pop(_INFO, ()):
        announce(name)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_INFO, None)


# --- hearing other processes ----------------------------------------------------------------


class _Listener:
    """One thread per process subscribed to every generation's channel."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.pid = os.getpid()
        self.live = False

    def start(self) -> _Listener:
        if self.url:
            threading.Thread(target=self._run, name="aidbroker-invalidation", daemon=True).start()
        return self

    def _lost(self) -> None:
        self.live = False
        for g in list(_registry.values()):
            g.advance()

    def _run(self) -> None:
        pause = 0.1
        while _state["listener"] is self:
            try:
                self._listen()
            except Exception as exc:  # noqa: BLE001 - any failure: stop trusting, then try again
                if self.live:
                    log.warning("stopped hearing changes from other processes: %s", exc)
                    pause = 0.1
            self._lost()
            time.sleep(pause)
            pause = min(pause * 2, 5.0)

    def _listen(self) -> None:
        conn = redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=5)
        pubsub = conn.pubsub()
        try:
            by_channel = {_channel(g.name, conn).encode(): g for g in _registry.values()}
            pubsub.subscribe(*by_channel)
            waiting = set(by_channel)
            while _state["listener"] is self:
                msg = pubsub.get_message(timeout=1.0)
                if msg is None:
                    continue
                if msg["type"] == "subscribe":
                    waiting.discard(msg["channel"])
                    if not waiting:
                        self._lost()  # whatever was cached before this subscription is suspect
                        self.live = True
                elif msg["type"] == "message" and (g := by_channel.get(msg["channel"])):
                    g.advance()
        finally:
            pubsub.close()
            conn.close()


_state: dict[str, _Listener | None] = {"listener": None}


def _listener() -> _Listener:
    """This process's listener, started on first use (and again after a fork, or when
    the app is configured with another Redis)."""
    current = _state["listener"]
    url = queue.url()
    if current is None or current.pid != os.getpid() or current.url != url:
        current = _state["listener"] = _Listener(url)
        current.start()
    return current
