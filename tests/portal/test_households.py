"""The caseworker's registry in the portal: registering a household with its head,
adding and changing members with the resident ID checked as the API checks it (a
checksum slip, a wrong length, a duplicate named only where the caseworker may see the
other household), and the household's state (moved away, deceased, out of hardship) —
leaving the active lists with its history kept, and taken back with a reason. Every
form is refused with a Chinese message rather than a 500, and does its work once."""

from __future__ import annotations

import html as html_lib

from sqlalchemy import func, select

from broker.platform import db, security
from models import AuditEvent, Household, Member
from tests.portal.conftest import ID_NUMBER, another_id_number, build_loop
from tests.portal.test_once import flashes, once_key

# A valid resident ID for a new member, and the same number with its last character wrong.
NEW_ID = another_id_number(77)
BAD_CHECKSUM = NEW_ID[:17] + ("0" if NEW_ID[17] != "0" else "1")


def _household(household_id: int) -> Household:
    db.session.remove()
    return db.session().get(Household, household_id)


def _members(household_id: int) -> list[Member]:
    db.session.remove()
    stmt = select(Member).where(Member.household_id == household_id).order_by(Member.id)
    return list(db.session().execute(stmt).scalars())


def _events(household_id: int, action: str) -> int:
    db.session.remove()
    stmt = select(func.count()).where(AuditEvent.household_id == household_id, AuditEvent.action == action)
    return db.session().execute(stmt).scalar_one()


def _member_form(portal, household_id: int, **fields: str):
    """Open the add-member form and send it with ``fields`` (as typed) and its key."""
    path = f"/caseworker/households/{household_id}/members/new"
    page = portal.text(path)
    body = {"once_key": once_key(page, path), "member-relation": "child"}
    body.update({f"member-{name}": value for name, value in fields.items()})
    return portal.post(path, body), body


def test_a_household_is_registered_with_its_head_and_the_id_number_is_kept_encrypted(portal, loop):
    """The form registers the household on my grid with its head; the ID number is
    encrypted, shown masked, and the birth date and sex are read from it."""
    portal.login(loop.caseworker)
    path = "/caseworker/households/new"
    page = portal.text(path)
    assert "登记新住户" in page
    resp = portal.post(
        path,
        {
            "once_key": once_key(page, path),
            "grid": loop.grid,
            "address": "海淀区学院路20号院5号楼101",
            "phone": "138 0000 0000",
            "income": "1,200.50",
            "head-name": "李秀兰",
            "head-relation": "head",
            "head-id_number": NEW_ID.lower(),
            "head-conditions": ["chronic_illness", "disability"],
            "head-employment": "unable",
        },
    )
    assert resp.status_code == 302, flashes(resp.get_data(as_text=True))
    household_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    household = _household(household_id)
    assert (household.head_name, household.monthly_income_fen, household.member_count) == ("李秀兰", 120050, 1)
    assert household.disabled_count == 1
    (head,) = _members(household_id)
    assert head.id_hash == security.keyed_hash(NEW_ID)
    assert NEW_ID.encode() not in (head.id_number_enc or b"")
    assert head.birth_date.isoformat() == "1979-11-02"
    assert head.sex in ("M", "F")
    assert _events(household_id, "household.created") == 1
    shown = portal.text(f"/caseworker/households/{household_id}")
    assert NEW_ID not in shown
    assert NEW_ID[:6] + "********" + NEW_ID[14:] in shown
    assert "慢性病、残疾" in shown
    assert "无劳动能力" in shown


def test_a_bad_check_character_or_length_is_explained_in_chinese_and_nothing_is_saved(portal, loop):
    """A misread digit (wrong check character) and a short number each get a message
    the caseworker can act on, beside the field; no member is added, no 500."""
    portal.login(loop.caseworker)
    before = len(_members(loop.household_id))
    resp, _body = _member_form(portal, loop.household_id, name="张小红", id_number=BAD_CHECKSUM)
    assert resp.status_code == 400
    text = resp.get_data(as_text=True)
    assert "最后一位校验码与前面的数字不符" in text
    resp, _body = _member_form(portal, loop.household_id, name="张小红", id_number=NEW_ID[:15])
    assert resp.status_code == 400
    assert "身份证号应为18位，这个号码有15位" in resp.get_data(as_text=True)
    resp, _body = _member_form(portal, loop.household_id, name="张小红")
    assert resp.status_code == 400
    assert "请填写出生日期，或填写身份证号" in resp.get_data(as_text=True)
    assert len(_members(loop.household_id)) == before


def test_a_member_is_added_once_even_when_the_form_is_sent_twice(portal, loop):
    """A valid member form sent twice (a double tap): one member, and the second post
    says it was already sent."""
    portal.login(loop.caseworker)
    before = len(_members(loop.household_id))
    resp, body = _member_form(
        portal, loop.household_id, name="张小红", id_number=NEW_ID, schooling="junior", employment="student"
    )
    assert resp.status_code == 302
    again = portal.post(f"/caseworker/households/{loop.household_id}/members/new", body)
    assert again.status_code in (302, 303)
    added = _members(loop.household_id)
    assert len(added) == before + 1
    assert (added[-1].name, added[-1].schooling, added[-1].employment) == ("张小红", "junior", "student")
    assert _household(loop.household_id).member_count == before + 1
    page = portal.text(again.headers["Location"])
    assert "成员已添加" in flashes(page)


def test_a_duplicate_id_on_my_grid_links_to_the_other_household(portal, loop):
    """The ID number of a person already in another household on my grid: refused,
    with a link to that household."""
    portal.login(loop.caseworker)
    other = loop.world.household(
        head="王芳", members=[{"name": "王芳", "relation": "head", "birth_date": "1990-01-01"}]
    )
    resp, _body = _member_form(portal, other, name="张建国", id_number=ID_NUMBER)
    assert resp.status_code == 409
    text = html_lib.unescape(resp.get_data(as_text=True))
    assert "此人已登记在" in text
    assert f'href="/caseworker/households/{loop.household_id}"' in text
    assert "这个身份证号已在另一户登记" in text
    assert len(_members(other)) == 1


def test_a_duplicate_id_on_another_grid_says_registered_elsewhere_and_nothing_more(
    new_portal, as_role, make_user, login, worker
):
    """The same ID number typed by a caseworker of another grid: "registered elsewhere",
    without the other household's id, address or head."""
    first = build_loop(as_role, make_user, login, worker)
    second = build_loop(as_role, make_user, login, worker, id_number=another_id_number(12))
    outsider = new_portal()
    outsider.login(second.caseworker)
    resp, _body = _member_form(outsider, second.household_id, name="张建国", id_number=ID_NUMBER)
    assert resp.status_code == 409
    text = resp.get_data(as_text=True)
    assert "已在其他网格登记" in text
    assert f"/caseworker/households/{first.household_id}" not in text
    assert _household(first.household_id).address not in text


def test_a_member_is_changed_and_a_blank_id_keeps_the_one_on_record(portal, loop):
    """Editing the head: the masked number is shown, a blank ID field keeps it, and a
    birth date that disagrees with the number is refused beside the field."""
    portal.login(loop.caseworker)
    head = _members(loop.household_id)[0]
    path = f"/caseworker/households/{loop.household_id}/members/{head.id}/edit"
    page = portal.text(path)
    assert ID_NUMBER[:6] + "********" in page
    assert ID_NUMBER not in page
    body = {
        "once_key": once_key(page, path),
        "member-name": "张建国",
        "member-relation": "head",
        "member-id_number": "",
        "member-birth_date": "1985-03-12",
        "member-employment": "self_employed",
    }
    assert portal.post(path, body).status_code == 302
    changed = _members(loop.household_id)[0]
    assert changed.employment == "self_employed"
    assert changed.id_hash == head.id_hash
    page = portal.text(path)
    refused = portal.post(path, {**body, "once_key": once_key(page, path), "member-birth_date": "1986-03-12"})
    assert refused.status_code == 422
    assert "与身份证号中的出生日期不符" in refused.get_data(as_text=True)


def test_household_details_are_changed_with_the_income_in_yuan(portal, loop):
    """The details form shows the income in yuan and saves it in fen; an income typed
    with three decimals is refused in Chinese."""
    portal.login(loop.caseworker)
    path = f"/caseworker/households/{loop.household_id}/edit"
    page = portal.text(path)
    resp = portal.post(
        path, {"once_key": once_key(page, path), "address": "海淀区中关村东路18号院3号楼2单元502", "income": "800.5"}
    )
    assert resp.status_code == 302
    household = _household(loop.household_id)
    assert (household.address, household.monthly_income_fen) == ("海淀区中关村东路18号院3号楼2单元502", 80050)
    page = portal.text(path)
    refused = portal.post(path, {"once_key": once_key(page, path), "address": household.address, "income": "1.234"})
    assert refused.status_code == 400
    assert "最多保留两位小数" in refused.get_data(as_text=True) or "两位小数" in refused.get_data(as_text=True)


def test_a_household_that_moved_away_leaves_the_lists_and_comes_back_with_a_reason(portal, loop):
    """Moved away (with a reason, on the audit chain): off the home list and the coverage
    view, no new needs; found by search and on the inactive list; taken back with a
    reason. A missing reason is asked for in Chinese."""
    portal.login(loop.caseworker)
    path = f"/caseworker/households/{loop.household_id}/state"
    page = portal.text(path)
    missing = portal.post(path, {"once_key": once_key(page, path), "state": "moved_out", "reason": ""})
    assert missing.status_code == 400
    assert "请说明原因" in missing.get_data(as_text=True)
    assert _household(loop.household_id).state == "active"

    page = portal.text(path)
    assert "去世（独居一人户）" not in page  # a household of two is not recorded as deceased
    assert (
        portal.post(
            path, {"once_key": once_key(page, path), "state": "moved_out", "reason": "随子女迁往外省"}
        ).status_code
        == 302
    )
    assert _household(loop.household_id).state == "moved_out"
    assert _events(loop.household_id, "household.state_changed") == 1
    href = f"/caseworker/households/{loop.household_id}"
    assert f'href="{href}"' not in portal.text("/caseworker/")
    assert "张建国" not in portal.text("/caseworker/coverage?days=30")
    assert f'href="{href}"' in portal.text("/caseworker/?state=inactive")
    assert f'href="{href}"' in portal.text("/caseworker/?q=张建国")
    shown = portal.text(href)
    assert "已迁出" in shown
    assert "随子女迁往外省" in shown
    assessment = f"{href}/assessment"
    page = portal.text(assessment)
    refused = portal.post(
        assessment, {"once_key": once_key(page, assessment), "needs-0-category": "living", "needs-0-amount": "500"}
    )
    assert refused.status_code == 409
    assert "这户已不在册" in refused.get_data(as_text=True)

    page = portal.text(path)
    assert (
        portal.post(
            path, {"once_key": once_key(page, path), "state": "active", "reason": "登记错误，仍住原址"}
        ).status_code
        == 302
    )
    assert _household(loop.household_id).state == "active"
    assert f'href="{href}"' in portal.text("/caseworker/")


def test_a_member_who_died_leaves_the_facts_and_a_household_of_one_can_be_closed(portal, loop):
    """A member recorded as deceased stays in the record but not in the household's
    size; then the household of one left is recorded as deceased, which is refused while
    two people live in it."""
    portal.login(loop.caseworker)
    head, child = _members(loop.household_id)
    state = f"/caseworker/households/{loop.household_id}/state"
    page = portal.text(state)
    refused = portal.post(state, {"once_key": "x" * 32, "state": "deceased", "reason": "户主去世"})
    assert refused.status_code == 400  # not a choice for a household of two
    path = f"/caseworker/households/{loop.household_id}/members/{child.id}/deceased"
    page = portal.text(path)
    assert (
        portal.post(path, {"once_key": once_key(page, path), "on": "", "reason": "社区通知，病故"}).status_code == 302
    )
    assert _household(loop.household_id).member_count == 1
    assert _members(loop.household_id)[1].deceased_on is not None
    page = portal.text(state)
    assert "去世（独居一人户）" in page
    resp = portal.post(state, {"once_key": once_key(page, state), "state": "deceased", "reason": "户主病故"})
    assert resp.status_code == 302
    assert _household(loop.household_id).state == "deceased"
    assert all(m.deceased_on for m in _members(loop.household_id))
    assert _events(loop.household_id, "member.deceased") == 2
    history = portal.text(f"/caseworker/households/{loop.household_id}")
    assert "成员登记为去世" in history
    assert "户主病故" in history
    assert head.name in history
