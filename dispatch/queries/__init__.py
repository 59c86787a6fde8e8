"""Read queries, by subject: pure SQLAlchemy, never writing. Long lists take an offset and a
limit; what an actor may see is scoped by the actor."""

from dispatch.queries import (
    cases,
    chats,
    configuration,
    outbox,
    people,
    service_requests,
    statistics,
)

__all__ = ["cases", "chats", "configuration", "outbox", "people", "service_requests", "statistics"]
