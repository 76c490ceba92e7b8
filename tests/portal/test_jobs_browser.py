"""In a real Chromium, on a 375-px phone and in Chinese (and the figures once in English):
the caseworker opens a job-support request's matches from the household page, enrols the
mother on the embroidery course; the cooperative records her sessions and completion;
the caseworker places her in the home-based workshop, records the 3-month follow-up with
her earnings, and reads the home-based work and the jobs figures; the cooperative closes
its cleaning job."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from broker.platform import db
from models import HomeOrder, Placement, PlacementFollowUp
from tests.community.test_jobs import embroidery_family, post_openings, workshop
from tests.conftest import PASSWORD
from tests.portal.test_browser import visitors  # noqa: F401 - the fixture, shared
from tests.support.aid import make_world, need

pytestmark = pytest.mark.browser


def test_a_mother_is_trained_placed_and_followed_up_on_a_phone(
    as_role,
    make_user,
    login,
    worker,
    visitors,  # noqa: F811 - the fixture imported above
):
    world = make_world(as_role, make_user, login)
    household, _people = embroidery_family(world)
    partner, shop = workshop(world)
    _embroidery, factory, course = post_openings(world, shop)
    world.assess(household, need("employment", description="想在家附近就业，要照顾老人孩子"))
    worker()
    shop.post(
        f"/api/v1/openings/{_embroidery['id']}/orders",
        json={"buyer": "兰州文创公司", "items": "刺绣香包", "quantity": 200, "amount_fen": 600000},
    )
    username = make_user("caseworker", grids=(world.grid,))
    coop_user = make_user("partner", partner_id=partner["id"])
    db.session.remove()

    caseworker = visitors("zh")
    page = caseworker.page
    caseworker.sign_in(username, PASSWORD)
    caseworker.goto(f"/caseworker/households/{household}")
    page.get_by_role("link", name="找岗位和培训").click()
    page.get_by_role("heading", name="的岗位与培训", exact=False).wait_for()
    assert "需要刺绣技能：请先参加培训" in page.locator("#left-out").inner_text()
    caseworker.shoot("jobs-matches-before-course")
    page.locator(f"#match-course-{course['id']}").get_by_role("button", name="报名此培训").click()
    page.get_by_text("已报名培训。").wait_for()
    caseworker.shoot("jobs-course-enrolled")

    coop = visitors("zh")
    coop.sign_in(coop_user, PASSWORD)
    coop.goto(f"/jobs/courses/{course['id']}")
    for _ in range(3):
        coop.page.get_by_role("button", name="记录出勤").click()
        coop.page.get_by_text("已记录出勤。").wait_for()
    coop.shoot("jobs-course-attended")
    coop.page.get_by_role("button", name="确认结业").click()
    coop.page.get_by_text("已结业。").wait_for()

    caseworker.goto(f"/caseworker/households/{household}")
    page.get_by_role("link", name="找岗位和培训").click()
    card = page.locator(f"#match-opening-{_embroidery['id']}")
    assert "居家就业：可以一边工作一边照顾家中 2 人" in card.inner_text()
    caseworker.shoot("jobs-matches-after-course")
    card.get_by_role("button", name="安排上岗").click()
    page.get_by_text("已安排上岗。", exact=False).wait_for()
    placement = db.session().execute(select(Placement.id)).scalar_one()
    order = db.session().execute(select(HomeOrder.id)).scalar_one()
    db.session.remove()
    delivered = shop.post(
        f"/api/v1/home-orders/{order}/deliveries",
        json={"placement_id": placement, "quantity": 60, "earnings_fen": 90000},
    )
    assert delivered.status_code == 201, delivered.get_json()

    db.session().execute(update(PlacementFollowUp).where(PlacementFollowUp.months == 3).values(due_on=date.today()))
    db.commit()
    db.session.remove()
    caseworker.goto("/jobs/placements")
    page.get_by_label("是否仍在岗？").select_option(label="是，仍在岗")
    page.get_by_label("上月收入（元）").fill("1500")
    page.get_by_label("备注").fill("在家刺绣，能照顾老人孩子")
    caseworker.shoot("jobs-follow-up-form")
    page.get_by_role("button", name="记录回访").click()
    page.get_by_text("回访已记录。").wait_for()
    assert "收入 ¥1,500" in page.content()

    caseworker.goto("/jobs/home-work")
    assert "刺绣香包" in page.content()
    caseworker.shoot("jobs-home-work")
    caseworker.goto("/caseworker/")
    page.locator("#jobs-link").click()
    page.get_by_role("heading", name="就业与技能").wait_for()
    assert page.locator("svg.chart").count() == 2
    caseworker.shoot("jobs-report")

    coop.goto(f"/jobs/openings/{factory['id']}")
    coop.shoot("jobs-opening")
    coop.page.get_by_role("button", name="关闭此岗位").click()
    coop.page.get_by_text("岗位已关闭", exact=False).wait_for()
    coop.goto("/jobs/openings")
    coop.shoot("jobs-openings")

    english = visitors("en")
    english.sign_in(username, PASSWORD)
    english.goto("/jobs/?lang=en")
    english.page.get_by_role("heading", name="Jobs and skills").wait_for()
    english.shoot("jobs-report")
