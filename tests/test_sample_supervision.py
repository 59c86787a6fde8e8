"""The sample county as `make demo` loads it: realistic filing and closing conditions for every
大类, and its closed cases verified against them."""

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from dispatch.casework import Casework
from dispatch.geography import GridDirectory
from dispatch.supervision.monthly_report import monthly_report
from gridgov.app import App, casework_settings
from gridgov.sample.load import load_sample
from gridgov.settings import Settings
from models import Case, CaseEvent, CaseReview, FollowUp, RectificationNotice
from models.db import create_session_factory
from models.enums import CaseSource, ConditionKind


async def sample_app(engine: AsyncEngine, tmp_path: Path) -> App:
    settings = Settings(media_dir=tmp_path / "media")
    sessions = create_session_factory(engine)
    casework = Casework(sessions, GridDirectory(30.0), casework_settings(settings))
    app = App(settings, engine, sessions, casework, {})
    assert await load_sample(app)
    return app


async def test_sample_conditions(engine: AsyncEngine, tmp_path: Path) -> None:
    app = await sample_app(engine, tmp_path)
    catalog = app.casework.catalog
    for category in catalog.categories.values():
        if category.parent_code is None:
            continue
        assert catalog.conditions_for(category, ConditionKind.FILING), category.code
        assert catalog.conditions_for(category, ConditionKind.CLOSING), category.code
    async with app.sessions() as session:
        verified = (
            await session.scalars(select(CaseEvent).where(CaseEvent.action == "verify"))
        ).all()
    assert verified and all(e.payload["conditions"] for e in verified)


async def test_sample_month_of_supervision(engine: AsyncEngine, tmp_path: Path) -> None:
    app = await sample_app(engine, tmp_path)
    now = app.casework.clock()
    async with app.sessions() as session:
        reviews = (await session.scalars(select(CaseReview))).all()
        notices = (await session.scalars(select(RectificationNotice))).all()
        follow_ups = (await session.scalars(select(FollowUp))).all()
        hotline = await session.scalar(
            select(func.count()).select_from(Case).where(Case.source == CaseSource.HOTLINE)
        )
        month = now.astimezone(app.casework.settings.tz).date().replace(day=1)
        report = await monthly_report(
            session, app.casework.catalog, month, app.casework.settings.tz, now
        )
    assert len(reviews) == 6 and sum(not r.passed for r in reviews) == 2
    assert sorted(n.status.value for n in notices) == ["accepted", "open"]
    assert hotline == 6
    answered = [f for f in follow_ups if f.answered_at is not None]
    assert len(answered) == 4 and sum(f.reopened for f in answered) == 1
    assert report.missing == [] and all(r.rows for r in report.rankings)
