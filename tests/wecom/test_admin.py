"""WeCom set up by an administrator, on PostgreSQL: members linked to their userids on the
console's people page, a group chat created for an office through (the fake) WeCom and then
hearing of the office's cases through the outbox, existing chats bound and unbound from the
command line; a userid taken by someone else refused, and each change in the audit trail."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.wecom.api import WecomError
from bot.wecom.group_chats import WecomGroupChats
from dispatch.accounts import hash_password
from dispatch.chat_admin import GroupChatProblem, GroupChatRefused
from gridgov.app import App
from gridgov.settings import Settings
from models import AuditEvent, ChatBinding, ChatIdentity, OutboxMessage, Person
from models.enums import ChatKind, OutboxStatus
from tests.dispatch.world import COMMUNITY_A, build_world
from tests.test_cli import gridgov
from tests.web.helpers import csrf_of, login
from tests.wecom.fake_server import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWecom
from tests.wecom.harness import USERIDS, WecomHarness
from web.app import create_web_app

PASSWORD = "correct horse battery"
CHATS = "/console/admin/chats"


async def admin_console(app: App) -> AsyncIterator[tuple[TestClient, str]]:
    """The console of `app`, the admin logged in; the client and a CSRF token."""
    async with app.sessions() as session, session.begin():
        await session.execute(
            update(Person)
            .where(Person.username == "admin")
            .values(password_hash=hash_password(PASSWORD))
        )
    async with TestClient(TestServer(create_web_app(app.web_context()))) as client:
        assert await login(client, "admin", PASSWORD) == 303
        yield client, csrf_of(await (await client.get("/console/admin")).text())


@pytest.fixture
async def console(wx: WecomHarness) -> AsyncIterator[tuple[TestClient, str]]:
    async for pair in admin_console(wx.app):
        yield pair


def error_of(html: str) -> str:
    return html.split('id="error">')[1].split("<")[0]


def notice_of(html: str) -> str:
    return html.split('id="notice">')[1].split("<")[0]


async def audit_trail(app: App) -> list[tuple[str, dict[str, Any]]]:
    async with app.sessions() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action.not_like("login%")).order_by(AuditEvent.id)
        )
        return [(e.action, e.detail) for e in rows]


async def link(client: TestClient, token: str, person_id: int, userid: str) -> tuple[int, str]:
    r = await client.post(
        f"/console/admin/people/{person_id}/wecom", data={"csrf_token": token, "userid": userid}
    )
    return r.status, await r.text()


async def test_a_group_created_on_the_console_hears_the_office_cases(
    wx: WecomHarness, console: tuple[TestClient, str]
) -> None:
    client, token = console
    people = wx.world.people
    # 陈静 first, then 李娜 (the office head), as an admin would go down the list
    for who in ("hw2", "hw1"):
        status, html = await link(client, token, people[who], USERIDS[who])
        assert status == 200 and notice_of(html) == f"已关联企业微信账号 {USERIDS[who]}。"
    page = await (await client.get(CHATS)).text()
    assert 'id="wecom-create-form"' in page and 'id="wecom-off"' not in page

    hw = wx.world.casework.catalog.departments_by_code["hw"]
    r = await client.post(
        f"{CHATS}/wecom/create", data={"csrf_token": token, "department_id": str(hw.id)}
    )
    html = await r.text()
    [(chat_id, chat)] = wx.fake.chats.items()
    assert r.status == 200 and notice_of(html) == (
        f"已为环卫处创建企业微信群聊 {chat_id}，共 2 名成员。"
    )
    # the head owns it; the members are the office's linked members, the owner first
    assert chat == {"name": "环卫处", "owner": "lina", "userlist": ["lina", "chenjie"]}
    assert f"wecom:appchat:{chat_id}" in html and "环卫处" in html

    # a new case of the office is shown in the group, not to each member
    case = (await wx.world.casework.intake.report(wx.world.draft())).case
    assert (await wx.deliver()).sent == 1
    [card] = wx.fake.sent("appchat/send", chat_id)
    assert "暴露垃圾" in card.params["markdown"]["content"]
    assert not wx.fake.sent("message/send")
    # and so is its notice when it runs overdue
    wx.world.clock.now += timedelta(days=1)
    assert await wx.world.casework.escalation.sweep()
    await wx.deliver()
    async with wx.app.sessions() as session:
        overdue = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.kind == "case.overdue", OutboxMessage.case_id == case.id
            )
        )
    assert overdue is not None and overdue.address == f"appchat:{chat_id}"
    assert overdue.status is OutboxStatus.SENT
    assert "已超期" in wx.fake.sent("appchat/send", chat_id)[-1].params["markdown"]["content"]

    admin = people["admin"]
    assert await audit_trail(wx.app) == [
        ("wecom.linked", {"person_id": people["hw2"], "userid": "chenjie"}),
        ("wecom.linked", {"person_id": people["hw1"], "userid": "lina"}),
        (
            "chat.created",
            {
                "binding_id": (await binding_id(wx.app, chat_id)),
                "chat_id": chat_id,
                "department_id": hw.id,
                "owner": "lina",
                "members": ["lina", "chenjie"],
            },
        ),
    ]
    async with wx.app.sessions() as session:
        events = await session.scalars(
            select(AuditEvent).where(AuditEvent.action.not_like("login%"))
        )
        assert {(e.person_id, e.remote) for e in events} == {(admin, "127.0.0.1")}


async def binding_id(app: App, chat_id: str) -> int | None:
    async with app.sessions() as session:
        return await session.scalar(
            select(ChatBinding.id).where(ChatBinding.chat_id == f"appchat:{chat_id}")
        )


async def test_an_office_with_one_linked_member_gets_no_group(
    wx: WecomHarness, console: tuple[TestClient, str]
) -> None:
    client, token = console
    await link(client, token, wx.world.people["hw1"], "lina")
    hw = wx.world.casework.catalog.departments_by_code["hw"]
    r = await client.post(
        f"{CHATS}/wecom/create", data={"csrf_token": token, "department_id": str(hw.id)}
    )
    assert r.status == 400 and error_of(await r.text()) == (
        "环卫处已关联企业微信的成员只有 1 人，企业微信群聊至少需要 2 人。请先在人员页面关联。"
    )
    assert not wx.fake.sent("appchat/create") and await binding_count(wx.app) == 0


async def test_wecom_refusals_are_told_to_the_admin(
    wx: WecomHarness, console: tuple[TestClient, str]
) -> None:
    """The fake checks the arguments as WeCom does; its error codes become clear messages."""
    client, token = console
    for who in ("hw1", "hw2"):
        await link(client, token, wx.world.people[who], USERIDS[who])
    wx.fake.address_book = {"lina"}  # 陈静's userid is not in the corp's address book
    hw = wx.world.casework.catalog.departments_by_code["hw"]
    r = await client.post(
        f"{CHATS}/wecom/create", data={"csrf_token": token, "department_id": str(hw.id)}
    )
    assert r.status == 400 and error_of(await r.text()) == (
        "企业微信拒绝建群（错误码 86216）：有已关联的账号不在企业微信通讯录中，"
        "请检查成员的企业微信关联。"
    )
    assert not wx.fake.chats and await binding_count(wx.app) == 0

    chats = WecomGroupChats(wx.runtime.api)
    for members, owner, problem, code in [
        (["lina"], "lina", GroupChatProblem.TOO_FEW_MEMBERS, 86006),
        ([], "lina", GroupChatProblem.TOO_FEW_MEMBERS, 86204),
    ]:
        with pytest.raises(GroupChatRefused) as refused:
            await chats.create("环卫处", owner, members)
        assert (refused.value.problem, refused.value.code) == (problem, code)
    wx.fake.address_book = None
    api = wx.runtime.api
    assert await api.create_appchat("x", "lina", ["lina", "chenjie"], "hw1") == "hw1"
    for owner, chatid, code in [("lina", "hw1", 86215), ("zhoumin", "hw2", 86207)]:
        with pytest.raises(WecomError) as failed:
            await api.create_appchat("x", owner, ["lina", "chenjie"], chatid)
        assert failed.value.errcode == code


async def binding_count(app: App) -> int:
    async with app.sessions() as session:
        return len((await session.scalars(select(ChatBinding))).all())


async def test_the_people_page_links_changes_refuses_and_removes(
    wx: WecomHarness, console: tuple[TestClient, str]
) -> None:
    client, token = console
    lina, chen = wx.world.people["hw1"], wx.world.people["hw2"]
    assert (await link(client, token, lina, "lina"))[0] == 200
    status, html = await link(client, token, lina, "LiNa2")  # changed
    assert status == 200 and 'value="LiNa2"' in html.split(f'id="person-{lina}"')[1]

    status, html = await link(client, token, chen, "LiNa2")  # taken by 李娜
    assert status == 400 and error_of(html) == (
        f"企业微信账号 LiNa2 已关联到李娜（编号 {lina}），请先解除该关联。"
    )
    status, html = await link(client, token, chen, "has space")
    assert status == 400 and "须为 1 至 64 个字母" in error_of(html)
    assert sorted(await wx.identities()) == [("LiNa2", lina)]
    assert (await link(client, token, lina, "LiNa2"))[0] == 200  # no change: no event

    r = await client.post(f"/console/admin/people/{lina}/wecom/delete", data={"csrf_token": token})
    assert r.status == 200 and notice_of(await r.text()) == "已解除与企业微信账号 LiNa2 的关联。"
    assert await wx.identities() == []
    r = await client.post(f"/console/admin/people/{lina}/wecom/delete", data={"csrf_token": token})
    assert r.status == 400 and error_of(await r.text()) == "李娜尚未关联企业微信账号。"
    assert (await link(client, token, 999999, "nobody"))[0] == 404

    # 陈静 can have the userid now; WeCom messages for her go to it
    assert (await link(client, token, chen, "LiNa2"))[0] == 200
    assert await audit_trail(wx.app) == [
        ("wecom.linked", {"person_id": lina, "userid": "lina"}),
        ("wecom.linked", {"person_id": lina, "userid": "LiNa2", "previous": "lina"}),
        ("wecom.unlinked", {"person_id": lina, "userid": "LiNa2"}),
        ("wecom.linked", {"person_id": chen, "userid": "LiNa2"}),
    ]


async def test_without_wecom_the_console_offers_only_binding(
    engine: AsyncEngine, tmp_path: Any
) -> None:
    world = await build_world(engine)
    app = App(Settings(media_dir=tmp_path), engine, world.casework.sessions, world.casework, {})
    async for client, token in admin_console(app):
        page = await (await client.get(CHATS)).text()
        assert 'id="wecom-off"' in page and 'id="wecom-create-form"' not in page
        hw = world.casework.catalog.departments_by_code["hw"]
        r = await client.post(
            f"{CHATS}/wecom/create", data={"csrf_token": token, "department_id": str(hw.id)}
        )
        assert r.status == 400 and "本系统未配置企业微信" in error_of(await r.text())

        form = {"csrf_token": token, "chat_id": "appchat:wrHW01", "kind": "office"}
        r = await client.post(f"{CHATS}/wecom/bind", data={**form, "department_id": str(hw.id)})
        assert (
            r.status == 200 and notice_of(await r.text()) == "企业微信群聊 wrHW01 已绑定到环卫处。"
        )
        county = next(a for a in world.casework.catalog.areas.values() if a.code == "330521")
        r = await client.post(
            f"{CHATS}/wecom/bind",
            data={**form, "chat_id": "wrCOUNTY", "kind": "supervisors", "area_id": str(county.id)},
        )
        assert notice_of(await r.text()) == "企业微信群聊 wrCOUNTY 已绑定到全县。"
        r = await client.post(f"{CHATS}/wecom/bind", data={**form, "chat_id": "wr-1"})
        assert r.status == 400 and error_of(await r.text()) == (
            "企业微信群聊 ID 须为 1 至 32 个字母或数字。"
        )
        async with app.sessions() as session:
            bindings = (await session.scalars(select(ChatBinding).order_by(ChatBinding.id))).all()
        assert [(b.chat_id, b.kind, b.department_id, b.area_id) for b in bindings] == [
            ("appchat:wrHW01", ChatKind.OFFICE, hw.id, None),
            ("appchat:wrCOUNTY", ChatKind.SUPERVISORS, None, None),
        ]
        r = await client.post(f"{CHATS}/{bindings[0].id}/delete", data={"csrf_token": token})
        assert r.status == 200 and "wrHW01" not in await r.text()
        assert [a for a, _ in await audit_trail(app)] == [
            "chat.bound",
            "chat.bound",
            "chat.unbound",
        ]


# -- the command line -------------------------------------------------------------------------


def wecom_env(monkeypatch: pytest.MonkeyPatch, fake: FakeWecom) -> None:
    for name, value in {
        "CORP_ID": CORP_ID,
        "AGENT_ID": str(AGENT_ID),
        "SECRET": SECRET,
        "TOKEN": TOKEN,
        "AES_KEY": AES_KEY,
        "API_BASE": fake.base,
    }.items():
        monkeypatch.setenv(f"GRIDGOV_WECOM_{name}", value)


async def test_groups_are_created_bound_and_unbound_from_the_command_line(
    engine: AsyncEngine, pg_url: str, fake: FakeWecom, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await build_world(engine)
    sessions = world.casework.sessions

    async def cli(*args: str, check: bool = True) -> Any:
        # in a thread: the fake WeCom answers on this test's event loop
        return await asyncio.to_thread(gridgov, pg_url, *args, check=check)

    failed = await cli("wecom", "group", "create", "--office", "hw", check=False)
    assert failed.returncode == 1 and "needs the GRIDGOV_WECOM_* settings" in failed.stderr
    wecom_env(monkeypatch, fake)
    await cli("wecom", "link", "hw1", "lina")
    failed = await cli("wecom", "link", "hw2", "lina", check=False)
    assert failed.returncode == 1 and "linked to 李娜" in failed.stderr
    await cli("wecom", "link", "hw2", "chenjie")

    hw = world.casework.catalog.departments_by_code["hw"]
    out = (await cli("wecom", "group", "create", "--office", str(hw.id))).stdout
    chat_id = out.strip().splitlines()[-1]
    assert fake.chats[chat_id] == {
        "name": "环卫处",
        "owner": "lina",
        "userlist": ["lina", "chenjie"],
    }

    out = (await cli("wecom", "group", "bind", "wrSUP01", "--supervisors", COMMUNITY_A)).stdout
    assert "wrSUP01 is bound to the supervisors of 英溪社区" in out
    out = (await cli("wecom", "group", "bind", "appchat:wrCG01", "--office", "cgzf")).stdout
    assert "wrCG01 is bound to the office 综合执法局" in out
    async with sessions() as session:
        rows = await session.execute(
            select(ChatBinding.chat_id, ChatBinding.kind, ChatBinding.title).order_by(
                ChatBinding.id
            )
        )
        assert list(rows) == [
            (f"appchat:{chat_id}", ChatKind.OFFICE, "环卫处"),
            ("appchat:wrSUP01", ChatKind.SUPERVISORS, ""),
            ("appchat:wrCG01", ChatKind.OFFICE, ""),
        ]

    assert "wrSUP01 is unbound" in (await cli("wecom", "group", "unbind", "wrSUP01")).stdout
    failed = await cli("wecom", "group", "unbind", "wrSUP01", check=False)
    assert failed.returncode == 1 and "The WeCom chat wrSUP01 is not bound." in failed.stderr
    await cli("wecom", "unlink", "hw2")
    async with sessions() as session:
        assert [i.external_id for i in (await session.scalars(select(ChatIdentity))).all()] == [
            "lina"
        ]
        events = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert [e.action for e in events] == [
        "wecom.linked",
        "wecom.linked",
        "chat.created",
        "chat.bound",
        "chat.bound",
        "chat.unbound",
        "wecom.unlinked",
    ]
    assert {(e.person_id, e.remote) for e in events} == {(None, "cli")}
    assert all(e.username.startswith("cli:") for e in events)
