"""A bound office group upgraded to a supergroup: the binding follows it to its new id,
whether the upgrade is announced by an update or only discovered by the outbox."""

from sqlalchemy import func, select

from models import CaseChatMessage, ChatBinding, OutboxMessage
from models.enums import OutboxStatus
from tests.bot.harness import HW_GROUP, Harness
from tests.bot.test_edges import office_with_card
from tests.bot.test_flow import report_case

SUPERGROUP = -1001234567890


async def binding_ids(h: Harness) -> list[str]:
    async with h.app.sessions() as session:
        return sorted((await session.scalars(select(ChatBinding.chat_id))).all())


async def test_upgraded_group_keeps_getting_its_cards(h: Harness) -> None:
    case = await office_with_card(h)
    async with h.app.sessions() as session:
        assert await session.scalar(
            select(CaseChatMessage).where(CaseChatMessage.chat_id == str(HW_GROUP))
        )
    await h.press("hw1", HW_GROUP, "c:accept:")  # its card edit waits in the outbox

    # the group is upgraded by someone the bot does not know; the old chat announces it
    assert await h.post(h.message("sup_town", HW_GROUP, migrate_to_chat_id=SUPERGROUP)) == 200
    assert str(SUPERGROUP) in await binding_ids(h) and str(HW_GROUP) not in await binding_ids(h)
    async with h.app.sessions() as session:
        cards = (await session.scalars(select(CaseChatMessage.chat_id))).all()
        waiting = (
            await session.scalars(
                select(OutboxMessage.address).where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        ).all()
    assert str(HW_GROUP) not in cards  # its message ids mean nothing in the new chat
    assert str(SUPERGROUP) in waiting and str(HW_GROUP) not in waiting

    # and the new chat announces it too: nothing more changes
    update = h.message("sup_town", SUPERGROUP, migrate_from_chat_id=HW_GROUP)
    update["message"]["chat"]["type"] = "supergroup"
    assert await h.post(update) == 200
    assert await binding_ids(h) == sorted([str(SUPERGROUP), "-100300"])

    sent_before = len(h.emu.sent(chat_id=HW_GROUP))
    await h.deliver()
    card = h.emu.sent("sendPhoto", chat_id=SUPERGROUP)
    assert len(card) == 1 and case.number in card[0].params["caption"]
    assert len(h.emu.sent(chat_id=HW_GROUP)) == sent_before

    # the office works on in the new chat
    await h.press("hw1", SUPERGROUP, "c:resolve:")
    await h.say("hw1", "已清理", chat_id=SUPERGROUP)
    assert "已办结" in h.emu.texts(SUPERGROUP)[-1]


async def test_outbox_follows_an_unannounced_upgrade(h: Harness) -> None:
    await h.register("worker", "hw1")
    await h.say("hw1", f"/bind {await h.office_invite('hw')}", chat_id=HW_GROUP)
    case = await report_case(h)
    h.emu.fail_next(
        "sendPhoto",
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=SUPERGROUP,
    )
    first = await h.deliver()
    assert first.retried == 1
    assert await binding_ids(h) == [str(SUPERGROUP)]
    second = await h.deliver()
    assert second.sent == 1
    card = h.emu.sent("sendPhoto", chat_id=SUPERGROUP)
    assert len(card) == 1 and case.number in card[0].params["caption"]
    async with h.app.sessions() as session:
        assert (
            await session.scalar(
                select(func.count())
                .select_from(CaseChatMessage)
                .where(CaseChatMessage.chat_id == str(SUPERGROUP))
            )
            == 1
        )


async def test_a_new_chat_bound_already_keeps_its_own_binding(h: Harness) -> None:
    await office_with_card(h)
    supergroup = h.message("hw1", SUPERGROUP, text=f"/bind {await h.office_invite('cgzf')}")
    supergroup["message"]["chat"]["type"] = "supergroup"
    assert await h.post(supergroup) == 200
    assert await h.post(h.message("hw1", HW_GROUP, migrate_to_chat_id=SUPERGROUP)) == 200
    async with h.app.sessions() as session:
        bindings = (await session.scalars(select(ChatBinding))).all()
    assert sorted(b.chat_id for b in bindings) == sorted([str(SUPERGROUP), "-100300"])
    cg = h.world.casework.catalog.departments_by_code["cgzf"].id
    assert all(b.department_id == cg for b in bindings)
