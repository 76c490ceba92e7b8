"""In a real Chromium, on a 375-pixel phone, in Chinese: a neighbour signs up as a
volunteer on the public page; the team leader approves her and hands out an escort to
hospital the team accepted; she takes it, checks in and out on her phone; the family's
caseworker confirms; the figures page shows the hours. Screenshots at 375 and 1280 px
go to tests/artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from broker.platform import db, periods
from models import TaskClaim
from models.base import utcnow
from tests.community.volunteer_world import family, make_team, ok
from tests.conftest import PASSWORD
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared
from tests.support.aid import make_world, need

pytestmark = pytest.mark.browser
API = "/api/v1"


def test_sign_up_approve_claim_check_in_and_out_confirm_on_a_phone(
    as_role,
    make_user,
    login,
    worker,
    visitors,  # noqa: F811 - the fixture imported above
):
    world = make_world(as_role, make_user, login)
    team = make_team(world)
    leader_name = make_user("partner", partner_id=team.id)
    caseworker_name = make_user("caseworker", grids=(world.grid,))
    household = family(world)
    request_id = world.assess(household, need("counselling", description="陪同就医"))["needs"][0]["request_id"]
    worker()
    offer = next(o for o in world.offers_of(team.name) if o["request_id"] == request_id)
    ok(team.leader.post(f"{API}/offers/{offer['id']}/accept", json={}))
    db.session.remove()

    # A neighbour signs up on her phone, no account yet.
    volunteer = visitors("zh")
    page = volunteer.page
    page.set_viewport_size({"width": 375, "height": 800})
    volunteer.goto("/volunteers/join")
    page.get_by_role("heading", name="报名当志愿者", exact=True).wait_for()
    page.get_by_label("服务队", exact=True).select_option(str(team.id))
    page.get_by_label("姓名", exact=True).fill("周晓燕")
    page.get_by_label("手机号", exact=True).fill("13911112222")
    page.get_by_label("登录用户名", exact=True).fill("zhou-xiaoyan")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("技能（用逗号分隔）", exact=True).fill("陪诊，轮椅护送")
    page.get_by_label("空闲时间", exact=True).fill("周末")
    page.get_by_label("我同意服务队和社工保存以上信息，用于安排志愿服务。", exact=True).check()
    volunteer.shoot("volunteer-join")
    page.locator("main").get_by_role("button", name="报名").click()
    page.get_by_text("感谢报名！").wait_for()
    volunteer.sign_in("zhou-xiaoyan", PASSWORD)
    page.locator("#awaiting").wait_for()
    volunteer.shoot("volunteer-awaiting")

    # The leader approves her and hands out the escort the team accepted.
    leader = visitors("zh")
    leader.sign_in(leader_name, PASSWORD)
    leader.goto("/partner/team")
    leader.page.get_by_role("link", name="志愿者", exact=True).wait_for()
    assert "周晓燕" in leader.page.locator("#pending-volunteers").inner_text()
    leader.shoot("volunteer-team-pending")
    leader.page.locator("#pending-volunteers").get_by_role("button", name="通过").click()
    leader.page.get_by_text("已通过，该志愿者可以认领任务。").wait_for()
    starts = periods.to_local(utcnow() + timedelta(minutes=30))
    leader.page.get_by_label("对应需求", exact=True).select_option(str(offer["id"]))
    leader.page.get_by_label("服务类型", exact=True).select_option("escort")
    leader.page.get_by_label("服务内容", exact=True).fill("陪同刘阿姨去医院复查")
    leader.page.get_by_label("地点", exact=True).fill("武汉市第一医院门诊楼")
    leader.page.get_by_label("开始时间", exact=True).fill(starts.strftime("%Y-%m-%dT%H:%M"))
    leader.page.get_by_label("结束时间", exact=True).fill((starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    leader.shoot("volunteer-team-new-task")
    leader.page.locator("main").get_by_role("button", name="派发任务").click()
    leader.page.get_by_text("任务已派发到队员手机上。").wait_for()

    # On her phone: take it, check in, check out.
    volunteer.goto("/volunteer/")
    page.locator("#open-tasks").wait_for()
    assert "陪同刘阿姨去医院复查" in page.locator("#open-tasks").inner_text()
    volunteer.shoot("volunteer-open-tasks")
    page.locator("#open-tasks").get_by_role("button", name="认领任务").click()
    page.get_by_text("认领成功。").wait_for()
    page.locator("#my-tasks").get_by_role("button", name="签到").click()
    page.get_by_text("已签到，离开时请签退。").wait_for()
    volunteer.shoot("volunteer-checked-in")
    db.session().execute(update(TaskClaim).values(checked_in_at=utcnow() - timedelta(hours=2)))
    db.commit()
    page.locator("#my-tasks").get_by_role("button", name="签退").click()
    page.get_by_text("已签退，请家庭确认服务。").wait_for()
    assert "已签退" in page.locator("#my-tasks").inner_text()
    volunteer.shoot("volunteer-checked-out")

    # The family tells its caseworker, who confirms on her phone.
    caseworker = visitors("zh")
    caseworker.page.set_viewport_size({"width": 375, "height": 800})
    caseworker.sign_in(caseworker_name, PASSWORD)
    caseworker.goto("/caseworker/volunteer-tasks")
    caseworker.page.get_by_role("heading", name="待确认的志愿服务", exact=True).wait_for()
    assert "周晓燕" in caseworker.page.locator("#tasks-to-confirm").inner_text()
    caseworker.shoot("volunteer-to-confirm")
    caseworker.page.locator("#tasks-to-confirm").get_by_role("button", name="家庭已确认").click()
    caseworker.page.get_by_text("已记录：家庭确认了志愿服务。").wait_for()
    caseworker.goto("/reports/volunteers")
    caseworker.page.get_by_role("heading", name="志愿服务统计", exact=True).wait_for()
    stats = caseworker.page.locator("#volunteer-stats").inner_text()
    assert "2.0" in stats
    assert "服务人次" in stats
    caseworker.shoot("volunteer-figures")

    volunteer.goto("/volunteer/")
    assert "Confirmed" not in page.locator("#my-tasks").inner_text()
    assert "Volunteer" not in page.locator("main").inner_text()
    volunteer.shoot("volunteer-done")
