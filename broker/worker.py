"""The RQ worker class: initialises the runtime once in the parent, so that each forked
job starts warm; the child gets fresh database connections."""

from __future__ import annotations

from rq import Worker as _RQWorker

from broker import db, runtime


class Worker(_RQWorker):
    def __init__(self, *args, **kwargs) -> None:
        runtime.ensure()
        super().__init__(*args, **kwargs)

    def main_work_horse(self, *args, **kwargs) -> None:
        # Connections must not be shared across fork.
        db.engine().dispose(close=False)
        super().main_work_horse(*args, **kwargs)
