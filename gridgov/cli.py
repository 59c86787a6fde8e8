"""The `gridgov` command line: running the service and what an operator needs around it."""

import argparse
import asyncio
import getpass
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from tqdm import tqdm

from dispatch.chat_admin import ChatAdmin
from dispatch.configuration import apply_catalog
from dispatch.core.actors import Actor
from dispatch.core.errors import DomainError
from dispatch.geography import import_layer, open_cases_in_removed_grids
from dispatch.registration import create_api_key, create_invite
from geo.bulk_csv import locate_csv
from geo.errors import GeoError
from geo.grids import GridFields
from gridgov.app import App
from gridgov.calendar_seed import official_days
from gridgov.calendar_seed import seed as calendar_seed
from gridgov.settings import Settings
from models import Area, Department, Grid, OutboxMessage, Person, utcnow
from models.enums import CaseSource, ChatKind, OutboxStatus, Role
from models.migrate import upgrade

CLI_REMOTE = "cli"  # where an audited change came from


class CliError(Exception):
    """A problem the operator can fix; printed as one line, exit status 1."""


NO_LAYER_YET = "no grid layer imported yet: run `gridgov grids import FILE` first"


@contextmanager
def progress_bar(label: str, **options: Any) -> Iterator[tqdm | None]:
    """A progress bar on stderr when it is a terminal; None when the output goes to a script."""
    if not sys.stderr.isatty():
        yield None
        return
    with tqdm(desc=label, dynamic_ncols=True, **options) as bar:
        yield bar


def _bytes_done(bar: tqdm | None) -> Callable[[int, int], None] | None:
    if bar is None:
        return None

    def show(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return show


def _step_done(bar: tqdm | None) -> Callable[[str], None]:
    def show(step: str) -> None:
        if bar is not None:
            bar.update(1 if bar.desc else 0)
            bar.set_description(step)

    return show


async def _with_app(settings: Settings, work: Callable[[App], Any], refresh: bool = True) -> Any:
    """Runs work with the app; refresh loads the configuration and the grid layer first."""
    app = App.build(settings)
    try:
        if refresh:
            await app.casework.refresh()
        return await work(app)
    finally:
        await app.close()


async def cmd_grids_import(app: App, args: argparse.Namespace) -> None:
    fields = GridFields(
        code=args.code_field,
        name=args.name_field,
        community_code=args.community_code_field,
        community_name=args.community_name_field,
        town_code=args.town_code_field,
        town_name=args.town_name_field,
    )
    from geo.boundaries import read_grid_layer  # geopandas: only this command needs it

    with progress_bar("", total=4, bar_format="{desc:<22}{bar:20}| {elapsed}") as bar:
        step = _step_done(bar)
        step(f"reading {Path(args.file).name}")
        layer = await asyncio.to_thread(read_grid_layer, Path(args.file), fields)
        async with app.sessions() as session, session.begin():
            summary = await import_layer(session, layer, Path(args.file).name, on_step=step)
            stranded = await open_cases_in_removed_grids(session, summary.layer_id)
            step("committing")
        step("done")
    print(
        f"imported layer {summary.layer_id}: {summary.grids} grids from {args.file} "
        f"(CRS {layer.source_crs}); {summary.towns_created} towns and "
        f"{summary.communities_created} communities created; {summary.grids_removed} grids removed"
    )
    if stranded:
        print(f"warning: {stranded} open cases lie in grids that left the layer; re-dispatch them")


async def cmd_locate(app: App, args: argparse.Namespace) -> None:
    """Bulk location reads the stored index alone (main skips the refresh for it); one point
    also needs the names, so it has the full directory."""
    directory = app.casework.directory
    if args.csv:
        if not args.out:
            raise CliError("--csv needs --out OUT")
        async with app.sessions() as session:
            index = await directory.read_index(session)
        if index is None:
            raise CliError(NO_LAYER_YET)
        with progress_bar("locate", unit="B", unit_scale=True, unit_divisor=1024) as bar:
            summary = locate_csv(index, Path(args.csv), Path(args.out), progress=_bytes_done(bar))
        print(
            f"located {summary.rows} points → {args.out}: {summary.inside} inside, "
            f"{summary.tolerance} in the tolerance band, {summary.outside} outside"
        )
        return
    if args.lon is None or args.lat is None:
        raise CliError("give LON LAT, or --csv IN --out OUT")
    if directory.index is None:
        raise CliError(NO_LAYER_YET)
    from geo.coords import to_wgs84

    lon, lat = to_wgs84(args.lon, args.lat, args.crs)
    loc = directory.index.locate(float(lon), float(lat))
    info = directory.info.get(loc.grid_code or "")
    print(f"wgs84: {float(lon):.7f} {float(lat):.7f}")
    print(
        f"status: {loc.status}"
        + (f" ({loc.distance_m:.1f} m from the grid)" if loc.status == "tolerance" else "")
    )
    if info:
        print(f"grid: {loc.grid_code} {info.grid_name}")
        print(f"community: {loc.community_code} {info.community_name}")
        print(f"town: {loc.town_code} {info.town_name}")
    else:
        print("outside the jurisdiction")


async def cmd_sweep(app: App, args: argparse.Namespace) -> None:
    """A past --now catches up and writes; a future one previews, unless --apply (drills).
    Messages are queued for delivery now either way."""
    now = datetime.fromisoformat(args.now) if args.now else utcnow()
    if now.tzinfo is None:
        now = now.replace(tzinfo=app.casework.settings.tz)
    preview = now > utcnow() and not args.apply
    escalation = app.casework.escalation
    fired = await (escalation.preview_sweep(now) if preview else escalation.sweep(now))
    for e in fired:
        subject = f"{e.case_number} notice {e.notice_id}" if e.notice_id else e.case_number
        print(f"{subject}\t{e.rung.name.lower()}\t{e.department}")
    if preview:
        print("preview of a future time: nothing was written (add --apply to write)")
    print(f"{len(fired)} escalations as of {now.isoformat()}")


async def _area(app: App, code: str) -> Area:
    async with app.sessions() as session:
        area = await session.scalar(select(Area).where(Area.code == code))
    if area is None:
        raise CliError(f"unknown area code {code}")
    return area


async def _department(app: App, code: str) -> Department:
    async with app.sessions() as session:
        dept = await session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise CliError(f"unknown department code {code}")
    return dept


async def cmd_invite(app: App, args: argparse.Namespace) -> None:
    now = utcnow()
    dept = await _department(app, args.department) if args.department else None
    area = await _area(app, args.area) if args.area else None
    async with app.sessions() as session, session.begin():
        if args.chat:
            kind = ChatKind(args.chat)
            if kind is ChatKind.OFFICE and dept is None:
                raise CliError("an office chat invite needs --department CODE")
            invite = await create_invite(
                session,
                now,
                chat_kind=kind,
                department_id=dept.id if dept else None,
                area_id=area.id if area else None,
            )
            print(
                f"invite for the {kind.value} chat of "
                f"{dept.name if dept else area.name if area else 'the county'}"
            )
        else:
            if not args.role or not args.name:
                raise CliError("a person invite needs --role ROLE and --name NAME")
            role = Role(args.role)
            if role is Role.OFFICE_MEMBER and dept is None:
                raise CliError("an office member needs --department CODE")
            grids = []
            if args.grid:
                grids = list(
                    (await session.scalars(select(Grid).where(Grid.code.in_(args.grid)))).all()
                )
                missing = set(args.grid) - {g.code for g in grids}
                if missing:
                    raise CliError(f"unknown grid code(s): {', '.join(sorted(missing))}")
            if role is Role.GRID_WORKER and not grids:
                raise CliError("a grid worker needs at least one --grid CODE")
            if args.username and await session.scalar(
                select(Person.id).where(Person.username == args.username)
            ):
                raise CliError(f"the username {args.username} is taken")
            person = Person(
                name=args.name,
                role=role,
                department_id=dept.id if dept else None,
                area_id=area.id if area else None,
                is_head=args.head,
                grids=grids,
                username=args.username,
            )
            session.add(person)
            invite = await create_invite(session, now, person=person)
            print(
                f"invite for {args.name} ({role.value}), valid until {invite.expires_at:%Y-%m-%d}"
            )
    print(invite.code)


async def cmd_apikey(app: App, args: argparse.Namespace) -> None:
    async with app.sessions() as session, session.begin():
        source = CaseSource.HOTLINE if args.hotline else CaseSource.CITIZEN
        key = await create_api_key(session, args.name, utcnow(), source)
    print(f"API key for {args.name} (shown once; only its digest is stored):")
    print(key)


async def cmd_report_month(app: App, args: argparse.Namespace) -> None:
    """The monthly 考核 report (通报) as an .xlsx file, for scheduled jobs."""
    # openpyxl: only this command needs it
    from dispatch.supervision.monthly_report import monthly_report, workbook
    from dispatch.supervision.scoring import parse_month

    month = parse_month(args.month)
    tz = app.casework.settings.tz
    async with app.sessions() as session:
        report = await monthly_report(session, app.casework.catalog, month, tz, utcnow())
    if not report.rankings:
        raise CliError(f"no scoring formula is in force in {month:%Y-%m}")
    out = Path(args.out)
    await asyncio.to_thread(out.write_bytes, workbook(report))
    for ranking in report.rankings:
        print(f"{ranking.level.value}: {len(ranking.rows)} units ranked")
    for level in report.missing:
        print(f"{level.value}: no formula in force")
    print(out)


async def cmd_passwd(app: App, args: argparse.Namespace) -> None:
    """Sets a console password: typed at a prompt, or one line on standard input."""
    from dispatch.accounts import hash_password  # argon2: only this command needs it

    password = getpass.getpass("new password: ") if sys.stdin.isatty() else sys.stdin.readline()
    password = password.rstrip("\n")
    if len(password) < 8:
        raise CliError("the password must have at least 8 characters")
    async with app.sessions() as session, session.begin():
        person = await session.scalar(select(Person).where(Person.username == args.username))
        if person is None:
            raise CliError(f"no person with the username {args.username}")
        person.password_hash = hash_password(password)
    print(f"password set for {args.username}")


async def cmd_outbox(app: App, args: argparse.Namespace) -> None:
    """The messages that could not be delivered (dead letters and unreachable recipients)."""
    async with app.sessions() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status.in_([OutboxStatus.DEAD, OutboxStatus.UNDELIVERABLE]))
                .order_by(OutboxMessage.id.desc())
                .limit(args.limit)
            )
        ).all()
        backlog = await session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.PENDING)
        )
    for m in rows:
        print(
            f"{m.id}\t{m.status.value}\t{m.kind}\t{m.channel}:{m.address}\t"
            f"attempts {m.attempts}\t{(m.last_error or '')[:80]}"
        )
    print(f"{len(rows)} undelivered shown; {backlog} pending")


async def cmd_calendar_seed(app: App, args: argparse.Namespace) -> None:
    """Enters a year's holidays and make-up working days from the `chinesecalendar` package;
    days already in the calendar (an admin's own entries) are left as they are."""
    days = official_days(args.year, app.casework.settings.working_hours.weekdays)
    if not days:
        raise CliError(f"the chinesecalendar package knows no holidays of {args.year}")
    async with app.sessions() as session, session.begin():
        added = await calendar_seed(session, days)
    for day in added:
        print(f"{day.day.isoformat()}\t{day.kind.value}\t{day.name}")
    print(
        f"{len(added)} days added, {len(days) - len(added)} already entered; "
        "review them on the console's calendar page"
    )


def _operator() -> Actor:
    """The operator at the command line, as the audit trail names them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return Actor(person_id=None, name=f"cli:{user}", role=Role.ADMIN)


async def _person(app: App, who: str) -> Person:
    async with app.sessions() as session:
        person = await session.scalar(
            select(Person).where(Person.id == int(who) if who.isdigit() else Person.username == who)
        )
    if person is None:
        raise CliError(f"no person with the id or username {who}")
    return person


async def _office(app: App, ref: str) -> Department:
    """An office by its code, or by its id."""
    async with app.sessions() as session:
        dept = await session.scalar(select(Department).where(Department.code == ref))
        if dept is None and ref.isdigit():
            dept = await session.get(Department, int(ref))
    if dept is None:
        raise CliError(f"no office with the code or id {ref}")
    return dept


async def cmd_wecom(app: App, args: argparse.Namespace) -> None:
    """Links a person to a WeCom userid (the member's account in the address book), or binds
    a WeCom group chat; through the console's own use cases, audited."""
    admin = ChatAdmin(app.casework, app.group_chats())
    if args.wecom_command == "link":
        person = await _person(app, args.person)
        await admin.link_wecom(_operator(), person.id, args.userid, CLI_REMOTE)
        print(f"{person.name} (id {person.id}) is linked to the WeCom userid {args.userid}")
    elif args.wecom_command == "unlink":
        person = await _person(app, args.person)
        userid = await admin.unlink_wecom(_operator(), person.id, CLI_REMOTE)
        print(f"{person.name} (id {person.id}) is no longer linked to the WeCom userid {userid}")
    elif args.group_command == "create":
        if not app.settings.wecom_enabled:
            raise CliError("creating a WeCom group chat needs the GRIDGOV_WECOM_* settings")
        office = await _office(app, args.office)
        chat = await admin.create_office_group(_operator(), office.id, CLI_REMOTE)
        print(f"WeCom group chat of {office.name} created, owner {chat.members[0]}, members:")
        print(", ".join(chat.members))
        print(chat.chat_id)
    elif args.group_command == "bind":
        office = await _office(app, args.office) if args.office else None
        area = await _area(app, args.supervisors) if args.supervisors else None
        chat = await admin.bind_wecom_group(
            _operator(),
            args.chatid,
            ChatKind.OFFICE if office else ChatKind.SUPERVISORS,
            CLI_REMOTE,
            department_id=office.id if office else None,
            area_id=area.id if area else None,
            title=args.title,
        )
        whose = (
            f"office {chat.target}" if office else f"supervisors of {chat.target or 'the county'}"
        )
        print(f"WeCom group chat {chat.chat_id} is bound to the {whose}")
    else:
        chat = await admin.unbind_wecom_group(_operator(), args.chatid, CLI_REMOTE)
        print(f"WeCom group chat {chat.chat_id} is unbound")


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from exc


async def cmd_config_load(app: App, args: argparse.Namespace) -> None:
    data = read_json(Path(args.file))
    async with app.sessions() as session, session.begin():
        await apply_catalog(session, data)
    print(f"configuration loaded from {args.file}")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridgov", description="Case dispatch for grid-based governance"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run on the embedded database with the sample county")
    srv = sub.add_parser("serve", help="run with the GRIDGOV_* configuration")
    srv.add_argument(
        "--workers",
        type=positive_int,
        help="app processes sharing the port (default: one per CPU; 1 on SQLite)",
    )
    db = sub.add_parser("db").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="migrate the database to the newest schema")

    grids = sub.add_parser("grids").add_subparsers(dest="grids_command", required=True)
    imp = grids.add_parser("import", help="import a grid boundary file (replaces the layer)")
    imp.add_argument("file")
    for name, default in asdict(GridFields()).items():
        imp.add_argument(f"--{name.replace('_', '-')}-field", dest=f"{name}_field", default=default)

    loc = sub.add_parser("locate", help="which grid, community and town a point lies in")
    loc.add_argument("lon", type=float, nargs="?")
    loc.add_argument("lat", type=float, nargs="?")
    loc.add_argument("--crs", choices=["wgs84", "gcj02", "bd09"], default="wgs84")
    loc.add_argument("--csv", help="bulk: input CSV with lon,lat[,crs]")
    loc.add_argument("--out", help="bulk: output CSV")

    sw = sub.add_parser("sweep", help="run one escalation sweep")
    sw.add_argument("--now", help="as of this ISO-8601 time (default: now)")
    sw.add_argument(
        "--apply", action="store_true", help="write a sweep as of a future --now (drills, tests)"
    )

    inv = sub.add_parser(
        "invite", help="create a person (or a group chat binding) and its invite code"
    )
    inv.add_argument("--role", choices=[r.value for r in Role])
    inv.add_argument("--name")
    inv.add_argument("--grid", action="append", help="grid code (repeatable) for a grid worker")
    inv.add_argument("--department", help="department code")
    inv.add_argument("--area", help="community, town or county code")
    inv.add_argument("--head", action="store_true", help="the office head (receives escalations)")
    inv.add_argument("--username", help="a console login name (then set it with `gridgov passwd`)")
    inv.add_argument(
        "--chat", choices=[k.value for k in ChatKind], help="invite a group chat instead"
    )

    key = sub.add_parser("apikey").add_subparsers(dest="apikey_command", required=True)
    create = key.add_parser("create", help="create an Open311 API key")
    create.add_argument("name")
    create.add_argument(
        "--hotline", action="store_true", help="the 12345 hotline's key: its cases get that source"
    )

    pw = sub.add_parser("passwd", help="set a person's console password (prompt or stdin)")
    pw.add_argument("username")

    report = sub.add_parser("report").add_subparsers(dest="report_command", required=True)
    month = report.add_parser("month", help="the monthly assessment report (通报) as .xlsx")
    month.add_argument("month", help="YYYY-MM")
    month.add_argument("--out", required=True, help="the .xlsx file to write")

    out = sub.add_parser("outbox", help="list undeliverable and dead-lettered messages")
    out.add_argument("--limit", type=int, default=50)

    cal = sub.add_parser("calendar").add_subparsers(dest="calendar_command", required=True)
    seed = cal.add_parser("seed", help="enter a year's holidays and make-up days (调休)")
    seed.add_argument("year", type=int)

    wecom = sub.add_parser("wecom").add_subparsers(dest="wecom_command", required=True)
    link = wecom.add_parser("link", help="link a person to a WeCom userid")
    link.add_argument("person", help="the person's id or username")
    link.add_argument("userid", help="the member's userid in the WeCom address book")
    unlink = wecom.add_parser("unlink", help="remove a person's link to WeCom")
    unlink.add_argument("person", help="the person's id or username")
    group = wecom.add_parser("group").add_subparsers(dest="group_command", required=True)
    create_group = group.add_parser(
        "create", help="create a WeCom group chat of an office's linked members, and bind it"
    )
    create_group.add_argument("--office", required=True, help="the office's code or id")
    bind = group.add_parser("bind", help="bind an existing WeCom group chat")
    bind.add_argument("chatid", help="the chat id appchat/create gave")
    target = bind.add_mutually_exclusive_group(required=True)
    target.add_argument("--office", help="the office's code or id")
    target.add_argument("--supervisors", metavar="AREA", help="the area code (the county's too)")
    bind.add_argument("--title", default="", help="a name to show in the console")
    unbind = group.add_parser("unbind", help="unbind a WeCom group chat")
    unbind.add_argument("chatid")

    cfg = sub.add_parser("config").add_subparsers(dest="config_command", required=True)
    cfg_load = cfg.add_parser("load", help="load departments, categories, rules, calendar, people")
    cfg_load.add_argument("file")
    return parser


COMMANDS: dict[str, Callable[[App, argparse.Namespace], Any]] = {
    "grids": cmd_grids_import,
    "locate": cmd_locate,
    "sweep": cmd_sweep,
    "invite": cmd_invite,
    "apikey": cmd_apikey,
    "config": cmd_config_load,
    "passwd": cmd_passwd,
    "outbox": cmd_outbox,
    "calendar": cmd_calendar_seed,
    "wecom": cmd_wecom,
    "report": cmd_report_month,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for chatty in ("alembic", "apscheduler", "aiohttp.access"):
        logging.getLogger(chatty).setLevel(logging.INFO if args.verbose else logging.WARNING)
    settings = Settings()
    try:
        if args.command == "demo":
            from gridgov.server import run

            return run(settings, demo=True)
        if args.command == "serve":
            from gridgov.server import default_workers, run

            return run(settings, demo=False, workers=args.workers or default_workers(settings))
        upgrade(settings.database_url)
        if args.command == "db":
            print(f"database at {_safe_url(settings.database_url)} is up to date")
            return 0
        bulk_locate = args.command == "locate" and args.csv
        work = COMMANDS[args.command]
        asyncio.run(_with_app(settings, lambda app: work(app, args), refresh=not bulk_locate))
    except (CliError, GeoError, DomainError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
