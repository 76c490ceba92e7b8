"""Alembic, driven from our own settings: upgrade, and the model/migration drift check.
An upgrade that changes the schema says so in one line of ours; Alembic's own INFO lines
(plugin set-up, one per migration step) stay out of the log unless logging asks for them."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from broker.platform import db
from models import Base

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.attributes["engine"] = db.engine()
    return cfg


def current() -> str | None:
    """The database's revision (None before the first migration)."""
    with db.engine().connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(revision: str = "head") -> None:
    before = current()
    command.upgrade(alembic_config(), revision)
    after = current()
    if after != before:
        log.info("database migrated from %s to %s", before or "empty", after)


def downgrade(revision: str) -> None:
    command.downgrade(alembic_config(), revision)


def revision(message: str, rev_id: str | None = None) -> None:
    command.revision(alembic_config(), message=message, autogenerate=True, rev_id=rev_id)


def drift() -> list:
    """Differences between the models and the migrated database (empty when in step)."""
    with db.engine().connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)
