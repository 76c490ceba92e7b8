"""The RQ worker class: initialises the runtime once in the parent and rehearses the hot
path (:mod:`broker.warmup`), so that each forked job starts warm; the child gets fresh
database and Redis connections. It also rides out a Redis that goes away while a job
runs (a restart), where RQ's own worker quits."""

from __future__ import annotations

import time

import redis
from rq import Worker as _RQWorker
from rq.job import Job
from rq.queue import Queue
from sqlalchemy.orm import configure_mappers

from broker import boot, warmup
from broker.platform import db, logs, outbox_relay, queue

REDIS_RETRY_SECONDS = 1.0  # how often a worker that lost Redis looks for it again


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

    def execute_job(self, job: Job, job_queue: Queue) -> None:
        """As RQ does — unless Redis goes away while the job runs. RQ's worker quits on an
        error it did not expect, and a Redis restart under a long drain is one; but the
        job's work is in the database, and what it left undone the outbox and the
        reconciler re-drive. So the worker waits for Redis and goes on."""
        try:
            super().execute_job(job, job_queue)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self.log.warning("Worker %s: Redis went away during job %s (%s); waiting for it", self.name, job.id, exc)
            self._wait_for_redis()

    def _wait_for_redis(self) -> None:
        """Until Redis answers (or the worker is told to stop); a Redis that came back
        empty is told of this worker again."""
        while not self._stop_requested:
            try:
                self.connection.ping()
                if not self.connection.exists(self.key):
                    self.register_birth()
            except (redis.ConnectionError, redis.TimeoutError):
                time.sleep(REDIS_RETRY_SECONDS)
                continue
            self.log.info("Worker %s: Redis is back", self.name)
            return
