"""Enumerations shared by the schema and the domain, stored as plain strings."""

from enum import StrEnum


class AreaLevel(StrEnum):
    COUNTY = "county"
    TOWN = "town"
    COMMUNITY = "community"


class Role(StrEnum):
    GRID_WORKER = "grid_worker"
    OFFICE_MEMBER = "office_member"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class DepartmentKind(StrEnum):
    FUNCTIONAL = "functional"  # 职能部门: 城管执法, 环卫 ...
    AREA_OFFICE = "area_office"  # 属地: a community or town office


class TimeLimitUnit(StrEnum):
    WORK_HOURS = "work_hours"
    WORK_DAYS = "work_days"
    HOURS = "hours"


class ClockStart(StrEnum):
    DISPATCH = "dispatch"
    ACCEPT = "accept"


class CaseSource(StrEnum):
    GRID_WORKER = "grid_worker"
    CITIZEN = "citizen"  # Open311 clients
    CONSOLE = "console"
    HOTLINE = "hotline"  # the 12345 hotline, through its own Open311 API key


class CaseStatus(StrEnum):
    REPORTED = "reported"  # waiting for a dispatcher to file it (citizen reports)
    FILED = "filed"  # 立案, not yet dispatched
    DISPATCHED = "dispatched"  # 派遣, waiting for the office to accept
    ACCEPTED = "accepted"  # 签收, being handled
    RETURNED = "returned"  # 退回, waiting for re-dispatch
    RESOLVED = "resolved"  # 办结, waiting for verification
    CLOSED = "closed"  # 结案
    SUSPENDED = "suspended"  # 挂账
    VOIDED = "voided"  # 作废
    MERGED = "merged"  # duplicate of an earlier open case


class CoordSystem(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


class LocationStatus(StrEnum):
    INSIDE = "inside"
    TOLERANCE = "tolerance"
    OUTSIDE = "outside"


class ChatKind(StrEnum):
    OFFICE = "office"
    SUPERVISORS = "supervisors"


class RecipientKind(StrEnum):
    PERSON = "person"
    OFFICE = "office"
    SUPERVISORS = "supervisors"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after the allowed attempts
    UNDELIVERABLE = "undeliverable"  # the recipient blocked the bot, the chat is gone
    SUPERSEDED = "superseded"  # a newer card for the same case and chat makes it obsolete


class CalendarDayKind(StrEnum):
    HOLIDAY = "holiday"  # a weekday off
    WORKDAY = "workday"  # 调休: a weekend day that is worked


class NoticeStatus(StrEnum):
    OPEN = "open"  # waiting for the office's answer (again, after a send-back)
    ANSWERED = "answered"  # waiting for the supervisor's decision
    ACCEPTED = "accepted"  # the correction is accepted; the notice is closed


class ConditionKind(StrEnum):
    FILING = "filing"  # 立案条件
    CLOSING = "closing"  # 结案条件


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
