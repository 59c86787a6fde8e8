"""SQLAlchemy models of the whole domain and the database session setup."""

from models.access import AuditEvent, LoginThrottle
from models.base import Base, utcnow
from models.cases import OPEN_STATUSES, Attachment, Case, CaseChatMessage, CaseEvent
from models.catalog import GRID_LEVEL, ROUTING_LEVELS, CalendarDay, Category, RoutingRule
from models.geography import Area, Grid, GridLayer
from models.messaging import (
    ChatState,
    ConsoleSession,
    OutboxMessage,
    ProcessedUpdate,
)
from models.organisation import ApiKey, ChatBinding, ChatIdentity, Department, Invite, Person

__all__ = [
    "GRID_LEVEL",
    "OPEN_STATUSES",
    "ROUTING_LEVELS",
    "ApiKey",
    "Area",
    "Attachment",
    "AuditEvent",
    "Base",
    "CalendarDay",
    "Case",
    "CaseChatMessage",
    "CaseEvent",
    "Category",
    "ChatBinding",
    "ChatIdentity",
    "ChatState",
    "ConsoleSession",
    "Department",
    "Grid",
    "GridLayer",
    "Invite",
    "LoginThrottle",
    "OutboxMessage",
    "Person",
    "ProcessedUpdate",
    "RoutingRule",
    "utcnow",
]
