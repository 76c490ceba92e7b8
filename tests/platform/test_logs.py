"""What the broker's processes log: nothing when a periodic pass finds nothing to do,
one line for a pass that does work, warnings and errors marked, and no Alembic chatter
(``make run`` printed ~5 lines every 5 s when idle and 14 Alembic lines after its
banner)."""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from broker import jobs
from broker.platform import db, logs, migrate, outbox
from models import OutboxMessage


def _lines(caplog, level: int = logging.INFO) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= level]


def test_idle_periodic_passes_log_nothing(app, caplog):
    """The cron jobs of ``broker.cron`` with nothing to do: not a line, at INFO or above."""
    caplog.set_level(logging.INFO)
    assert jobs.relay_outbox() == 0
    assert not any(jobs.reconcile().values())
    assert jobs.sweep_overdue_applications() == 0
    assert jobs.purge_idempotency_keys() == 0
    assert jobs.chain_audit_periodic() == 0
    assert jobs.verify_audit_chain() is True
    assert _lines(caplog) == []


def test_a_relay_pass_that_moves_rows_logs_one_line(app, caplog):
    """Rows the after-commit relay could not hand over (Redis was down) are moved by the
    periodic pass: one line for the pass, naming how many and which."""
    session = db.session()
    for n in (1, 2, 3):
        outbox.add(session, "route_request", {"request_id": n})
    db.commit()
    ids = list(session.execute(select(OutboxMessage.id).order_by(OutboxMessage.id)).scalars())
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(enqueued_at=None))
    session.commit()
    db.session.remove()
    caplog.set_level(logging.INFO)
    assert jobs.relay_outbox() == 3
    records = _lines(caplog)
    assert [r.name for r in records] == ["broker.platform.outbox_relay"]
    assert "3 row(s)" in records[0].getMessage()
    assert f"#{ids[0]}…#{ids[-1]}" in records[0].getMessage()
    caplog.clear()
    assert jobs.relay_outbox() == 0  # handed over: the next pass is idle again
    assert _lines(caplog) == []


def test_an_upgrade_says_one_line_when_it_migrates_and_none_when_at_head(app, tmp_path, caplog):
    """Alembic's own INFO lines (plugin set-up, one per step) stay out of the log; ours
    says what changed, once."""
    logs.configure()  # the levels every process of the broker runs with
    caplog.set_level(logging.INFO, logger="broker")
    bound = db.engine()
    fresh = db.make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    try:
        db.bind(fresh)
        migrate.upgrade()
        mine = [r for r in caplog.records if r.name == "broker.platform.migrate"]
        assert len(mine) == 1
        assert mine[0].getMessage().startswith("database migrated from empty to ")
        caplog.clear()
        migrate.upgrade()
    finally:
        db.bind(bound)
        fresh.dispose()
    assert not [r for r in caplog.records if r.name.startswith("broker.platform.migrate")]
    assert not [r for r in caplog.records if r.name.startswith("alembic")]


def test_warnings_and_errors_carry_their_level_info_lines_do_not():
    plain = logs.Formatter(colour=False)
    coloured = logs.Formatter(colour=True)

    def record(level: int) -> logging.LogRecord:
        return logging.LogRecord("broker.platform.outbox", level, __file__, 1, "relay: %s", ("x",), None)

    info = plain.format(record(logging.INFO))
    assert info.endswith(" broker.platform.outbox: relay: x")
    assert "INFO" not in info
    assert " WARNING broker.platform.outbox: relay: x" in plain.format(record(logging.WARNING))
    assert " ERROR broker.platform.outbox: " in plain.format(record(logging.ERROR))
    assert "\x1b[31mERROR\x1b[0m broker.platform.outbox" in coloured.format(record(logging.ERROR))
    assert "\x1b[" not in coloured.format(record(logging.INFO))


def test_configure_keeps_other_libraries_at_warning_and_ours_at_info():
    logs.configure()
    assert logging.getLogger("broker.platform.outbox").getEffectiveLevel() == logging.INFO
    for noisy in ("alembic.runtime.plugins", "alembic.runtime.migration", "httpx"):
        assert not logging.getLogger(noisy).isEnabledFor(logging.INFO), noisy
