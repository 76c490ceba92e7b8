"""The cron process: RQ's cron scheduler running :mod:`broker.cron`, made to outlive a
Redis restart.

RQ's own ``rq cron`` ends on the first Redis error, and with it the outbox relay and the
reconciler: after a Redis restart nothing would bring back the work the restart lost
until someone restarted the scheduler by hand. This one waits for Redis to come back
(backing off up to half a minute), registers itself again and goes on.

    python -m broker.scheduler --url redis://… [--logging-level WARNING]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

T = TypeVar("T")
MAX_BACKOFF_SECONDS = 30.0
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)


class SteadyCronScheduler(CronScheduler):
    """A cron scheduler whose every Redis step waits out an outage instead of ending."""

    def start(self) -> None:
        self.log.info("CronScheduler %s: starting...", self.name)
        self._install_signal_handlers()
        try:
            self.when_redis_answers(self.register_birth)
            while True:
                self.when_redis_answers(self.tick)
                pause = self.calculate_sleep_interval()
                if pause > 0:
                    time.sleep(pause)
        except (KeyboardInterrupt, StopRequested):
            self.log.info("CronScheduler %s: stop requested", self.name)
        finally:
            with contextlib.suppress(redis.RedisError):
                self.register_death()

    def tick(self) -> None:
        """Enqueue what is due, keep its timings, and say this scheduler is alive (which
        registers it again after Redis lost its registry)."""
        if self.enqueue_jobs():
            self.save()
        self.heartbeat()

    def when_redis_answers(self, step: Callable[[], T]) -> T:
        """``step()``, tried again while Redis does not answer."""
        pause = 1.0
        while True:
            try:
                return step()
            except REDIS_DOWN as exc:
                self.log.warning("Redis does not answer (%s); trying again in %.0f s", exc, pause)
                time.sleep(pause)
                pause = min(pause * 2, MAX_BACKOFF_SECONDS)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run broker.cron on RQ's cron scheduler, through Redis restarts.")
    parser.add_argument("--url", required=True, help="the Redis URL the workers use")
    parser.add_argument("--logging-level", default="INFO")
    args = parser.parse_args(argv)
    level = getattr(logging, args.logging_level.upper(), logging.INFO)
    scheduler = SteadyCronScheduler(connection=redis.Redis.from_url(args.url), logging_level=level)
    scheduler.load_config_from_file("broker.cron")
    scheduler.start()


if __name__ == "__main__":
    main()
