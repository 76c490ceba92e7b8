"""The RQ worker class: initialises the runtime once in the parent and rehearses the hot
path (:mod:`broker.warmup`), so that each forked job starts warm; the child gets fresh
database and Redis connections."""

from __future__ import annotations

from rq import Worker as _RQWorker
from sqlalchemy.orm import configure_mappers

from broker import boot, warmup
from broker.platform import db, logs, outbox_relay, queue


class Worker(_RQWorker):
    def __init__(self, *args, **kwargs) -> None:
        logs.configure()  # our jobs' lines at INFO; RQ's own per-job lines as its options say
        settings = boot.ensure()
        if settings["RELAY_INLINE"]:
            # Work a job writes (a delivery after routing) goes to RQ right after its commit,
            # as it does from the web app, instead of waiting for the periodic relay.
            outbox_relay.relay_after_commit()
        # Configure the ORM mappers once here, not again in every forked job.
        configure_mappers()
        warmup.warm_up()
        super().__init__(*args, **kwargs)

    def main_work_horse(self, *args, **kwargs) -> None:
        # Connections must not be shared across fork.
        db.engine().dispose(close=False)
        queue.reset_connection()  # nor Redis sockets
        super().main_work_horse(*args, **kwargs)
