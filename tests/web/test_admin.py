"""The admin pages over HTTP: each change is what a user then sees (a new deadline, another
office, a moved deadline, a bound chat, a message sent again); the wrong role and a missing
CSRF token get 403; bad input gets a clear message and changes nothing."""

from datetime import datetime

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from dispatch import notifications as notify
from dispatch.registration import redeem_chat_invite
from gridgov.app import App
from models import CalendarDay, ChatBinding, ChatIdentity, OutboxMessage, RoutingRule
from models.enums import ChatKind, OutboxStatus, RecipientKind
from tests.dispatch.world import COMMUNITY_A, COMMUNITY_B, INSIDE_A1, INSIDE_B2, SHANGHAI, World
from tests.web.helpers import csrf_of, login

# Every admin page, and every admin form with a harmless but complete body.
PAGES = [
    "/console/admin/categories",
    "/console/admin/categories/0102",
    "/console/admin/routing",
    "/console/admin/calendar",
    "/console/admin/chats",
    "/console/admin/grids",
    "/console/admin/outbox",
]
FORMS = {
    "/console/admin/categories/0102": {
        "time_limit_value": "1",
        "time_limit_unit": "hours",
        "clock_start": "dispatch",
        "priority": "1",
    },
    "/console/admin/routing": {"category_code": "0102", "area_code": COMMUNITY_B},
    "/console/admin/routing/1/delete": {},
    "/console/admin/calendar": {"day": "2026-11-24", "kind": "holiday"},
    "/console/admin/calendar/2026-10-01/delete": {},
    "/console/admin/chats/invites": {"kind": "supervisors"},
    "/console/admin/chats/1/delete": {},
    "/console/admin/chats/wecom/create": {"department_id": "1"},
    "/console/admin/chats/wecom/bind": {"chat_id": "wr1", "kind": "supervisors"},
    "/console/admin/people/1/wecom": {"userid": "lina"},
    "/console/admin/people/1/wecom/delete": {},
    "/console/admin/grids": {},
    "/console/admin/outbox/1/retry": {},
}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def dept(app: App, code: str) -> int:
    return app.casework.catalog.departments_by_code[code].id


async def admin_csrf(client: TestClient, path: str = "/console/admin/categories") -> str:
    assert await login(client, "admin") == 303
    return csrf_of(await (await client.get(path)).text())


def error_of(html: str) -> str:
    return html.split('id="error">')[1].split("<")[0]


async def count(app: App, model: type) -> int:
    async with app.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("username", ["hw1", "dispatcher", "sup_county", "worker"])
async def test_other_roles_are_forbidden(client: TestClient, username: str, app: App) -> None:
    assert await login(client, username) == 303
    token = csrf_of(await (await client.get("/console/cases")).text())
    for path in PAGES:
        assert (await client.get(path)).status == 403, path
    for path, form in FORMS.items():
        r = await client.post(path, data={**form, "csrf_token": token})
        assert r.status == 403, path
        assert "您的角色无权打开此页面。" in await r.text()
    assert await count(app, RoutingRule) == 0 and await count(app, CalendarDay) == 8
    assert await count(app, ChatBinding) == 0 and await count(app, ChatIdentity) == 0


async def test_forms_without_csrf_are_refused(client: TestClient, app: App) -> None:
    await admin_csrf(client)
    for path, form in FORMS.items():
        r = await client.post(path, data=form)
        assert r.status == 403, path
        assert "表单已过期" in await r.text()
    assert app.casework.catalog.categories["0102"].time_limit_value == 4
    assert await count(app, RoutingRule) == 0 and await count(app, CalendarDay) == 8
    assert await count(app, ChatBinding) == 0 and await count(app, ChatIdentity) == 0


async def test_admin_pages_answer(client: TestClient) -> None:
    await admin_csrf(client)
    for path in PAGES:
        r = await client.get(path)
        assert r.status == 200, path
        assert "类别与时限" in await r.text()  # the admin navigation


# -- categories -----------------------------------------------------------------------------


async def test_a_new_time_limit_gives_new_reports_the_new_deadline(
    client: TestClient, world: World, app: App
) -> None:
    before = (
        await world.casework.intake.report(world.draft())
    ).case  # Monday 09:00, 4 working hours
    assert before.deadline_at == at(23, 15)
    token = await admin_csrf(client)
    form = {
        "csrf_token": token,
        "time_limit_value": "2",
        "time_limit_unit": "work_days",
        "clock_start": "dispatch",
        "priority": "1",
        "default_department_id": str(dept(app, "cgzf")),
        "active": "on",
    }
    r = await client.post("/console/admin/categories/0102", data=form, allow_redirects=False)
    assert r.status == 303
    after = (await world.casework.intake.report(world.draft())).case
    assert after.deadline_at == at(25, 9)  # two working days of 7 hours
    assert after.department_id == dept(app, "cgzf")
    assert (await app.casework.find_case(before.number)).deadline_at == at(23, 15)
    page = await (await client.get("/console/admin/categories")).text()
    row = page.split('data-code="0102"')[1].split("</tr>")[0]
    assert "2 工作日" in row and "综合执法局" in row and "紧急" in row


async def test_a_category_switched_off_takes_no_reports(client: TestClient, world: World) -> None:
    token = await admin_csrf(client)
    form = {"csrf_token": token, "clock_start": "dispatch", "priority": "2"}
    r = await client.post("/console/admin/categories/0701", data=form)
    assert r.status == 200
    assert not world.casework.catalog.categories["0701"].active
    assert world.casework.catalog.categories["0701"].time_limit_value is None
    services = await (await client.get("/open311/v2/services.json")).json()
    assert "0701" not in [s["service_code"] for s in services]


@pytest.mark.parametrize(
    ("path", "changes", "status", "message"),
    [
        ("0102", {"time_limit_value": "-1"}, 400, "处置时限须大于 0 且不超过 1000。"),
        ("0102", {"time_limit_value": "abc"}, 400, "“abc”不是数字。"),
        ("0102", {"time_limit_unit": ""}, 400, "处置时限的数值和单位须同时填写，或同时留空。"),
        ("0102", {"time_limit_unit": "weeks"}, 400, "“weeks”不在可选范围内。"),
        ("0102", {"priority": "7"}, 400, "优先级须为 1（紧急）、2（一般）或 3（较低）。"),
        ("0102", {"default_department_id": "999"}, 400, "单位 999 不存在。"),
        ("01", {}, 400, "01 是大类，处置时限请设在其小类上。"),
        ("9999", {}, 404, "没有该类别。"),
    ],
)
async def test_bad_category_changes_change_nothing(
    client: TestClient, app: App, path: str, changes: dict[str, str], status: int, message: str
) -> None:
    token = await admin_csrf(client)
    form = {
        "csrf_token": token,
        "time_limit_value": "3",
        "time_limit_unit": "work_hours",
        "clock_start": "dispatch",
        "priority": "2",
        "active": "on",
        **changes,
    }
    r = await client.post(f"/console/admin/categories/{path}", data=form)
    assert r.status == status
    assert error_of(await r.text()) == message
    category = app.casework.catalog.categories["0102"]
    assert (category.time_limit_value, category.priority) == (4, 2)


# -- routing rules --------------------------------------------------------------------------


async def test_a_routing_rule_sends_new_reports_to_its_office(
    client: TestClient, world: World, app: App
) -> None:
    token = await admin_csrf(client, "/console/admin/routing")
    form = {
        "csrf_token": token,
        "category_code": "01",
        "area_code": COMMUNITY_B,
        "department_id": str(dept(app, "cgzf")),
    }
    r = await client.post("/console/admin/routing", data=form, allow_redirects=False)
    assert r.status == 303
    in_b = (await world.casework.intake.report(world.draft(at=INSIDE_B2))).case
    in_a = (await world.casework.intake.report(world.draft(at=INSIDE_A1))).case
    assert in_b.department_id == dept(app, "cgzf") and in_a.department_id == dept(app, "hw")
    page = await (await client.get("/console/admin/routing")).text()
    assert "城北村" in page and "社区（村）" in page and "综合执法局" in page

    # A grid rule is more specific than the community rule.
    grid = COMMUNITY_B + "002"
    form.update(category_code="0102", area_code=grid, department_id=str(dept(app, "hw")))
    assert (await client.post("/console/admin/routing", data=form)).status == 200
    assert (
        await world.casework.intake.report(world.draft(at=INSIDE_B2))
    ).case.department_id == dept(app, "hw")
    async with app.sessions() as session:
        rule = await session.scalar(select(RoutingRule).where(RoutingRule.area_code == grid))
    assert rule is not None and rule.area_level == "grid"
    r = await client.post(f"/console/admin/routing/{rule.id}/delete", data={"csrf_token": token})
    assert r.status == 200 and await count(app, RoutingRule) == 1
    assert (
        await world.casework.intake.report(world.draft(at=INSIDE_B2))
    ).case.department_id == dept(app, "cgzf")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"area_code": "330521101999"}, "派遣规则中的区域 330521101999 不存在。"),
        ({"area_code": ""}, "请填写规则适用的区域编码。"),
        ({"category_code": "0999"}, "类别 0999 不存在。"),
        ({"department_id": "999"}, "单位 999 不存在。"),
        ({"department_id": "x"}, "“x”不是整数。"),
        ({"area_code": COMMUNITY_A}, f"类别 0102 在区域 {COMMUNITY_A} 的规则已存在，请先删除。"),
    ],
)
async def test_bad_routing_rules_are_refused(
    client: TestClient, app: App, changes: dict[str, str], message: str
) -> None:
    token = await admin_csrf(client, "/console/admin/routing")
    form = {"csrf_token": token, "category_code": "0102", "department_id": str(dept(app, "hw"))}
    first = await client.post("/console/admin/routing", data={**form, "area_code": COMMUNITY_A})
    assert first.status == 200
    r = await client.post(
        "/console/admin/routing", data={**form, "area_code": COMMUNITY_B, **changes}
    )
    assert r.status == 400
    assert error_of(await r.text()) == message
    assert await count(app, RoutingRule) == 1
    r = await client.post("/console/admin/routing/999/delete", data={"csrf_token": token})
    assert r.status == 404 and error_of(await r.text()) == "派遣规则 999 不存在。"


# -- the calendar ---------------------------------------------------------------------------


async def test_a_holiday_moves_the_deadline_of_new_reports(
    client: TestClient, world: World, app: App
) -> None:
    world.clock.now = at(23, 16)  # Monday 16:00: 1.5 working hours today, 2.5 tomorrow
    assert (await world.casework.intake.report(world.draft())).case.deadline_at == at(24, 11)
    token = await admin_csrf(client, "/console/admin/calendar")
    form = {"csrf_token": token, "day": "2026-11-24", "kind": "holiday", "name": "临时休假"}
    r = await client.post("/console/admin/calendar", data=form, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/console/admin/calendar?year=2026"
    assert (await world.casework.intake.report(world.draft())).case.deadline_at == at(25, 11)
    page = await (await client.get(r.headers["Location"])).text()
    assert "2026-11-24" in page and "临时休假" in page and "周二" in page
    assert 'id="next-year-empty"' in page  # 2027 is not entered yet

    r = await client.post("/console/admin/calendar/2026-11-24/delete", data={"csrf_token": token})
    assert r.status == 200
    assert (await world.casework.intake.report(world.draft())).case.deadline_at == at(24, 11)


async def test_a_make_up_working_day_counts(client: TestClient, world: World) -> None:
    world.clock.now = at(27, 16)  # Friday 16:00: 1.5 working hours, then Monday
    token = await admin_csrf(client, "/console/admin/calendar")
    form = {"csrf_token": token, "day": "2026-11-28", "kind": "workday", "name": "调休"}
    assert (await client.post("/console/admin/calendar", data=form)).status == 200
    assert (await world.casework.intake.report(world.draft())).case.deadline_at == at(28, 11)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "workday"}, "2026-11-25 本来就是工作日；调休上班日是原本休息、调为上班的日子。"),
        ({"day": "2026-02-30"}, "“2026-02-30”不是日期（YYYY-MM-DD）。"),
        ({"kind": "festival"}, "“festival”不在可选范围内。"),
        ({"name": "节" * 101}, "名称超过 100 个字符。"),
    ],
)
async def test_bad_calendar_days_are_refused(
    client: TestClient, app: App, changes: dict[str, str], message: str
) -> None:
    token = await admin_csrf(client, "/console/admin/calendar")
    form = {"csrf_token": token, "day": "2026-11-25", "kind": "holiday", **changes}
    r = await client.post("/console/admin/calendar", data=form)
    assert r.status == 400 and error_of(await r.text()) == message
    assert await count(app, CalendarDay) == 8
    r = await client.post("/console/admin/calendar/2026-11-25/delete", data={"csrf_token": token})
    assert r.status == 404 and error_of(await r.text()) == "日历中没有 2026-11-25。"


# -- group chats ----------------------------------------------------------------------------


async def test_an_office_chat_is_bound_listed_and_removed(
    client: TestClient, world: World, app: App
) -> None:
    token = await admin_csrf(client, "/console/admin/chats")
    form = {"csrf_token": token, "kind": "office", "department_id": str(dept(app, "hw"))}
    r = await client.post("/console/admin/chats/invites", data=form)
    html = await r.text()
    code = html.split('id="new-invite">')[1].split("<")[0]
    assert f"/bind {code}" in html
    async with app.sessions() as session, session.begin():
        await redeem_chat_invite(session, code, "telegram", "-100123", "环卫处工作群", at(23, 9))
    page = await (await client.get("/console/admin/chats")).text()
    assert "telegram:-100123" in page and "环卫处工作群" in page and "单位工作群" in page
    async with app.sessions() as session:
        targets = await notify.office(session, dept(app, "hw"))
        binding = await session.scalar(select(ChatBinding))
    assert [t.address for t in targets] == ["-100123"]

    r = await client.post(f"/console/admin/chats/{binding.id}/delete", data={"csrf_token": token})
    assert r.status == 200 and "尚未绑定任何群聊" in await r.text()
    async with app.sessions() as session:
        targets = await notify.office(session, dept(app, "hw"))
    assert "-100123" not in [t.address for t in targets]


async def test_the_county_supervisors_chat_binds_to_the_county(
    client: TestClient, app: App
) -> None:
    token = await admin_csrf(client, "/console/admin/chats")
    county = next(a for a in app.casework.catalog.areas.values() if a.code == "330521")
    form = {"csrf_token": token, "kind": "supervisors", "area_id": str(county.id)}
    html = await (await client.post("/console/admin/chats/invites", data=form)).text()
    code = html.split('id="new-invite">')[1].split("<")[0]
    async with app.sessions() as session, session.begin():
        binding = await redeem_chat_invite(session, code, "telegram", "-1009", "督查群", at(23, 9))
        assert binding.kind is ChatKind.SUPERVISORS and binding.area_id is None
    async with app.sessions() as session:
        targets = await notify.supervisors(session, None)
    assert "-1009" in [t.address for t in targets]
    assert "全县" in await (await client.get("/console/admin/chats")).text()


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"kind": "office"}, 400, "请选择该群所属的单位。"),
        ({"kind": "office", "department_id": "999"}, 400, "单位 999 不存在。"),
        ({"kind": "supervisors", "area_id": "999"}, 400, "区域 999 不存在。"),
        ({"kind": "family"}, 400, "“family”不在可选范围内。"),
    ],
)
async def test_bad_chat_invites_are_refused(
    client: TestClient, form: dict[str, str], status: int, message: str
) -> None:
    token = await admin_csrf(client, "/console/admin/chats")
    r = await client.post("/console/admin/chats/invites", data={"csrf_token": token, **form})
    assert r.status == status and error_of(await r.text()) == message
    assert 'id="new-invite"' not in await r.text()
    r = await client.post("/console/admin/chats/999/delete", data={"csrf_token": token})
    assert r.status == 404 and error_of(await r.text()) == "群聊绑定 999 不存在。"


# -- the outbox -----------------------------------------------------------------------------


async def test_a_dead_message_is_sent_again(client: TestClient, app: App) -> None:
    async with app.sessions() as session, session.begin():
        target = notify.Target(RecipientKind.PERSON, 1, "telegram", "42")
        notifier = notify.Notifier(session)
        notifier.queue([target], "case.remind", "e1", {"n": 1}, now=at(23, 9))
        notifier.queue([target], "case.remind", "e2", {"n": 2}, now=at(23, 9))
        await notifier.flush()
        dead, sent = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        dead.status, dead.attempts, dead.last_error = OutboxStatus.DEAD, 8, "ConnectionError()"
        sent.status = OutboxStatus.SENT
    token = await admin_csrf(client, "/console/admin/outbox")
    page = await (await client.get("/console/admin/outbox")).text()
    assert f'data-id="{dead.id}"' in page and f'data-id="{sent.id}"' not in page
    assert "ConnectionError()" in page and "投递失败: 1" in page

    r = await client.post(f"/console/admin/outbox/{dead.id}/retry", data={"csrf_token": token})
    assert r.status == 200 and "所有消息均已送达" in await r.text()
    async with app.sessions() as session:
        again = await session.get(OutboxMessage, dead.id)
    assert again is not None
    assert (again.status, again.attempts, again.claimed_until) == (OutboxStatus.PENDING, 0, None)
    assert again.next_attempt_at == app.casework.clock()

    r = await client.post(f"/console/admin/outbox/{sent.id}/retry", data={"csrf_token": token})
    assert r.status == 400
    assert error_of(await r.text()) == f"消息 {sent.id} 并非未送达，无需重新发送。"
    r = await client.post("/console/admin/outbox/999/retry", data={"csrf_token": token})
    assert r.status == 404 and error_of(await r.text()) == "消息 999 不存在。"
