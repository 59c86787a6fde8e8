"""What an administrator sets up for the chats, from the console or the command line: a
person's WeCom account (the userid in the corp's address book) linked, changed or removed; a
WeCom group chat created for an office, or an existing one bound to an office or to the
supervisors of an area; a group chat unbound. Each change is one transaction and leaves an
audit event (who, when, from where).

WeCom itself is reached through `GroupChats`, which the composition root implements over the
WeCom API (None when WeCom is not configured): the domain knows no HTTP."""

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.accounts import AuditAction, audit, require_admin
from dispatch.casework import Casework
from dispatch.core.actors import Actor
from dispatch.core.errors import N_, InvalidInput, NotFound
from models import ChatBinding, ChatIdentity, Department, Person
from models.enums import AreaLevel, ChatKind

WECOM = "wecom"
APPCHAT = "appchat:"  # a WeCom group chat's address in a binding: appchat:<chatid>
WECOM_USERID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
WECOM_CHAT_ID = re.compile(r"[0-9A-Za-z]{1,32}")  # WeCom's rule for a chatid
MIN_GROUP_MEMBERS = 2  # appchat/create takes 2 to 500 members
MAX_GROUP_NAME = 50  # characters; WeCom cuts a longer name


class GroupChatProblem(StrEnum):
    TOO_FEW_MEMBERS = "too_few_members"
    UNKNOWN_MEMBER = "unknown_member"  # a userid not in the address book
    NOT_ALLOWED = "not_allowed"  # the app's visible range is not the whole corp
    BUSY = "busy"
    UNREACHABLE = "unreachable"  # no answer at all
    OTHER = "other"


class GroupChatRefused(Exception):
    """The chat platform refused to create the group; `code` is its own error code."""

    def __init__(self, problem: GroupChatProblem, code: int, detail: str) -> None:
        super().__init__(f"{problem.value} ({code}): {detail}")
        self.problem, self.code, self.detail = problem, code, detail


class GroupChats(Protocol):
    async def create(self, name: str, owner: str, members: list[str]) -> str:
        """Creates a group chat of `members` owned by `owner`; its chat id."""
        ...


REFUSALS = {
    GroupChatProblem.TOO_FEW_MEMBERS: N_(
        "WeCom refused the group (error %(code)s): a group chat needs 2 to 500 members."
    ),
    GroupChatProblem.UNKNOWN_MEMBER: N_(
        "WeCom refused the group (error %(code)s): a linked userid is not in the WeCom address "
        "book. Check the members' WeCom links."
    ),
    GroupChatProblem.NOT_ALLOWED: N_(
        "WeCom refused the group (error %(code)s): only an app whose visible range is the whole "
        "corp (the root department) may create group chats."
    ),
    GroupChatProblem.BUSY: N_("WeCom is busy (error %(code)s); try again in a minute."),
    GroupChatProblem.UNREACHABLE: N_("WeCom cannot be reached (%(detail)s); try again later."),
    GroupChatProblem.OTHER: N_("WeCom refused the group (error %(code)s: %(detail)s)."),
}


@dataclass(frozen=True)
class BoundChat:
    binding_id: int
    chat_id: str  # WeCom's chatid, without the address prefix
    kind: ChatKind
    target: str  # the office's or the area's name; "" for the county's supervisors
    members: tuple[str, ...] = ()  # the userids of a group created here, the owner first


def wecom_chat_id(text: str) -> str:
    """A chat id as typed or pasted (with or without `appchat:`), checked."""
    chat_id = text.strip().removeprefix(APPCHAT)
    if not WECOM_CHAT_ID.fullmatch(chat_id):
        raise InvalidInput(N_("A WeCom chat id has 1-32 letters and digits."))
    return chat_id


def chat_target(
    casework: Casework, kind: ChatKind, department_id: int | None, area_id: int | None
) -> tuple[int | None, int | None]:
    """The office, or the area (None: the county), a group chat of this kind is bound to."""
    catalog = casework.catalog
    if kind is ChatKind.OFFICE:
        if department_id is None:
            raise InvalidInput(N_("Choose the office the chat is for."))
        if department_id not in catalog.departments:
            raise InvalidInput(N_("Office %(id)s does not exist."), id=department_id)
        return department_id, None
    if area_id is not None and area_id not in catalog.areas:
        raise InvalidInput(N_("Area %(id)s does not exist."), id=area_id)
    if area_id is not None and catalog.areas[area_id].level is AreaLevel.COUNTY:
        area_id = None  # the county's supervisors are those without an area
    return None, area_id


class ChatAdmin:
    def __init__(self, casework: Casework, group_chats: GroupChats | None = None) -> None:
        self.casework = casework
        self.group_chats = group_chats

    # -- a person's WeCom account -----------------------------------------------------

    async def link_wecom(self, admin: Actor, person_id: int, userid: str, remote: str) -> bool:
        """Links the person to the WeCom userid, replacing the person's earlier one; a userid
        linked to someone else is refused (unlink it there first). False when the link was
        there already (nothing changes)."""
        require_admin(admin)
        userid = userid.strip()
        if not WECOM_USERID.fullmatch(userid):
            raise InvalidInput(N_("A WeCom userid has 1-64 letters, digits, '_', '-', '.' or '@'."))
        now = self.casework.clock()
        async with self.casework.sessions() as session, session.begin():
            person = await _person(session, person_id)
            holder = await session.scalar(
                select(Person)
                .join(ChatIdentity, ChatIdentity.person_id == Person.id)
                .where(ChatIdentity.channel == WECOM, ChatIdentity.external_id == userid)
            )
            if holder is not None and holder.id != person.id:
                raise InvalidInput(
                    N_(
                        "The WeCom userid %(userid)s is linked to %(name)s (id %(id)s) already; "
                        "remove that link first."
                    ),
                    userid=userid,
                    name=holder.name,
                    id=holder.id,
                )
            if holder is not None:
                return False
            previous = await _wecom_identity(session, person.id)
            if previous is not None:
                await session.delete(previous)
                await session.flush()
            session.add(
                ChatIdentity(person_id=person.id, channel=WECOM, external_id=userid, created_at=now)
            )
            detail: dict[str, Any] = {"person_id": person.id, "userid": userid}
            if previous is not None:
                detail["previous"] = previous.external_id
            _record(session, now, AuditAction.WECOM_LINKED, admin, remote, detail)
            return True

    async def unlink_wecom(self, admin: Actor, person_id: int, remote: str) -> str:
        """Removes the person's WeCom link; the userid it had."""
        require_admin(admin)
        now = self.casework.clock()
        async with self.casework.sessions() as session, session.begin():
            person = await _person(session, person_id)
            identity = await _wecom_identity(session, person.id)
            if identity is None:
                raise InvalidInput(N_("%(name)s has no WeCom link."), name=person.name)
            await session.delete(identity)
            detail = {"person_id": person.id, "userid": identity.external_id}
            _record(session, now, AuditAction.WECOM_UNLINKED, admin, remote, detail)
            return identity.external_id

    # -- WeCom group chats ------------------------------------------------------------

    async def create_office_group(self, admin: Actor, department_id: int, remote: str) -> BoundChat:
        """Creates a WeCom group chat of the office's members linked to WeCom (the office head
        first, and owner) named after the office, and binds it to the office."""
        require_admin(admin)
        if self.group_chats is None:
            raise InvalidInput(
                N_(
                    "WeCom is not configured here, so a group chat cannot be created; bind one "
                    "the app made (appchat/create) by its chat id."
                )
            )
        chat_target(self.casework, ChatKind.OFFICE, department_id, None)
        async with self.casework.sessions() as session:
            office = await session.get(Department, department_id)
            assert office is not None  # the catalog knows it
            members = list(
                (
                    await session.scalars(
                        select(ChatIdentity.external_id)
                        .join(Person, Person.id == ChatIdentity.person_id)
                        .where(
                            ChatIdentity.channel == WECOM,
                            Person.department_id == department_id,
                            Person.active.is_(True),
                        )
                        .order_by(Person.is_head.desc(), Person.id)
                    )
                ).all()
            )
        if len(members) < MIN_GROUP_MEMBERS:
            raise InvalidInput(
                N_(
                    "%(office)s has %(count)d member(s) linked to WeCom; a WeCom group chat "
                    "needs at least 2. Link them on the people page first."
                ),
                office=office.name,
                count=len(members),
            )
        name = office.name[:MAX_GROUP_NAME]
        try:
            chat_id = await self.group_chats.create(name, members[0], members)
        except GroupChatRefused as exc:
            raise InvalidInput(REFUSALS[exc.problem], code=exc.code, detail=exc.detail) from exc
        now = self.casework.clock()
        async with self.casework.sessions() as session, session.begin():
            binding = await _bind(session, chat_id, ChatKind.OFFICE, department_id, None, name)
            detail = {
                "binding_id": binding.id,
                "chat_id": chat_id,
                "department_id": department_id,
                "owner": members[0],
                "members": members,
            }
            _record(session, now, AuditAction.CHAT_CREATED, admin, remote, detail)
        return BoundChat(binding.id, chat_id, ChatKind.OFFICE, office.name, tuple(members))

    async def bind_wecom_group(
        self,
        admin: Actor,
        chat_id: str,
        kind: ChatKind,
        remote: str,
        department_id: int | None = None,
        area_id: int | None = None,
        title: str = "",
    ) -> BoundChat:
        """Binds an existing WeCom group chat (made by this app with `appchat/create`) to an
        office or to the supervisors of an area; a chat bound before is bound anew."""
        require_admin(admin)
        chat_id = wecom_chat_id(chat_id)
        department_id, area_id = chat_target(self.casework, kind, department_id, area_id)
        title = title.strip()[:255]
        now = self.casework.clock()
        async with self.casework.sessions() as session, session.begin():
            binding = await _bind(session, chat_id, kind, department_id, area_id, title)
            detail = {
                "binding_id": binding.id,
                "chat_id": chat_id,
                "kind": kind.value,
                "department_id": department_id,
                "area_id": area_id,
            }
            _record(session, now, AuditAction.CHAT_BOUND, admin, remote, detail)
        return BoundChat(binding.id, chat_id, kind, self._target_name(binding))

    async def unbind(self, admin: Actor, binding_id: int, remote: str) -> None:
        """The chat hears nothing more; an office's members are told one by one instead."""
        require_admin(admin)
        async with self.casework.sessions() as session, session.begin():
            binding = await session.get(ChatBinding, binding_id)
            if binding is None:
                raise NotFound(N_("Chat binding %(id)s does not exist."), id=binding_id)
            await self._unbind(session, binding, admin, remote)

    async def unbind_wecom_group(self, admin: Actor, chat_id: str, remote: str) -> BoundChat:
        require_admin(admin)
        chat_id = wecom_chat_id(chat_id)
        async with self.casework.sessions() as session, session.begin():
            binding = await session.scalar(
                select(ChatBinding).where(
                    ChatBinding.channel == WECOM, ChatBinding.chat_id == APPCHAT + chat_id
                )
            )
            if binding is None:
                raise NotFound(N_("The WeCom chat %(chat)s is not bound."), chat=chat_id)
            await self._unbind(session, binding, admin, remote)
        return BoundChat(binding.id, chat_id, binding.kind, self._target_name(binding))

    async def _unbind(
        self, session: AsyncSession, binding: ChatBinding, admin: Actor, remote: str
    ) -> None:
        await session.delete(binding)
        detail = {
            "binding_id": binding.id,
            "channel": binding.channel,
            "chat_id": binding.chat_id,
            "kind": binding.kind.value,
            "department_id": binding.department_id,
            "area_id": binding.area_id,
        }
        _record(session, self.casework.clock(), AuditAction.CHAT_UNBOUND, admin, remote, detail)

    def _target_name(self, binding: ChatBinding) -> str:
        catalog = self.casework.catalog
        if binding.kind is ChatKind.OFFICE:
            return catalog.department_name(binding.department_id)
        return catalog.area_name(binding.area_id)


async def _person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(N_("Person %(id)s does not exist."), id=person_id)
    return person


async def _wecom_identity(session: AsyncSession, person_id: int) -> ChatIdentity | None:
    return await session.scalar(
        select(ChatIdentity).where(
            ChatIdentity.channel == WECOM, ChatIdentity.person_id == person_id
        )
    )


async def _bind(
    session: AsyncSession,
    chat_id: str,
    kind: ChatKind,
    department_id: int | None,
    area_id: int | None,
    title: str,
) -> ChatBinding:
    address = APPCHAT + chat_id
    binding = await session.scalar(
        select(ChatBinding).where(ChatBinding.channel == WECOM, ChatBinding.chat_id == address)
    ) or ChatBinding(channel=WECOM, chat_id=address)
    binding.kind, binding.title = kind, title
    binding.department_id, binding.area_id = department_id, area_id
    session.add(binding)
    await session.flush()
    return binding


def _record(
    session: AsyncSession,
    now: datetime,
    action: AuditAction,
    admin: Actor,
    remote: str,
    detail: dict[str, Any],
) -> None:
    """An admin in the console is known by id; an operator at the command line by name."""
    name = "" if admin.person_id is not None else admin.name
    audit(session, now, action, admin.person_id, name, remote, detail)
