"""``flask --app app privacy …``: erasing a member's or a household's personal data
(an admin asks, an auditor approves, then it runs, with progress on stderr), and the
retention job run by hand, with its report."""

from __future__ import annotations

import sys

import click
from flask import Flask
from sqlalchemy import select
from tqdm import tqdm

from broker.erasure import requests as erasure_requests
from broker.erasure import retention
from broker.platform import actor, db
from broker.platform.errors import DomainError
from models import Base, User


def init_app(app: Flask) -> None:
    app.cli.add_command(privacy_cli)


@click.group("privacy", help="Erase personal data; apply retention.")
def privacy_cli() -> None:
    pass


def _user(username: str) -> User:
    user = db.session().execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        _fail(f"no user {username!r}")
    actor.set_actor(actor.for_user(user.id, user.username))
    return user


def _fail(message: str) -> None:
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(2)


@privacy_cli.command("erase")
@click.option("--member", "member_id", type=int, help="The member whose data to erase.")
@click.option("--household", "household_id", type=int, help="The household (every member) whose data to erase.")
@click.option("--reason", required=True, help="Why (kept with the request, erasable itself).")
@click.option("--by", "username", required=True, help="The admin asking.")
def erase(member_id: int | None, household_id: int | None, reason: str, username: str) -> None:
    """Ask for an erasure; an auditor approves it with ``privacy approve``."""
    session = db.session()
    try:
        erasure = erasure_requests.request_erasure(
            session, _user(username), reason, member_id=member_id, household_id=household_id
        )
        db.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.message)
    click.echo(
        f"erasure request {erasure.id} recorded; an auditor approves it with: privacy approve {erasure.id} --by USER"
    )


@privacy_cli.command("approve")
@click.argument("erasure_id", type=int)
@click.option("--by", "username", required=True, help="The auditor approving (not the admin who asked).")
def approve(erasure_id: int, username: str) -> None:
    """Approve an erasure request and carry it out."""
    session = db.session()
    try:
        erasure_requests.approve_erasure(session, erasure_id, _user(username))
        db.commit()
    except DomainError as exc:
        db.session.rollback()
        _fail(exc.message)
    _run(erasure_id)


@privacy_cli.command("run")
@click.argument("erasure_id", type=int)
def run(erasure_id: int) -> None:
    """Carry out an approved erasure again (safe: one already done finds nothing more)."""
    actor.set_actor("cli")
    _run(erasure_id)


def _run(erasure_id: int) -> None:
    session = db.session()
    with tqdm(total=len(Base.metadata.sorted_tables), desc="erasing", unit="table", file=sys.stderr) as bar:
        try:
            erasure = erasure_requests.run_erasure(session, erasure_id, progress=lambda _name: bar.update())
            db.commit()
        except DomainError as exc:
            db.session.rollback()
            _fail(exc.message)
    click.echo(f"erasure {erasure.id} done:")
    for key, n in sorted(erasure.report.items()):
        click.echo(f"  {key}: {n}")


@privacy_cli.command("retention")
def apply_retention() -> None:
    """Erase now what is past its retention period (what the daily job does), and report."""
    actor.set_actor("cli")
    report = retention.apply_retention(db.session())
    db.commit()
    for line in report.lines():
        click.echo(line)
