"""The WeCom outbox channel and API client against the fake WeCom server: the office card to
every member and its update after one acts, tokens that expire, WeCom's "busy" answers,
group chats, photos, long texts and the per-member rate limits."""

from datetime import timedelta

from sqlalchemy import select

from bot.conversation.io import Photo
from bot.wecom.translate import TEXT_LIMIT_BYTES, split_utf8
from dispatch.core.lifecycle import Action
from dispatch.delivery import RateLimiter
from models import ChatBinding, ChatIdentity, OutboxMessage, WecomCard
from models.enums import ChatKind, OutboxStatus
from tests.wecom.harness import USERIDS, WecomHarness

HW1, HW2 = USERIDS["hw1"], USERIDS["hw2"]


async def link(wx: WecomHarness, *people: str) -> None:
    async with wx.app.sessions() as session, session.begin():
        for who in people:
            session.add(
                ChatIdentity(
                    person_id=wx.world.people[who], channel="wecom", external_id=USERIDS[who]
                )
            )


async def report(wx: WecomHarness) -> int:
    """A worker's report, dispatched at once to the sanitation office (hw)."""
    result = await wx.world.casework.intake.report(wx.world.draft())
    return result.case.id


async def outbox(wx: WecomHarness) -> list[OutboxMessage]:
    async with wx.app.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.channel == "wecom")
                    .order_by(OutboxMessage.id)
                )
            ).all()
        )


async def test_the_office_card_goes_to_every_member_and_is_updated_for_all(
    wx: WecomHarness,
) -> None:
    await link(wx, "hw1", "hw2")
    case_id = await report(wx)
    assert (await wx.deliver()).sent == 2
    for member in (HW1, HW2):
        (card,) = wx.fake.cards(member)
        assert card["card_type"] == "button_interaction"
        assert "暴露垃圾" in card["main_title"]["title"] + card["sub_title_text"]
        assert [b["text"] for b in card["button_list"]][:1] == ["签收"]
    async with wx.app.sessions() as session:
        cards = (await session.scalars(select(WecomCard))).all()
    assert {(c.case_id, c.userid) for c in cards} == {(case_id, HW1), (case_id, HW2)}
    assert all(c.response_code for c in cards)

    # 李娜 accepts: the card is updated in place for both members, not sent anew
    await wx.world.casework.steps.act(Action.ACCEPT, case_id, wx.world.people["hw1"])
    assert (await wx.deliver()).sent == 2
    updates = wx.fake.sent("message/update_template_card")
    assert sorted(u.params["userids"][0] for u in updates) == sorted([HW1, HW2])
    for u in updates:
        labels = [b["text"] for b in u.params["template_card"]["button_list"]]
        assert "签收" not in labels and "办结" in labels
        assert u.params["template_card"]["task_id"] in {c.task_id for c in cards}
    assert len(wx.fake.sent("message/send")) == 2  # no new cards

    # 李娜 presses a button on her card: WeCom's fresh code lets the next change update it;
    # 陈静's code is spent, so she gets a new card
    hw1_card = next(c for c in cards if c.userid == HW1)
    code = wx.fake.card_code(HW1, hw1_card.task_id)
    press = wx.client.card_press(HW1, "c:resolve:x", hw1_card.task_id, code)
    assert await wx.post(press) == 200
    await wx.world.casework.steps.act(
        Action.RESOLVE, case_id, wx.world.people["hw1"], note="已清理"
    )
    await wx.deliver()
    assert [u.params["userids"] for u in wx.fake.sent("message/update_template_card")][-1] == [HW1]
    assert len(wx.fake.sent("message/send", HW2)) == 2
    assert all(m.status is OutboxStatus.SENT for m in await outbox(wx))


async def test_an_expired_token_is_refreshed(wx: WecomHarness) -> None:
    await wx.register("worker")
    assert len(wx.fake.sent("gettoken")) == 1
    wx.fake.expire_tokens()  # WeCom answers 42001
    await wx.say("worker", "/start")
    assert len(wx.fake.sent("gettoken")) == 2
    assert "/report" in wx.texts("worker")[-1]  # the answer got through with the new token
    wx.fake.tokens.clear()  # WeCom forgot them: 40014
    await wx.say("worker", "/start")
    assert len(wx.fake.sent("gettoken")) == 3
    assert len(wx.texts("worker")) == 3


async def test_the_token_is_renewed_before_it_expires(wx: WecomHarness) -> None:
    api = wx.runtime.api
    now = [1000.0]
    api.clock = lambda: now[0]
    api._token = None
    first = await api.token()
    now[0] += 7200 - 400  # not yet within five minutes of the expiry
    assert await api.token() == first
    now[0] += 200  # now it is: renewed before WeCom would refuse it
    assert await api.token() != first
    assert len(wx.fake.sent("gettoken")) == 2


async def test_busy_answers_are_retried_later_with_backoff(wx: WecomHarness) -> None:
    await link(wx, "hw1")
    await report(wx)
    wx.fake.fail_next("message/send", 45009)
    wx.fake.fail_next("message/send", -1)
    assert (await wx.deliver()).retried == 1
    (m,) = await outbox(wx)
    assert m.status is OutboxStatus.PENDING and m.attempts == 0
    first_wait = m.next_attempt_at - wx.world.clock()
    assert first_wait >= timedelta(seconds=2)
    wx.world.clock.now = m.next_attempt_at
    assert (await wx.deliver()).retried == 1
    (m,) = await outbox(wx)
    assert m.next_attempt_at - wx.world.clock() > first_wait  # backs off
    wx.world.clock.now = m.next_attempt_at
    assert (await wx.deliver()).sent == 1
    assert len(wx.fake.cards(HW1)) == 1


async def test_a_member_outside_the_app_is_undeliverable(wx: WecomHarness) -> None:
    await link(wx, "hw1")
    await report(wx)
    wx.fake.fail_next("message/send", 81013)
    assert (await wx.deliver()).undeliverable == 1


async def test_a_bound_group_chat_gets_markdown_through_appchat(wx: WecomHarness) -> None:
    hw = wx.world.casework.catalog.departments_by_code["hw"]
    async with wx.app.sessions() as session, session.begin():
        session.add(
            ChatBinding(
                channel="wecom",
                chat_id="appchat:hwgroup",
                kind=ChatKind.OFFICE,
                department_id=hw.id,
            )
        )
    await report(wx)
    assert (await wx.deliver()).sent == 1
    (call,) = wx.fake.sent("appchat/send", "hwgroup")
    assert call.params["msgtype"] == "markdown" and "暴露垃圾" in call.params["markdown"]["content"]


async def test_a_result_photo_is_uploaded_and_sent(wx: WecomHarness) -> None:
    photo = wx.app.settings.media_dir / "results" / "fixed.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"0" * 500)
    await wx.runtime.adapter.channel.send_photo(HW1, Photo("local", "results/fixed.jpg"))
    assert wx.fake.sent("media/upload")[0].params["size"] == 504
    (image,) = [c for c in wx.fake.sent("message/send", HW1) if c.params["msgtype"] == "image"]
    assert image.params["image"]["media_id"] in wx.fake.media


def test_long_texts_are_split_between_characters() -> None:
    text = "垃圾清理" * 300 + "\n" + "x" * 100  # 3,600 bytes of Chinese, then ASCII
    pieces = split_utf8(text)
    assert "".join(pieces) == text
    assert all(len(p.encode()) <= TEXT_LIMIT_BYTES for p in pieces)
    assert len(pieces) == 2
    assert split_utf8("短") == ["短"]


def test_a_member_gets_at_most_30_messages_a_minute_and_1000_an_hour() -> None:
    now = [0.0]
    limiter = RateLimiter(global_per_second=10_000, clock=lambda: now[0])
    for _ in range(30):
        assert limiter.wait_time(HW1, "wecom") == 0
        limiter.record(HW1, "wecom")
    assert 59 <= limiter.wait_time(HW1, "wecom") <= 60
    assert limiter.wait_time(HW2, "wecom") == 0  # another member is not held back
    for _minute in range(1, 40):
        now[0] = _minute * 61.0
        for _ in range(30):
            if limiter.wait_time(HW1, "wecom") == 0:
                limiter.record(HW1, "wecom")
    sent_in_hour = sum(1 for t in limiter._per_chat["wecom", HW1] if t > now[0] - 3600)
    assert sent_in_hour <= 1000
    assert limiter.wait_time(HW1, "wecom") > 0
