"""Changes of plan in the portal: the volunteer gives up a place on its phone page (a
double tap does it once), and the leader cancels an open task with a reason."""

from __future__ import annotations

import re

from sqlalchemy import select

from broker.platform import db
from models import TaskClaim, VolunteerTask
from tests.community.volunteer_world import API, family, make_team, ok
from tests.conftest import ApiClient
from tests.portal.test_volunteer_pages import _once_key as _field_key
from tests.support.aid import make_world


def _once_key(html: str, action: str) -> str:
    """The one-time key of the form posting to ``action`` (drawn by a field or by hand)."""
    start = html.index(f'action="{action}"')
    found = re.search(r'name="once_key"[^>]*value="([^"]+)"', html[start : start + 2000])
    return found.group(1) if found else _field_key(html, action)


def test_give_up_a_place_then_the_leader_cancels(client, new_portal, as_role, make_user, login, worker):
    world = make_world(as_role, make_user, login)
    team = make_team(world)
    made = team.sign_up(ApiClient(client), "丁志愿")
    ok(team.leader.post(f"{API}/volunteers/{made['id']}/decision", json={"decision": "approve"}))
    task = team.escort_task(worker, family(world, sms=False))
    volunteer = new_portal()
    volunteer.login(made["username"])
    html = volunteer.text("/volunteer/")
    claim = f"/volunteer/tasks/{task['id']}/claim"
    assert volunteer.post(claim, {"once_key": _once_key(html, claim)}).status_code == 303
    html = volunteer.text("/volunteer/")
    assert "放弃认领" in html
    withdraw = f"/volunteer/tasks/{task['id']}/withdraw"
    key = _once_key(html, withdraw)
    assert volunteer.post(withdraw, {"once_key": key}).status_code == 303
    assert volunteer.post(withdraw, {"once_key": key}).status_code == 303  # a double tap
    assert db.session().execute(select(TaskClaim.status)).scalar_one() == "withdrawn"

    leader = new_portal()
    leader.login(make_user("partner", partner_id=team.id))
    html = leader.text("/partner/team")
    cancel = f"/partner/team/tasks/{task['id']}/cancel"
    assert "取消任务" in html
    done = leader.post(cancel, {"once_key": _once_key(html, cancel), "reason": "need_met"})
    assert done.status_code == 303
    db.session.remove()
    row = db.session().get(VolunteerTask, task["id"])
    assert (row.status, row.cancel_reason) == ("cancelled", "need_met")
    assert "需求已通过其他方式解决" in leader.text("/partner/team")
