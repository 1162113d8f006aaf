"""Writing the audit log: every state change calls ``record`` in its own transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from webapp.models import AuditEvent
from webapp.statements import Prepared


def record(
    session: Session,
    *,
    park_id: str,
    actor: str | None,
    action: str,
    details: Mapping[str, Any],
    instance_id: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session; ``actor`` is a username, None for the system."""
    event = AuditEvent(
        park_id=park_id,
        instance_id=instance_id,
        actor=actor,
        action=action,
        details=dict(details),
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
    )
    session.add(event)
    return event


_INSERT = Prepared(insert(AuditEvent.__table__))  # type: ignore[arg-type]


def append(session: Session, *, park_id: str, actor: str | None, action: str,
           details: Mapping[str, Any], at: datetime, instance_id: str | None = None) -> None:
    """Write one audit event at once, without an object to track (for the busiest paths)."""
    _INSERT.run(session.connection(), {
        "park_id": park_id, "instance_id": instance_id, "at": at, "actor": actor,
        "action": action, "details": dict(details), "before": None, "after": None})
