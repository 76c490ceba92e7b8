"""``flask --app app …`` commands: db, users, seed, audit, outbox, keys."""

from __future__ import annotations

import sys

import click
from flask import Flask

from broker import audit
from broker.cli import keys as cli_keys
from broker.cli import privacy as cli_privacy
from broker.cli import registry as cli_registry
from broker.cli import seed as cli_seed
from broker.people import users
from broker.platform import db, migrate, outbox, outbox_relay
from broker.platform.errors import DomainError


def init_app(app: Flask) -> None:
    for group in (db_cli, users_cli, audit_cli, outbox_cli):
        app.cli.add_command(group)
    cli_registry.init_app(app)
    cli_seed.init_app(app)
    cli_privacy.init_app(app)
    cli_keys.init_app(app)


def _fail(exc: DomainError) -> None:
    click.secho(f"Error: {exc.message}", fg="red", err=True)
    sys.exit(2)


@click.group("db", help="Database schema (Alembic migrations).")
def db_cli() -> None:
    pass


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: head)."""
    migrate.upgrade(revision)
    click.echo(f"database at {revision}")


@db_cli.command("check")
def db_check() -> None:
    """Exit non-zero if the models and the migrated schema differ."""
    diff = migrate.drift()
    for d in diff:
        click.echo(repr(d))
    sys.exit(1 if diff else 0)


@click.group("users", help="Manage people who sign in.")
def users_cli() -> None:
    pass


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True, prompt=True, hide_input=True, confirmation_prompt=False)
@click.option("--role", required=True, type=click.Choice(["caseworker", "partner", "auditor", "admin"]))
@click.option("--partner", "partner_id", type=int, help="Partner ID (partner users only).")
@click.option("--grid", "grids", multiple=True, help="Grid code (caseworkers; repeat for several).")
@click.option("--region", default=None, help="Region code an auditor or admin is scoped to (default: everything).")
@click.option("--name", "display_name", default="", help="Name shown in the portal.")
def users_create(
    username: str,
    password: str,
    role: str,
    partner_id: int | None,
    grids: tuple[str, ...],
    region: str | None,
    display_name: str,
) -> None:
    """Create a user (password hashed with argon2)."""
    try:
        user = users.create_user(
            db.session(),
            username=username,
            password=password,
            role=role,
            partner_id=partner_id,
            grid_codes=grids,
            display_name=display_name,
            region=region,
        )
        db.commit()
    except DomainError as exc:
        _fail(exc)
    click.echo(f"created user {user.username} (id {user.id}, role {user.role})")


@click.group("audit", help="The hash-chained audit log.")
def audit_cli() -> None:
    pass


@audit_cli.command("verify")
def audit_verify() -> None:
    """Walk the chain; exit 1 and name the first bad row if anything was changed. The
    unchained tail (events committed, not chained yet) is reported beside it."""
    result = audit.verify(db.session())
    tail = ""
    if result.unchained:
        tail = f"; {result.unchained} event(s) not chained yet, the oldest for {result.unchained_seconds:.0f}s"
        if result.unchained_stale:
            tail += " (is the worker running?)"
    if result.ok:
        erased = f" ({result.erased} with details erased)" if result.erased else ""
        click.secho(f"audit chain intact: {result.events} events{erased}{tail}", fg="yellow" if tail else "green")
        return
    click.secho(f"audit chain BROKEN at event {result.first_bad}: {result.reason}{tail}", fg="red", err=True)
    sys.exit(1)


@audit_cli.command("chain")
def audit_chain() -> None:
    """Chain the events committed but not chained yet (what the worker does after each commit)."""
    done = audit.chain_pending(db.session())
    click.echo(f"{done} event(s) chained")


@audit_cli.command("reanchor")
def audit_reanchor() -> None:
    """Anchor the chain at its present head (only after a deliberate restore, once verified)."""
    try:
        anchor = audit.reset_anchor(db.session())
    except DomainError as exc:
        _fail(exc)
    if anchor is None:
        click.echo("nothing anchored: the log is empty or Redis is unreachable")
        return
    click.echo(f"audit chain anchored at event {anchor.id}")


@click.group("outbox", help="The transactional outbox.")
def outbox_cli() -> None:
    pass


@outbox_cli.command("relay")
def relay_command() -> None:
    """Move every pending outbox row onto RQ now."""
    total = 0
    while n := outbox_relay.relay(db.session()):
        total += n
    click.echo(f"relayed {total} rows; {outbox.pending_count(db.session())} not yet processed")
