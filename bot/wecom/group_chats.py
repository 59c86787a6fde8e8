"""The domain's `GroupChats` over the WeCom API: `appchat/create`, with WeCom's refusals told
apart so that the admin reads what to fix."""

import aiohttp

from bot.wecom.api import FREQUENCY_LIMIT, SYSTEM_BUSY, WecomApi, WecomError
from dispatch.chat_admin import GroupChatProblem, GroupChatRefused

# WeCom's error codes for appchat/create (its global error code list).
PROBLEMS = {
    86006: GroupChatProblem.TOO_FEW_MEMBERS,  # 群成员数过多或过少
    86204: GroupChatProblem.TOO_FEW_MEMBERS,  # 参数 需要群成员
    86007: GroupChatProblem.UNKNOWN_MEMBER,  # 不合法的群成员
    86216: GroupChatProblem.UNKNOWN_MEMBER,  # 存在非法会话成员ID
    60011: GroupChatProblem.NOT_ALLOWED,  # 无权限 (the app's visible range is not the root)
    SYSTEM_BUSY: GroupChatProblem.BUSY,
    FREQUENCY_LIMIT: GroupChatProblem.BUSY,
}


class WecomGroupChats:
    def __init__(self, api: WecomApi) -> None:
        self.api = api

    async def create(self, name: str, owner: str, members: list[str]) -> str:
        try:
            return await self.api.create_appchat(name, owner, members)
        except WecomError as exc:
            problem = PROBLEMS.get(exc.errcode, GroupChatProblem.OTHER)
            raise GroupChatRefused(problem, exc.errcode, exc.errmsg) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise GroupChatRefused(GroupChatProblem.UNREACHABLE, 0, repr(exc)) from exc
