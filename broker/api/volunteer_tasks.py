"""Teams and their tasks: the teams anyone may sign up with, a team's tasks (its leaders
make them from the offers they accepted), and what happens to a task on a volunteer's
phone — claim, check in, check out — and the family's confirmation."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from broker.api.auth import current_principal, require
from broker.api.blueprint import Blueprint
from broker.api.idempotency import idempotent
from broker.api.schemas.common import PageArgs, page_of
from broker.api.schemas.volunteers import (
    CancelTaskIn,
    ClaimOut,
    ConfirmedOut,
    ConfirmIn,
    ServiceCodeSentOut,
    TaskIn,
    TaskListArgs,
    TaskOut,
    TeamOut,
)
from broker.community import confirmations, task_changes, tasks, teams
from broker.platform import db
from models import TaskClaim, Volunteer, VolunteerTask

blp = Blueprint("volunteer_tasks", __name__, description="Volunteer teams and the tasks their members take on.")

TASK_ACTORS = ("volunteer",)


def claim_out(claim: TaskClaim, volunteer: Volunteer) -> dict[str, Any]:
    return {
        "id": claim.id,
        "task_id": claim.task_id,
        "volunteer_id": volunteer.id,
        "volunteer": volunteer.name,
        "status": claim.status,
        "claimed_at": claim.claimed_at,
        "checked_in_at": claim.checked_in_at,
        "checked_out_at": claim.checked_out_at,
        "minutes": claim.minutes,
    }


def task_out(task: VolunteerTask) -> dict[str, Any]:
    claims = tasks.claims_of(db.session(), task.id)
    return {
        "id": task.id,
        "team_id": task.team_id,
        "offer_id": task.offer_id,
        "request_id": task.request_id,
        "kind": task.kind,
        "title": task.title,
        "place": task.place,
        "starts_at": task.starts_at,
        "ends_at": task.ends_at,
        "slots": task.slots,
        "claimed": task.claimed,
        "status": task.status,
        "first_claim_at": task.first_claim_at,
        "done_at": task.done_at,
        "cancel_reason": task.cancel_reason,
        "claims": [claim_out(c, v) for c, v in claims if c.status != "withdrawn"],
    }


def _own_claim_out(task_id: int, claim: TaskClaim) -> dict[str, Any]:
    return claim_out(claim, db.session().get(Volunteer, claim.volunteer_id))


@blp.route("/teams")
class Teams(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_of(TeamOut))
    def get(self, args: dict) -> dict[str, Any]:
        """The active volunteer teams — no token needed: whom a volunteer may sign up with."""
        found = teams.teams(db.session())
        start = (args["page"] - 1) * args["per_page"]
        items = [{"id": t.id, "name": t.name, "regions": t.regions} for t in found[start : start + args["per_page"]]]
        return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": len(found)}


@blp.route("/teams/<int:team_id>/tasks")
class TeamTasks(MethodView):
    @require(*tasks.READERS)
    @blp.arguments(TaskListArgs, location="query")
    @blp.response(200, page_of(TaskOut))
    def get(self, args: dict, team_id: int) -> dict[str, Any]:
        """The team's tasks, soonest first: for its leaders and members, auditors and admins."""
        found = tasks.of_team(db.session(), current_principal(), team_id, status=args.get("status"))
        start = (args["page"] - 1) * args["per_page"]
        items = [task_out(t) for t in found[start : start + args["per_page"]]]
        return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": len(found)}

    @require("partner", "admin")
    @idempotent
    @blp.arguments(TaskIn)
    @blp.response(201, TaskOut)
    @blp.alt_response(409, description="offer_not_taken: accept the offer first.")
    @blp.alt_response(422, description="bad_task_times; unknown_offer: not an offer to this team.")
    def post(self, body: dict, team_id: int) -> tuple[dict[str, Any], int]:
        """A leader hands out a task: a piece of an offer the team accepted (or the team's own work)."""
        task = tasks.create(db.session(), current_principal(), team_id, body)
        out = task_out(task)
        db.commit()
        return out, 201


@blp.route("/tasks/<int:task_id>/claim")
class TaskClaimView(MethodView):
    @require(*TASK_ACTORS)
    @idempotent
    @blp.response(201, ClaimOut)
    @blp.alt_response(200, schema=ClaimOut, description="Already claimed: your claim.")
    @blp.alt_response(409, description="task_full: every place is taken; task_closed; volunteer_not_active.")
    def post(self, task_id: int) -> tuple[dict[str, Any], int]:
        """Take a place on a task of your team (one place per volunteer; the last place goes to one)."""
        claim, created = tasks.claim(db.session(), current_principal(), task_id)
        out = _own_claim_out(task_id, claim)
        db.commit()
        return out, 201 if created else 200


@blp.route("/tasks/<int:task_id>/withdraw")
class TaskWithdraw(MethodView):
    @require(*TASK_ACTORS)
    @idempotent
    @blp.response(200, ClaimOut)
    @blp.alt_response(409, description="not_claimed; invalid_transition: checked in already.")
    def post(self, task_id: int) -> dict[str, Any]:
        """Give up your claim before checking in: the place opens for another volunteer."""
        claim = task_changes.withdraw(db.session(), current_principal(), task_id)
        out = _own_claim_out(task_id, claim)
        db.commit()
        return out


@blp.route("/tasks/<int:task_id>/cancel")
class TaskCancel(MethodView):
    @require("partner", "admin")
    @idempotent
    @blp.arguments(CancelTaskIn)
    @blp.response(200, TaskOut)
    @blp.alt_response(409, description="task_under_way: a volunteer checked in, or the task is done.")
    def post(self, body: dict, task_id: int) -> dict[str, Any]:
        """The team's leader cancels an open task with a reason; its claims are withdrawn, their volunteers told."""
        task = task_changes.cancel(db.session(), current_principal(), task_id, body["reason"])
        out = task_out(task)
        db.commit()
        return out


@blp.route("/tasks/<int:task_id>/check-in")
class TaskCheckIn(MethodView):
    @require(*TASK_ACTORS)
    @idempotent
    @blp.response(200, ClaimOut)
    @blp.alt_response(409, description="not_claimed; too_early; invalid_transition.")
    def post(self, task_id: int) -> dict[str, Any]:
        """Arrive at the task (from two hours before it starts); again, the first time stands."""
        claim = tasks.check_in(db.session(), current_principal(), task_id)
        out = _own_claim_out(task_id, claim)
        db.commit()
        return out


@blp.route("/tasks/<int:task_id>/check-out")
class TaskCheckOut(MethodView):
    @require(*TASK_ACTORS)
    @idempotent
    @blp.response(200, ClaimOut)
    @blp.alt_response(409, description="not_claimed; invalid_transition: check in first.")
    def post(self, task_id: int) -> dict[str, Any]:
        """Leave the task: the time since check-in is recorded as hours served."""
        claim = tasks.check_out(db.session(), current_principal(), task_id)
        out = _own_claim_out(task_id, claim)
        db.commit()
        return out


@blp.route("/tasks/<int:task_id>/confirm-code")
class TaskConfirmCode(MethodView):
    @require(*TASK_ACTORS)
    @blp.response(202, ServiceCodeSentOut)
    @blp.alt_response(409, description="not_checked_out; no_family; no_sms_consent; no_phone.")
    def post(self, task_id: int) -> dict[str, Any]:
        """Text the family a six-digit code to confirm your visit (with its consent to SMS)."""
        sent = confirmations.send_code(db.session(), current_principal(), task_id)
        db.commit()
        return {"task_id": sent.task_id, "expires_at": sent.expires_at, "phone": sent.phone}


@blp.route("/tasks/<int:task_id>/confirm")
class TaskConfirm(MethodView):
    @require("caseworker", "partner", "volunteer", "admin")
    @blp.arguments(ConfirmIn)
    @blp.response(201, ConfirmedOut)
    @blp.alt_response(200, schema=ConfirmedOut, description="Already confirmed: the records written then.")
    @blp.alt_response(409, description="nothing_to_confirm; not_checked_out; no_family; code_locked; no_code_sent.")
    @blp.alt_response(422, description="wrong_code (details: attempts_left); code_expired.")
    def post(self, body: dict, task_id: int) -> tuple[dict[str, Any], int]:
        """The family confirms the service: its caseworker records it, or the volunteer types the code the
        family got; a team's own task is confirmed by its leader. Each claim becomes a service record; the
        task done reports the service to the offer it carries."""
        done = confirmations.confirm(db.session(), current_principal(), task_id, body["method"], body.get("code"))
        db.commit()  # a wrong code's try counts
        if done.refusal is not None:
            raise done.refusal
        out = {"task": task_out(done.task), "records": [_record_out(r) for r in done.records]}
        return out, 201 if done.created else 200


def _record_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "volunteer_id": row.volunteer_id,
        "task_id": row.task_id,
        "kind": row.kind,
        "content": row.content,
        "place": row.place,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "minutes": row.minutes,
        "method": row.method,
        "verified_at": row.verified_at,
    }
