"""The routers, one per role, in the order they see an update."""

from aiogram import Router

from bot.handlers import (
    chats,
    dispatcher,
    errors,
    fallback,
    office,
    registration,
    report,
    steps,
    supervisor,
    worker,
)
from bot.middlewares import RequirePerson


def build_router() -> Router:
    members = Router(name="members")
    gate = RequirePerson()
    members.message.outer_middleware(gate)
    members.callback_query.outer_middleware(gate)
    members.include_routers(
        report.build(),
        steps.build(),
        worker.build(),
        office.build(),
        dispatcher.build(),
        supervisor.build(),
    )
    root = Router(name="root")
    root.include_routers(
        errors.build(), registration.build(), chats.build(), members, fallback.build()
    )
    return root
