"""Each role's main path in real Chromium, at a laptop's and a phone's width: the page is
photographed and audited — nothing wider than the screen, no two controls on top of each other —
and checked for accessibility with axe-core (from npm)."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from models.enums import CaseSource
from tests.dispatch.supervision_helpers import closed_case
from tests.dispatch.test_scoring import fixture as scoring_fixture
from tests.dispatch.world import World
from tests.web.conftest import CHROMIUM, PASSWORD

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parents[2] / "build" / "screenshots"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent")
WIDTHS = {"laptop": (1366, 860), "phone": (390, 844)}

# Finds what a broken layout looks like from the user's side: the page scrolls sideways, or a
# control covers another. Tables scroll inside their own box by design; maps and charts draw
# their own overlapping layers.
LAYOUT_AUDIT = """
() => {
  const problems = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1)
    problems.push(`page is ${document.documentElement.scrollWidth}px wide on a ${width}px screen`);
  const inside = (el, sel) => el.closest(sel) !== null;
  const controls = [...document.querySelectorAll("a, button, input, select, textarea, h1, h2")]
    .filter((el) => !inside(el, ".leaflet-container, .chart, .table-responsive"))
    .filter((el) => !inside(el, ".visually-hidden-focusable") && el.type !== "hidden")
    .map((el) => [el, el.getBoundingClientRect()])
    .filter(([el, r]) => r.width > 0 && r.height > 0)
    .filter(([el]) => getComputedStyle(el).visibility !== "hidden");
  for (const [el, r] of controls) {
    if (r.right > width + 1 || r.left < -1)
      problems.push(`${el.outerHTML.slice(0, 80)} is off-screen (${r.left}..${r.right})`);
  }
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const [a, ra] = controls[i], [b, rb] = controls[j];
      if (a.contains(b) || b.contains(a)) continue;
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 2 && h > 2)
        problems.push(`${a.outerHTML.slice(0, 60)} overlaps ${b.outerHTML.slice(0, 60)}`);
    }
  }
  return problems;
}
"""


@pytest.fixture(params=sorted(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def open_page(
    browser: Browser,
    base_url: str,
    width: str,
) -> AsyncIterator[object]:
    contexts = []

    async def login(username: str) -> Page:
        w, h = WIDTHS[width]
        context = await browser.new_context(viewport={"width": w, "height": h})
        contexts.append(context)
        page = await context.new_page()
        page.csp_violations = []  # type: ignore[attr-defined]
        page.on("console", lambda m: page.csp_violations.append(m.text))  # type: ignore[attr-defined]
        await page.goto(f"{base_url}/console/login")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        return page

    yield login
    for context in contexts:
        await context.close()


async def check(page: Page, name: str, width: str) -> None:
    """Photographs the page and fails on a broken layout or an accessibility violation."""
    await page.wait_for_load_state("networkidle")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    assert await page.evaluate(LAYOUT_AUDIT) == [], name
    assert [m for m in getattr(page, "csp_violations", []) if "Content Security" in m] == []
    # Evaluated through the debugging protocol, which the page's CSP does not govern.
    await page.evaluate(await asyncio.to_thread(AXE.read_text))
    violations = await page.evaluate(
        """async () => (await axe.run(document, {
             runOnly: ["wcag2a", "wcag2aa"],
             rules: { "region": { enabled: false } },
           })).violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`)"""
    )
    assert violations == [], name


async def test_office_member_works_a_case(
    open_page: object,
    world: World,
    base_url: str,
    width: str,
) -> None:
    case = (await world.casework.intake.report(world.draft(description="路边垃圾堆积"))).case
    page = await open_page("hw1")  # type: ignore[operator]
    await expect(page.locator("#count-new")).to_have_text("1")
    await check(page, "inbox", width)
    await page.click(f"text={case.number}")
    await check(page, "case", width)
    await page.click("form[data-action=accept] button")
    await expect(page.locator("#flash")).to_contain_text("已签收")
    await expect(page.locator("#case-status")).to_have_text("已签收")
    note = page.locator("form[data-action=resolve] input[name=note]")
    await note.fill("已清理")
    await page.locator("form[data-action=resolve] button").click()
    await expect(page.locator("#flash")).to_contain_text("核查")
    await expect(page.locator("#case-light")).to_have_text("无亮灯")  # waiting for verification


async def test_dispatcher_files_a_citizen_report(
    open_page: object, world: World, width: str
) -> None:
    case = (await world.casework.intake.report(world.draft(who="", source=CaseSource.CITIZEN))).case
    page = await open_page("dispatcher")  # type: ignore[operator]
    await expect(page.locator("#count-to-file")).to_have_text("1")
    await check(page, "queue", width)
    await page.click(f"#to_file >> text={case.number}")
    await page.locator("form[data-action=file] button").click()
    await expect(page.locator("#flash")).to_contain_text("已立案")
    await page.locator("form[data-action=dispatch] button").click()
    await expect(page.locator("#case-status")).to_have_text("已派遣")


async def test_supervisor_drills_down_from_the_dashboard(
    open_page: object,
    world: World,
    base_url: str,
    width: str,
) -> None:
    late = (await world.casework.intake.report(world.draft())).case
    world.clock.now += timedelta(days=2)
    page = await open_page("sup_county")  # type: ignore[operator]
    await expect(page.locator("#chart-days")).to_have_attribute("data-ready", "1")
    await expect(page.locator("#map")).to_have_attribute("data-ready", "1")
    await expect(page.locator("[data-tile=overdue] .tile-value")).to_have_text("1")
    await check(page, "dashboard", width)
    await page.click("[data-tile=overdue]")
    await expect(page).to_have_url(f"{base_url}/console/cases?light=red")
    await expect(page.locator("#case-list")).to_contain_text(late.number)
    await page.goto(f"{base_url}/console/wall")
    await expect(page.locator("#overdue")).to_contain_text(late.number)
    if width == "laptop":
        await check(page, "wall", width)


async def test_lists_sort_filter_and_keep_the_filter_in_the_url(
    open_page: object, world: World, base_url: str, width: str
) -> None:
    first = (await world.casework.intake.report(world.draft(description="井盖缺失"))).case
    world.clock.now += timedelta(hours=1)
    second = (await world.casework.intake.report(world.draft(description="路灯不亮"))).case
    page = await open_page("admin")  # type: ignore[operator]
    await page.goto(f"{base_url}/console/cases")
    await page.click("th >> text=编号")
    await page.click("th >> text=编号")  # again: newest number first
    rows = page.locator("#case-list tbody tr td:nth-child(2)")
    await expect(rows.first).to_have_text(second.number)
    if await page.locator("#filter-toggle").is_visible():  # phones fold the filters away
        await page.click("#filter-toggle")
        await expect(page.locator("#filter-panel")).to_have_class(re.compile(r"\bshow\b"))
    await page.fill("#f-q", "井盖")
    await page.click("#filters button[type=submit]")
    await expect(page).to_have_url(
        f"{base_url}/console/cases?light=&status=open&category=&office=&area=&q=%E4%BA%95%E7%9B%96&start=&end=&sort=number&dir=desc"
    )
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_text(first.number)
    await check(page, "list", width)


async def test_supervisor_reads_a_case_file_and_the_monthly_assessment(
    open_page: object, world: World, base_url: str, width: str
) -> None:
    await scoring_fixture(world)  # November: two offices ranked, reviews on record
    case = await closed_case(world, description="绿化带内垃圾")
    page = await open_page("sup_comm")  # type: ignore[operator]
    await page.goto(f"{base_url}/console/cases/{case.number}/file")
    await expect(page.locator("#file-number")).to_have_text(case.number or "")
    await expect(page.locator("#map")).to_have_attribute("data-ready", "1")
    await expect(page.locator("#trail")).to_contain_text("绿化带内垃圾")
    if width == "laptop":
        await check(page, "casefile", width)
    await page.goto(f"{base_url}/console/assessment?month=2026-11")
    await expect(page.locator("#ranking-office")).to_contain_text("综合执法局")
    await expect(page.locator("#trend-office")).to_have_attribute("data-ready", "1")
    await expect(page.locator("#trend-office svg")).to_have_count(1)
    if width == "laptop":
        await check(page, "assessment", width)
    # 环卫处's one overdue case, from its figure to the case list
    row = page.locator("#ranking-office tr", has_text="环卫处")
    await row.locator('[data-figure="overdue"]').click()
    await expect(page.locator("#drill-down")).to_contain_text("2026-11")
    await expect(page.locator("#case-list tbody tr")).to_have_count(1)
    if width == "laptop":
        await check(page, "drill-down", width)


async def test_admin_links_a_wecom_userid_and_sees_the_group_chats(
    open_page: object, world: World, base_url: str, width: str
) -> None:
    page = await open_page("admin")  # type: ignore[operator]
    row = page.locator(f"#person-{world.people['hw1']}")
    await row.locator("input[name=userid]").fill("lina")
    await row.locator("input[name=userid] + button").click()
    await expect(page.locator("#notice")).to_have_text("已关联企业微信账号 lina。")
    await expect(row.locator("input[name=userid]")).to_have_value("lina")
    await check(page, "admin-people", width)
    await page.goto(f"{base_url}/console/admin/chats")
    await expect(page.locator("#wecom-off")).to_be_visible()  # no WeCom settings here
    await check(page, "admin-chats", width)
