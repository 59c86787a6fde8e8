"""SQLAlchemy models of the whole domain and the database session setup.

The names below load lazily (PEP 562), so that `models.enums`, plain enumerations shared with
the pure core (`dispatch.core`), can be imported without loading SQLAlchemy."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.access import AuditEvent, LoginThrottle
    from models.base import Base, utcnow
    from models.cases import OPEN_STATUSES, Attachment, Case, CaseChatMessage, CaseEvent
    from models.catalog import GRID_LEVEL, ROUTING_LEVELS, CalendarDay, Category, RoutingRule
    from models.geography import Area, Grid, GridLayer, GridLayerIndex
    from models.inbound import InboundUpdate, WecomCard
    from models.messaging import (
        ChatState,
        ConsoleSession,
        InstanceSecret,
        OutboxMessage,
        ProcessedUpdate,
    )
    from models.organisation import ApiKey, ChatBinding, ChatIdentity, Department, Invite, Person
    from models.supervision import (
        CaseReview,
        CategoryCondition,
        FollowUp,
        RectificationNotice,
        ReviewItem,
        ScoringFormula,
    )

_WHERE = {
    "models.access": ("AuditEvent", "LoginThrottle"),
    "models.base": ("Base", "utcnow"),
    "models.cases": ("OPEN_STATUSES", "Attachment", "Case", "CaseChatMessage", "CaseEvent"),
    "models.catalog": ("GRID_LEVEL", "ROUTING_LEVELS", "CalendarDay", "Category", "RoutingRule"),
    "models.geography": ("Area", "Grid", "GridLayer", "GridLayerIndex"),
    "models.inbound": ("InboundUpdate", "WecomCard"),
    "models.messaging": (
        "ChatState",
        "ConsoleSession",
        "InstanceSecret",
        "OutboxMessage",
        "ProcessedUpdate",
    ),
    "models.organisation": (
        "ApiKey",
        "ChatBinding",
        "ChatIdentity",
        "Department",
        "Invite",
        "Person",
    ),
    "models.supervision": (
        "CaseReview",
        "CategoryCondition",
        "FollowUp",
        "RectificationNotice",
        "ReviewItem",
        "ScoringFormula",
    ),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

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
    "CaseReview",
    "Category",
    "CategoryCondition",
    "ChatBinding",
    "ChatIdentity",
    "ChatState",
    "ConsoleSession",
    "Department",
    "FollowUp",
    "Grid",
    "GridLayer",
    "GridLayerIndex",
    "InboundUpdate",
    "InstanceSecret",
    "Invite",
    "LoginThrottle",
    "OutboxMessage",
    "Person",
    "ProcessedUpdate",
    "RectificationNotice",
    "ReviewItem",
    "RoutingRule",
    "ScoringFormula",
    "WecomCard",
    "utcnow",
]


def __getattr__(name: str) -> Any:
    """Loads every model module at the first use of any (their relationships name each other)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    for exported, module in _MODULE_OF.items():
        globals()[exported] = getattr(import_module(module), exported)
    return globals()[name]
