"""``flask --app app import households FILE`` and ``flask --app app policy scan``: the
survey import and the policy scan, with a progress bar on stderr."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from tqdm import tqdm

from broker.platform import actor, db, runtime
from broker.platform.errors import DomainError
from broker.policy import scan as policy_scan
from broker.registry import importer, survey_sheet

SHOWN_ERRORS = 20


def init_app(app: Flask) -> None:
    app.cli.add_command(import_cli)
    app.cli.add_command(policy_cli)


@click.group("import", help="Import data into the registry.")
def import_cli() -> None:
    pass


@import_cli.command("households")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the error report (default: FILE.errors.csv next to the sheet).",
)
@click.option("--batch", default=importer.BATCH_HOUSEHOLDS, show_default=True, help="Households per commit.")
def import_households(file: Path, errors_path: Path | None, batch: int) -> None:
    """Import the door-to-door survey sheet (XLSX or UTF-8 CSV, one row per member).

    Headers in Chinese or English: 网格编码 户编号 地址 姓名 身份证号 出生日期 与户主关系
    健康状况 残疾等级 就学情况 就业情况 家庭月收入(元) 同意共享. A bad row rejects only its
    household; re-importing the same sheet updates instead of duplicating."""
    actor.set_actor("cli:import")
    session = db.session()
    total = survey_sheet.count_rows(file)
    with tqdm(total=total, unit="rows", desc=file.name, file=sys.stderr, dynamic_ncols=True) as bar:
        try:
            result = importer.import_households(
                session, file, commit=db.commit, actor="cli:import", progress=bar.update, batch=batch
            )
        except survey_sheet.SheetError as exc:
            bar.close()
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(2)
        except DomainError as exc:
            bar.close()
            click.secho(f"Error: {exc.message}", fg="red", err=True)
            sys.exit(2)
    click.echo(result.summary())
    if result.errors:
        report = importer.write_error_report(result.errors, errors_path or importer.default_error_path(file))
        for e in result.errors[:SHOWN_ERRORS]:
            click.secho(f"  row {e.row}, {e.column}: {e.reason}", fg="yellow", err=True)
        if len(result.errors) > SHOWN_ERRORS:
            click.secho(f"  … and {len(result.errors) - SHOWN_ERRORS} more", fg="yellow", err=True)
        click.echo(f"error report: {report}")
        sys.exit(1)


@click.group("policy", help="Government policies (政策): the scan that finds eligible households.")
def policy_cli() -> None:
    pass


@policy_cli.command("scan")
@click.option("--policy", "codes", multiple=True, help="Policy code (repeat for several; default: every policy).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the per-grid lists (default: policy-scan-<date> in the instance folder).",
)
@click.option("--format", "fmt", type=click.Choice(policy_scan.FORMATS), default="csv", show_default=True)
def scan(codes: tuple[str, ...], out_dir: Path | None, fmt: str) -> None:
    """List every household that qualifies for a policy, receives nothing of it and has
    no application for it: one visiting list per grid (政策找人)."""
    session = db.session()
    try:
        policies = policy_scan.policies_for(codes)
    except DomainError as exc:
        click.secho(f"Error: {exc.message}", fg="red", err=True)
        sys.exit(2)
    folder = out_dir or Path(runtime.settings()["INSTANCE_PATH"]) / f"policy-scan-{datetime.now():%Y%m%d-%H%M%S}"
    total = policy_scan.count_eligible(session, policies)
    with tqdm(total=total, unit="households", desc="policy scan", file=sys.stderr, dynamic_ncols=True) as bar:
        summary = policy_scan.write_reports(session, folder, policies, fmt=fmt, progress=bar.update)
    session.rollback()
    for line in summary.lines(policies):
        click.echo(line)
    click.echo(f"lists written to {folder}")
