"""The monthly report (通报): every level's ranking, and the bottom-ranked units with their
overdue cases named; as an .xlsx workbook (openpyxl) for circulation."""

from dataclasses import dataclass, field
from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.assessment import due_within, overdue_by
from dispatch.catalog import Catalog
from dispatch.supervision.scoring import (
    BOTTOM,
    METRICS,
    Level,
    Ranked,
    Ranking,
    month_range,
    rankings,
)
from models import Case

LEVEL_TITLES = {
    Level.OFFICE: "职能部门",
    Level.COMMUNITY: "社区（村）",
    Level.TOWN: "乡镇（街道）",
    Level.GRID_WORKER: "网格员",
}
METRIC_TITLES = {
    "on_time": "按期结案率",
    "closure": "结案率",
    "no_rework": "一次办结率",
    "accurate_filing": "准确立案率",
    "review_score": "案卷评查得分率",
    "rectification_on_time": "按期整改率",
    "satisfaction": "满意率",
    "valid_reports": "有效上报率",
    "verification_on_time": "按时核查率",
}
OWNER = {
    Level.OFFICE: Case.department_id,
    Level.COMMUNITY: Case.community_id,
    Level.TOWN: Case.town_id,
}
NAMED_CASES = 10


@dataclass(frozen=True)
class OverdueCase:
    number: str
    category: str
    deadline: str
    status: str


@dataclass
class MonthlyReport:
    month: date
    county: str
    rankings: list[Ranking]
    missing: list[Level]  # levels without a formula in force
    bottom: dict[Level, list[tuple[Ranked, list[OverdueCase]]]] = field(default_factory=dict)


async def overdue_cases(
    session: AsyncSession,
    catalog: Catalog,
    level: Level,
    key: int,
    month: date,
    tz: ZoneInfo,
    now: datetime,
) -> list[OverdueCase]:
    """The unit's cases due in the month and not resolved by their deadline."""
    start, end = month_range(month, tz)
    rows = (
        await session.scalars(
            select(Case)
            .where(OWNER[level] == key, due_within(start, end), overdue_by(now))
            .order_by(Case.deadline_at)
            .limit(NAMED_CASES)
        )
    ).all()
    return [
        OverdueCase(
            c.number or "",
            catalog.categories_by_id[c.category_id].name_zh,
            f"{c.deadline_at.astimezone(tz):%Y-%m-%d %H:%M}" if c.deadline_at else "",
            c.status.value,
        )
        for c in rows
    ]


async def monthly_report(
    session: AsyncSession, catalog: Catalog, month: date, tz: ZoneInfo, now: datetime
) -> MonthlyReport:
    county = next((a.name for a in catalog.areas.values() if a.level.value == "county"), "")
    report = MonthlyReport(month, county, [], [])
    found = await rankings(session, catalog, month, tz, now)
    for level in Level:
        if level not in found:
            report.missing.append(level)
            continue
        report.rankings.append(found[level])
        if level in OWNER:
            report.bottom[level] = [
                (row, await overdue_cases(session, catalog, level, row.key, month, tz, now))
                for row in found[level].rows[-BOTTOM:][::-1]
            ]
    return report


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _change(row: Ranked) -> str:
    change = row.rank_change
    if change is None:
        return "新"
    return f"↑{change}" if change > 0 else f"↓{-change}" if change < 0 else "—"


def workbook(report: MonthlyReport) -> bytes:
    """The report as an .xlsx: a summary sheet, one sheet per level, the bottom units."""
    book = Workbook()
    title = f"{report.county}{report.month:%Y年%m月}网格化社会治理考核通报"
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    summary = book.active
    assert summary is not None
    summary.title = "通报"
    summary.append([title])
    summary["A1"].font = Font(bold=True, size=14)
    for ranking_ in report.rankings:
        best = ranking_.rows[0] if ranking_.rows else None
        summary.append(
            [
                LEVEL_TITLES[ranking_.level],
                f"参评 {len(ranking_.rows)} 个",
                f"第一名：{best.name}（{best.score:.2f} 分）" if best else "",
                f"公式自 {ranking_.formula_from:%Y-%m} 起执行",
            ]
        )
    for level in report.missing:
        summary.append([LEVEL_TITLES[level], "本月无生效的考核公式"])
    for ranking_ in report.rankings:
        sheet = book.create_sheet(
            LEVEL_TITLES[ranking_.level].replace("（", "(").replace("）", ")")
        )
        metrics = METRICS[ranking_.level]
        header = [
            "排名",
            "单位",
            "得分",
            "较上月",
            "上月得分",
            *(METRIC_TITLES[m] for m in metrics),
        ]
        if ranking_.level in OWNER:
            header.append("超期案件")
        sheet.append(header)
        for cell in sheet[1]:
            cell.font, cell.fill = bold, head_fill
        for row in ranking_.rows:
            values = [
                row.rank,
                row.name,
                row.score,
                _change(row),
                row.previous_score,
                *(_percent(row.metrics.get(m)) for m in metrics),
            ]
            if ranking_.level in OWNER:
                values.append(row.overdue)
            sheet.append(values)
        sheet.column_dimensions["B"].width = 24
        weights = "；".join(
            f"{METRIC_TITLES[t.metric]} {t.weight:g} 分（目标 {t.target:.0%}）"
            for t in ranking_.terms
        )
        sheet.append([])
        sheet.append(["考核公式", weights])
    bottom = book.create_sheet("排名靠后单位")
    bottom.append(["层级", "排名", "单位", "得分", "超期案件编号", "类别", "期限", "状态"])
    for cell in bottom[1]:
        cell.font, cell.fill = bold, head_fill
    for level, units in report.bottom.items():
        for row, cases in units:
            if not cases:
                bottom.append([LEVEL_TITLES[level], row.rank, row.name, row.score, "无"])
            for c in cases:
                bottom.append(
                    [
                        LEVEL_TITLES[level],
                        row.rank,
                        row.name,
                        row.score,
                        c.number,
                        c.category,
                        c.deadline,
                        c.status,
                    ]
                )
    for sheet in book.worksheets:
        for column in ("A", "C", "D", "E"):
            sheet.column_dimensions[column].width = max(sheet.column_dimensions[column].width, 12)
        sheet["A1"].alignment = Alignment(wrap_text=False)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
