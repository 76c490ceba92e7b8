"""The demo: the model case of the design (``config/seed/demo.yaml``), seeded only into an
empty database and only through the domain functions a caseworker and an admin would
use — so the demo's requests are routed, offered and audited like any others."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.cli import demo_care, demo_jobs
from broker.cli.demo_points import seed_points
from broker.community import leads, reporters, tasks, volunteers
from broker.money import funds
from broker.people import concerns, users
from broker.platform import actor, db
from broker.platform.scope import Principal
from broker.policy import applications
from broker.referral import assessment, partners
from broker.registry import grids, households, regions
from broker.registry.household_schema import load_household
from config.settings import SEED_DIR
from models import User
from models.base import utcnow

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed by make run; demo only
DEMO_FILE = SEED_DIR / "demo.yaml"


def load_demo(path: Path = DEMO_FILE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@dataclass(frozen=True)
class DemoSeed:
    """What :func:`seed_demo_if_empty` did: ``seeded`` is False when the database already
    had users; ``logins`` are the demo's (username, password, role) that exist either way."""

    seeded: bool
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def demo_usernames(demo: dict[str, Any]) -> list[tuple[str, str]]:
    """The demo's (username, role) pairs, in the order they are seeded and printed."""
    people = [(spec["username"], spec["role"]) for spec in demo["users"]]
    if demo.get("second_county"):
        people.append((demo["second_county"]["auditor"]["username"], "auditor"))
    people += [(spec["user"]["username"], "partner") for spec in demo["partners"]]
    people += [(spec["username"], "volunteer") for spec in (demo.get("volunteers") or {}).get("people", [])]
    return people + [(spec["username"], "reporter") for spec in demo.get("reporters") or []]


def demo_logins(session: Session, demo: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The demo logins present (and active) in this database, with the role each has now —
    so that every start of an instance with the demo lists them, not only the first."""
    wanted = demo_usernames(demo)
    rows = session.execute(
        select(User.username, User.role).where(User.username.in_([name for name, _ in wanted]), User.is_active)
    ).all()
    roles = dict(rows)
    return [(name, DEMO_PASSWORD, roles[name]) for name, _ in wanted if name in roles]


def seed_demo_if_empty(path: Path = DEMO_FILE) -> DemoSeed:
    """Seed the demo unless the database already has users. The transaction is ended
    either way: a caller that goes on to start other processes (``make run``) must hold
    no connection, nor SQLite's writer lock, meanwhile."""
    session = db.session()
    demo = load_demo(path)
    try:
        if session.execute(select(func.count()).select_from(User)).scalar_one():
            return DemoSeed(seeded=False, logins=demo_logins(session, demo))
        return DemoSeed(seeded=True, logins=_seed(session, demo))
    finally:
        session.rollback()  # after the commit, or on the way out of a read: a no-op but for the lock


def _seed(session: Session, demo: dict[str, Any]) -> list[tuple[str, str, str]]:
    actor.set_actor("system:seed")
    logins: list[tuple[str, str, str]] = []

    def user(spec: dict, role: str, **kw: Any) -> User:
        made = users.create_user(
            session,
            username=spec["username"],
            password=DEMO_PASSWORD,
            role=role,
            display_name=spec.get("name", ""),
            **kw,
        )
        logins.append((made.username, DEMO_PASSWORD, role))
        return made

    people = {spec["role"]: spec for spec in demo["users"]}
    admin = users.principal_of(user(people["admin"], "admin"))
    user(people["auditor"], "auditor")
    for node in demo.get("regions") or []:
        regions.create_region(session, admin, node)
    grids.create_grid(session, admin, demo["grid"])
    caseworker = users.principal_of(user(people["caseworker"], "caseworker", grid_codes=people["caseworker"]["grids"]))

    leaders: dict[str, Principal] = {}
    for spec in demo["partners"]:
        data = {k: v for k, v in spec.items() if k not in ("deposit", "deposits", "user")}
        partner = partners.create_partner(session, admin, data)
        for paid in spec.get("deposits") or ([spec["deposit"]] if spec.get("deposit") else []):
            funds.record_deposit(session, partner.id, **paid)
        leaders[spec["name"]] = users.principal_of(user(spec["user"], "partner", partner_id=partner.id))
    if demo.get("volunteers"):
        logins += _seed_volunteers(session, demo["volunteers"], leaders[demo["volunteers"]["team"]])

    logins += _seed_reporters(session, demo.get("reporters") or [])
    household = households.create_household(session, caseworker, load_household(demo["household"]))
    for policy in demo.get("applications") or []:  # policy first: filed before the needs are routed
        applications.file_application(session, caseworker, household.id, policy)
    assessment.create_assessment(session, caseworker, household.id, demo["assessment"])
    seed_points(session, demo, caseworker, household)
    demo_care.seed_care(session, caseworker, demo.get("care") or [])
    if demo.get("jobs"):
        demo_jobs.seed_jobs(session, caseworker, leaders[demo["jobs"]["partner"]], demo["jobs"])
    if demo.get("concern"):
        concerns.file_concern(session, **demo["concern"], principal=caseworker, household_id=household.id)
    if demo.get("second_county"):
        _seed_second_county(session, demo["second_county"], admin, user)
    db.commit()
    return logins


def _seed_reporters(session: Session, specs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Mobile grid members, signed up as on a phone, each with the leads it reported."""
    logins = []
    for spec in specs:
        data = {k: v for k, v in spec.items() if k != "leads"} | {"password": DEMO_PASSWORD, "consent": True}
        reporter, _new = reporters.sign_up(session, data)
        principal = users.principal_of(session.get(User, reporter.user_id))
        for lead in spec.get("leads") or []:
            leads.report(session, principal, lead)
        logins.append((spec["username"], DEMO_PASSWORD, "reporter"))
    return logins


def _seed_second_county(session: Session, spec: dict[str, Any], admin: Principal, user: Any) -> None:
    """Another county in the same installation: its part of the tree, a grid, a household
    (recorded by the admin: the county has no caseworker in the demo) and its auditor,
    scoped to the county."""
    for node in spec["regions"]:
        regions.create_region(session, admin, node)
    grids.create_grid(session, admin, spec["grid"])
    households.create_household(session, admin, load_household(spec["household"]))
    user(spec["auditor"], "auditor", region=spec["auditor"]["region"])


def _seed_volunteers(session: Session, spec: dict[str, Any], leader: Principal) -> list[tuple[str, str, str]]:
    """The team's volunteers, signed up and approved by its leader, and its task."""
    logins = []
    for person in spec["people"]:
        data = {**person, "team": leader.partner_id, "password": DEMO_PASSWORD}
        volunteer, _new = volunteers.sign_up(session, data)
        volunteers.decide(session, leader, volunteer.id, "approve")
        logins.append((person["username"], DEMO_PASSWORD, "volunteer"))
    task = dict(spec["task"])
    starts = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=task.pop("starts_in_hours"))
    task |= {"starts_at": starts, "ends_at": starts + timedelta(hours=task.pop("hours"))}
    tasks.create(session, leader, leader.partner_id or 0, task)
    return logins
