"""An application's finished steps: the latest few for its view, the whole story page by page.

The view of an application answers every completion, so it carries only the latest
``RECENT`` steps and the address of the rest: an application returned for correction three
hundred times answers as fast as a new one. The rest is read oldest first, ``limit`` at a
time, keyed by the row id (changes to one application are serialized by its lock, so the ids
give the true order even where the clocks of two web servers disagree).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, select
from sqlalchemy.orm import Session

from webapp.models import StepHistory

# what the view of an application carries of its past
RECENT = 20

_COLUMNS = (
    StepHistory.id,
    StepHistory.element_id,
    StepHistory.name,
    StepHistory.kind,
    StepHistory.lane,
    StepHistory.completed_by,
    StepHistory.completed_at,
    StepHistory.outcome,
)


def steps_taken() -> ColumnElement[bool]:
    """The history rows of steps somebody (or a timer) took: gateways and the engine's helper
    tasks are routing, left out by the database (a long-lived application has as many of
    them as steps)."""
    return and_(
        ~StepHistory.kind.endswith("Gateway", autoescape=True),
        ~StepHistory.kind.startswith("_", autoescape=True),
    )


@dataclass(frozen=True)
class Recent:
    """The latest steps of an application, oldest first, and whether earlier ones exist."""

    entries: list[dict[str, Any]]
    earlier: bool


def history_path(instance_id: str) -> str:
    """Where the whole history of an application is read, page by page."""
    return f"/api/v1/instances/{instance_id}/history"


# built once: every completion's answer reads the latest steps, and building the statement
# cost more than running it
_TAKEN = select(*_COLUMNS).where(
    StepHistory.instance_id == bindparam("instance_id"), steps_taken()
)
_LATEST = _TAKEN.order_by(StepHistory.id.desc()).limit(bindparam("most"))


def recent(session: Session, instance_id: str, *, limit: int = RECENT) -> Recent:
    """The last ``limit`` steps taken in the application, oldest first."""
    rows = list(session.execute(_LATEST, {"instance_id": instance_id, "most": limit + 1}))
    earlier = len(rows) > limit
    return Recent([entry(row) for row in reversed(rows[:limit])], earlier)


def page(
    session: Session, instance_id: str, *, limit: int, after: tuple[int] | None
) -> tuple[list[dict[str, Any]], tuple[int] | None]:
    """One page of the application's steps, oldest first, and the key that continues it."""
    stmt = _TAKEN if after is None else _TAKEN.where(StepHistory.id > after[0])
    rows = list(
        session.execute(
            stmt.order_by(StepHistory.id).limit(limit + 1), {"instance_id": instance_id}
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return [entry(row) for row in rows], (rows[-1].id,) if more else None


def entry(row: Any) -> dict[str, Any]:
    """One step as the instance view and the history list show it."""
    return {
        "element_id": row.element_id,
        "name": row.name,
        "kind": row.kind,
        "lane": row.lane,
        "completed_by": row.completed_by,
        "completed_at": row.completed_at,
        "outcome": row.outcome,
    }
