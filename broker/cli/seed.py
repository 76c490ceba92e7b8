"""``flask --app app seed demo``: the model case as demo data, into an empty database."""

from __future__ import annotations

import click
from flask import Flask

from broker.cli import demo as seed


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_cli)


@click.group("seed", help="Demo data.")
def seed_cli() -> None:
    pass


@seed_cli.command("demo")
def seed_demo() -> None:
    """Seed the model case (grid, caseworker, the leukaemia household, partners, an
    assessment) unless the database already has users; list the demo logins either way."""
    result = seed.seed_demo_if_empty()
    if result.seeded:
        click.echo("demo seeded; logins (username / password / role):")
    else:
        click.echo("the database already has users; nothing seeded")
        if result.logins:
            click.echo("demo logins (username / password / role):")
    for username, password, role in result.logins:
        click.echo(f"  {username:<12} {password:<16} {role}")
