"""Filing and closing conditions (立案条件 / 结案条件) per category: what a report must meet to be
filed (a void names the one it fails) and what must hold to close a case (each one ticked by
whoever verifies, or the verification fails naming the unmet ones)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.catalog import Catalog
from dispatch.core.errors import N_, InvalidInput, NotFound, PermissionDenied
from models import Case, Category, CategoryCondition
from models.enums import ConditionKind, Role

if TYPE_CHECKING:  # the steps consult the checks above; only the admin use case needs it
    from dispatch.usecases.runtime import Runtime

MAX_CONDITIONS = 20
MAX_TEXT = 300


@dataclass(frozen=True)
class ConditionText:
    text_zh: str
    text_en: str = ""


def closing_check(catalog: Catalog, case: Case, ticked: Sequence[int] | None) -> list[str]:
    """The closing conditions ticked, by their text; refuses the verification if one is not."""
    category = catalog.categories_by_id[case.category_id]
    required = catalog.conditions_for(category, ConditionKind.CLOSING)
    ticked_ids = set(ticked or ())
    unmet = [c.text_zh for c in required if c.id not in ticked_ids]
    if unmet:
        raise InvalidInput(
            N_("Case %(number)s cannot be closed; conditions not met: %(unmet)s."),
            number=case.number,
            unmet="；".join(unmet),
        )
    return [c.text_zh for c in required]


def void_reason(catalog: Catalog, case: Case, condition_id: int | None) -> str | None:
    """The filing condition a voided report fails; required when the category has any."""
    category = catalog.categories_by_id[case.category_id]
    offered = {c.id: c for c in catalog.conditions_for(category, ConditionKind.FILING)}
    if not offered:
        return None
    if condition_id not in offered:
        raise InvalidInput(
            N_("Pick the filing condition that report %(number)s does not meet."),
            number=case.number,
        )
    return offered[condition_id].text_zh


def parse_lines(text: str) -> list[ConditionText]:
    """One condition a line, `中文 | English` (the English part optional)."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        zh, _, en = line.partition("|")
        found.append(ConditionText(zh.strip(), en.strip()))
    return found


class Conditions:
    def __init__(self, runtime: "Runtime") -> None:
        self.rt = runtime

    async def replace(
        self, person_id: int, category_code: str, kind: ConditionKind, texts: list[ConditionText]
    ) -> None:
        """Sets a category's filing or closing conditions (admins only); reloads the catalog."""
        if category_code not in self.rt.catalog.categories:
            raise NotFound(N_("Unknown category %(code)s."), code=category_code)
        _validate(texts)
        async with self.rt.unit_of_work() as work:
            actor = await self.rt.actor(work.session, person_id)
            if actor.role is not Role.ADMIN:
                raise PermissionDenied(N_("Only administrators change the conditions."))
            await _replace(work.session, category_code, kind, texts)
        await self.rt.refresh()

    async def publish_descriptions(self, person_id: int, category_code: str, allowed: bool) -> None:
        """Whether the public page may show the descriptions of the category's cases."""
        async with self.rt.unit_of_work() as work:
            actor = await self.rt.actor(work.session, person_id)
            if actor.role is not Role.ADMIN:
                raise PermissionDenied(N_("Only administrators change the conditions."))
            category = await work.session.scalar(
                select(Category).where(Category.code == category_code)
            )
            if category is None:
                raise NotFound(N_("Unknown category %(code)s."), code=category_code)
            category.public_description = allowed
        await self.rt.refresh()


def _validate(texts: list[ConditionText]) -> None:
    if len(texts) > MAX_CONDITIONS:
        raise InvalidInput(N_("At most %(max)d conditions per category."), max=MAX_CONDITIONS)
    seen = set()
    for t in texts:
        if not t.text_zh:
            raise InvalidInput(N_("Each condition needs its Chinese text."))
        if len(t.text_zh) > MAX_TEXT or len(t.text_en) > MAX_TEXT:
            raise InvalidInput(N_("A condition is longer than %(max)d characters."), max=MAX_TEXT)
        if t.text_zh in seen:
            raise InvalidInput(N_("The condition “%(text)s” is given twice."), text=t.text_zh)
        seen.add(t.text_zh)


async def _replace(
    session: AsyncSession, category_code: str, kind: ConditionKind, texts: list[ConditionText]
) -> None:
    await session.execute(
        delete(CategoryCondition).where(
            CategoryCondition.category_code == category_code, CategoryCondition.kind == kind
        )
    )
    session.add_all(
        CategoryCondition(
            category_code=category_code,
            kind=kind,
            text_zh=t.text_zh,
            text_en=t.text_en,
            position=n,
        )
        for n, t in enumerate(texts)
    )


async def apply_conditions(
    session: AsyncSession, data: dict[str, dict[str, list[list[str]]]]
) -> int:
    """Loads conditions from configuration data: {category code: {"filing": [[zh, en], ...],
    "closing": [...]}}, replacing what those categories had; in the caller's transaction."""
    count = 0
    for code, kinds in data.items():
        for kind_name, rows in kinds.items():
            texts = [ConditionText(*row) for row in rows]
            _validate(texts)
            await _replace(session, code, ConditionKind(kind_name), texts)
            count += len(texts)
    return count
