"""Setting up WeCom: the settings (all or none, a 43-character key, secrets never shown)
and `gridgov wecom link` as an operator runs it (more in test_admin)."""

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gridgov.settings import Settings
from models import ChatIdentity, Person
from models.db import create_session_factory
from models.enums import Role
from tests.test_cli import gridgov
from tests.wecom.fake_server import AES_KEY, SECRET

COMPLETE = dict(
    wecom_corp_id="wwcorp",
    wecom_agent_id=1000002,
    wecom_secret=SECRET,
    wecom_token="tok",
    wecom_aes_key=AES_KEY,
)


def test_no_wecom_settings_no_wecom_channel() -> None:
    assert not Settings().wecom_enabled and Settings().wecom_problems() == []
    assert Settings(**COMPLETE).wecom_enabled
    partial = Settings(wecom_corp_id="wwcorp", wecom_token="tok")
    assert not partial.wecom_enabled
    assert partial.wecom_problems() == [
        "GRIDGOV_WECOM_AGENT_ID",
        "GRIDGOV_WECOM_SECRET",
        "GRIDGOV_WECOM_AES_KEY",
    ]


@pytest.mark.parametrize("key", [AES_KEY[:-1], AES_KEY + "=", AES_KEY[:-1] + "!"])
def test_the_aes_key_must_be_43_base64_characters(key: str) -> None:
    with pytest.raises(ValidationError, match="43 characters") as raised:
        Settings(**{**COMPLETE, "wecom_aes_key": key})
    assert key not in str(raised.value)  # the secret is not echoed


def test_secrets_are_not_shown() -> None:
    shown = repr(Settings(**COMPLETE))
    assert SECRET not in shown and AES_KEY not in shown


async def test_wecom_link_binds_a_person_to_a_userid(engine: AsyncEngine, pg_url: str) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        lina = Person(name="李娜", role=Role.OFFICE_MEMBER, username="lina")
        chen = Person(name="陈静", role=Role.OFFICE_MEMBER)
        session.add_all([lina, chen])
    out = gridgov(pg_url, "wecom", "link", "lina", "LiNa")
    assert out.stdout.strip().splitlines()[-1] == (
        f"李娜 (id {lina.id}) is linked to the WeCom userid LiNa"
    )
    gridgov(pg_url, "wecom", "link", str(chen.id), "chenjing")
    gridgov(pg_url, "wecom", "link", str(chen.id), "chenjing2")  # replaces her first link
    async with sessions() as session:
        links = (
            await session.execute(select(ChatIdentity.external_id, ChatIdentity.person_id))
        ).all()
    assert sorted(links) == sorted([("LiNa", lina.id), ("chenjing2", chen.id)])

    for args, error in [
        (("nobody", "x"), "no person with the id or username nobody"),
        (("lina", "has space"), "A WeCom userid has 1-64"),
    ]:
        failed = gridgov(pg_url, "wecom", "link", *args, check=False)
        assert failed.returncode == 1 and error in failed.stderr
