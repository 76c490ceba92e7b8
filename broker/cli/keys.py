"""``flask --app app keys rotate``: re-encrypt every ID number under the current
``DATA_KEY`` (the old key listed in ``DATA_KEYS_OLD``), in batches, with a progress bar."""

from __future__ import annotations

import sys

import click
from flask import Flask
from tqdm import tqdm

from broker.platform import actor, db, security
from broker.registry import key_rotation


def init_app(app: Flask) -> None:
    app.cli.add_command(keys_cli)


@click.group("keys", help="The data key that encrypts ID numbers.")
def keys_cli() -> None:
    pass


@keys_cli.command("rotate")
@click.option("--batch", default=key_rotation.BATCH, show_default=True, help="Members per transaction.")
def rotate(batch: int) -> None:
    """Re-encrypt and rehash every ID number under DATA_KEY, a batch per transaction.

    Before: set DATA_KEY to the new key and DATA_KEYS_OLD to the old one, and restart the
    web and the workers. Safe to interrupt and to run again. When it reports nothing left
    under the old key, remove DATA_KEYS_OLD and restart once more."""
    actor.set_actor("cli:keys")
    if not security.old_data_keys():
        click.secho("DATA_KEYS_OLD is not set: rotating only what is not under DATA_KEY already.", fg="yellow")
    session = db.session()
    total = key_rotation.total(session)
    with tqdm(total=total, unit="members", desc="keys rotate", file=sys.stderr, dynamic_ncols=True) as bar:
        result = key_rotation.rotate(session, db.commit, batch=batch, progress=bar.update)
    click.echo(f"re-encrypted {result.rotated}, already under the new key {result.current}")
    if result.done:
        click.echo("every ID number is under DATA_KEY: the old key can now be removed from DATA_KEYS_OLD.")
    else:
        click.secho(f"{result.remaining} still under an old key: run it again.", fg="yellow")
        sys.exit(1)
