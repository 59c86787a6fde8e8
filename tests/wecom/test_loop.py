"""The whole loop through WeCom, as tests/bot/test_flow.py does it through Telegram: encrypted
callbacks over real HTTP into the shared conversation, API calls into the fake WeCom server.
Register by invite code, report with a GCJ-02 location and a photo, the office card with
签收/办结 updated for every member, verification, and an overdue alert to a supervisor."""

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from geo.coords import wgs84_to_gcj02
from models import Case, CaseEvent, ChatIdentity, Grid
from models.enums import CaseStatus
from tests.dispatch.world import GRIDS, INSIDE_A1
from tests.wecom.harness import USERIDS, WecomHarness

WORKER, HW1, HW2 = USERIDS["worker"], USERIDS["hw1"], USERIDS["hw2"]
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(3000)


async def report_case(
    wx: WecomHarness, description: str = "垃圾堆", where: tuple[float, float] = INSIDE_A1
) -> Case:
    """The worker's report through WeCom; the location is sent as WeCom does, in GCJ-02."""
    await wx.say("worker", "/report")
    assert "位置" in wx.texts("worker")[-1]
    gcj_lon, gcj_lat = wgs84_to_gcj02(*where)
    assert await wx.post(wx.client.location(WORKER, gcj_lon, gcj_lat, "英溪路")) == 200
    assert await wx.post(wx.client.image(WORKER, wx.fake.add_media(JPEG))) == 200
    assert "第 1 张照片" in wx.texts("worker")[-1]
    await wx.press("worker", "r:done:")
    await wx.press("worker", "k:01")
    await wx.press("worker", "k:0102")
    await wx.say("worker", description)
    await wx.press("worker", "r:confirm:")
    assert "上报成功" in "\n".join(wx.texts("worker")[-3:])
    async with wx.app.sessions() as session:
        case = await session.scalar(select(Case).order_by(Case.id.desc()))
    assert case is not None
    return case


async def test_register_report_accept_resolve_verify(wx: WecomHarness) -> None:
    await wx.register("worker", "hw1", "hw2")
    assert sorted(await wx.identities()) == sorted(
        (USERIDS[p], wx.world.people[p]) for p in ("worker", "hw1", "hw2")
    )
    assert all("注册成功" in wx.texts(p)[-1] for p in ("worker", "hw1", "hw2"))

    case = await report_case(wx)
    assert case.status is CaseStatus.DISPATCHED
    assert case.reporter_id == wx.world.people["worker"] and case.description == "垃圾堆"
    assert case.external_ref and case.external_ref.startswith("wecom:")
    found = await wx.world.casework.find_case(case.number or "")
    (photo,) = found.attachments
    assert photo.storage == "local"
    assert (wx.app.settings.media_dir / photo.ref).read_bytes() == JPEG

    # the office card, with the core's signed buttons, reaches both members
    await wx.deliver()
    for member in (HW1, HW2):
        (card,) = wx.fake.cards(member)
        assert case.number in card["main_title"]["title"]
        keys = [b["key"] for b in card["button_list"]]
        assert any(k.startswith(f"c:accept:{case.id}:") for k in keys)
    assert wx.fake.sent("media/upload"), "the report photo is shown with the card"

    # 陈静 presses 签收: the case is accepted, and the card changes for both members
    await wx.press("hw2", "c:accept:")
    assert (await wx.world.casework.find_case(case.number or "")).status is CaseStatus.ACCEPTED
    await wx.deliver()
    updates = wx.fake.sent("message/update_template_card")
    assert sorted(u.params["userids"][0] for u in updates) == sorted([HW1, HW2])
    for u in updates:
        card = u.params["template_card"]
        assert "签收" in card["main_title"]["desc"]
        assert [b["key"].split(":")[1] for b in card["button_list"]][:1] != ["accept"]

    # 李娜 presses 办结 on her updated card, sends the result photo and a note
    await wx.press("hw1", "c:resolve:")
    assert "照片" in wx.texts("hw1")[-1] or "说明" in wx.texts("hw1")[-1]
    assert await wx.post(wx.client.image(HW1, wx.fake.add_media(JPEG))) == 200
    await wx.say("hw1", "已清理")
    assert (await wx.world.casework.find_case(case.number or "")).status is CaseStatus.RESOLVED

    # the worker is asked to verify, with the result photo, and confirms
    await wx.deliver()
    _task_id, key = wx.button("worker", "v:")
    assert str(case.id) in key
    await wx.press("worker", "v:")
    assert (await wx.world.casework.find_case(case.number or "")).status is CaseStatus.CLOSED


async def test_a_gcj02_location_is_converted_before_it_is_placed(wx: WecomHarness) -> None:
    await wx.register("worker")
    # a WGS84 point in grid A1 whose GCJ-02 coordinates (as WeCom sends them) lie in A2
    lon, lat = 120.0085, 30.505
    a1, a2 = list(GRIDS)[:2]
    gcj_lon, _gcj_lat = wgs84_to_gcj02(lon, lat)
    assert GRIDS[a2][0] <= gcj_lon < GRIDS[a2][0] + 0.01
    case = await report_case(wx, where=(lon, lat))
    async with wx.app.sessions() as session:
        grid = await session.get(Grid, case.grid_id)
    assert grid is not None and grid.code == a1
    assert case.raw_crs.value == "gcj02" and case.raw_lon == pytest.approx(gcj_lon)
    assert case.lon == pytest.approx(lon, abs=1e-5)
    # a place outside the county: told so, nothing changes
    await wx.say("worker", "/report")
    assert await wx.post(wx.client.location(WORKER, 121.5, 31.2)) == 200
    assert "不在辖区内" in wx.texts("worker")[-2]  # then how to send a location
    async with wx.app.sessions() as session:
        assert len((await session.scalars(select(Case))).all()) == 1


async def test_an_overdue_case_alerts_the_supervisor_who_urges(wx: WecomHarness) -> None:
    await wx.register("worker", "sup_comm", "hw1")
    case = await report_case(wx)
    await wx.deliver()
    wx.world.clock.now += timedelta(days=7)
    assert await wx.world.casework.escalation.sweep(now=wx.world.clock())
    await wx.deliver()
    assert any(case.number in text for text in wx.texts("sup_comm"))
    await wx.press("sup_comm", "c:urge:")
    async with wx.app.sessions() as session:
        urged = await session.scalar(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "urge")
        )
    assert urged is not None


async def test_a_forged_button_is_refused_and_changes_nothing(wx: WecomHarness) -> None:
    await wx.register("worker", "hw1")
    case = await report_case(wx)
    await wx.deliver()
    task_id, key = wx.button("hw1", "c:accept:")
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    code = wx.fake.card_code(HW1, task_id)
    assert await wx.post(wx.client.card_press(HW1, forged, task_id, code)) == 200
    assert (await wx.world.casework.find_case(case.number or "")).status is CaseStatus.DISPATCHED
    assert case.number not in wx.texts("hw1")[-1]
    async with wx.app.sessions() as session:
        assert len((await session.scalars(select(ChatIdentity))).all()) == 2


async def test_many_alerts_come_as_one_list_and_the_office_is_told(wx: WecomHarness) -> None:
    """The outbox's alert list (kind `alerts`) and `case.overdue`, rendered for WeCom."""
    await wx.register("sup_comm", "hw1")
    d = wx.world.casework
    cases = [(await d.intake.report(wx.world.draft())).case for _ in range(3)]
    await wx.deliver()
    sent_before = len(wx.fake.sent("message/send", USERIDS["sup_comm"]))
    wx.world.clock.now += timedelta(days=1)
    assert len(await d.escalation.sweep()) >= 3
    await wx.deliver()
    new = wx.fake.sent("message/send", USERIDS["sup_comm"])[sent_before:]
    [listing] = [m.params["text"]["content"] for m in new if m.params["msgtype"] == "text"]
    assert listing.startswith("⚠️ 3 条督办提醒")
    assert all(c.number in listing for c in cases)
    [card] = [m.params["template_card"] for m in new if m.params["msgtype"] == "template_card"]
    urged_cases = {b["key"].split(":")[2] for b in card["button_list"]}
    assert urged_cases == {str(c.id) for c in cases}
    assert all(b["text"].startswith("督办") for b in card["button_list"])
    assert "已超期" in "\n".join(wx.texts("hw1")[-3:])
    # an Urge button of the list works like the one on a single alert
    await wx.press("sup_comm", "c:urge:")
    async with wx.app.sessions() as session:
        urged = await session.scalar(select(CaseEvent).where(CaseEvent.action == "urge"))
    assert urged is not None
