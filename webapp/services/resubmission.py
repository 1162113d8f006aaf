"""What the enterprise changed when it resubmitted: a correction round as its reviewer reads it.

The reviewer of a resubmitted application checks the answer to its reasons: the enterprise's
补正说明 and, field by field, what differs from the submission before (old → new), with the
files added, removed or replaced (a file of the same name uploaded again). The first
submission is the start event's step (see ``applications.start_application``); each
correction step holds what that round submitted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from forms.fields import fields_of
from webapp.models import Attachment, Instance, StepHistory
from webapp.services.engines import version_of
from webapp.services.people import applicant_lanes
from webapp.services.taskforms import form_of

NOTE_FIELD = "correction_note"
FILE_WIDGET = "file"
# submissions read per query while looking for what the last one changed
ROUNDS_AT_ONCE = 4


@dataclass(frozen=True)
class Change:
    """One field the resubmission changed: its form title, the value before and after."""

    field: str
    title: str
    old: Any
    new: Any


@dataclass(frozen=True)
class FileChange:
    """One file of a file field: ``added``, ``removed`` or ``replaced`` (same name again)."""

    field: str
    title: str
    filename: str
    change: str
    attachment_id: str | None = None


@dataclass(frozen=True)
class Resubmission:
    """The latest correction round of an application."""

    task_id: str | None
    name: str
    completed_by: str | None
    completed_at: datetime
    note: str | None
    changes: list[Change] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)

    def as_context(self) -> dict[str, Any]:
        """The round as plain data, for a task's ``context``."""
        return {
            "task_id": self.task_id,
            "name": self.name,
            "completed_by": self.completed_by,
            "completed_at": self.completed_at,
            "note": self.note,
            "changes": [
                {"field": c.field, "title": c.title, "old": c.old, "new": c.new}
                for c in self.changes
            ],
            "files": [
                {
                    "field": f.field,
                    "title": f.title,
                    "filename": f.filename,
                    "change": f.change,
                    "attachment_id": f.attachment_id,
                }
                for f in self.files
            ],
        }


def latest(session: Session, instance: Instance) -> Resubmission | None:
    """The application's latest resubmission, or None if it was never returned and resent.

    Only the fields the last round sent can have changed, so the rounds before it are read
    newest first until each of those fields is found (usually in the round just before):
    an application returned for correction three hundred times reads two rounds, not all.
    """
    version = version_of(instance.definition)
    schema = fields_of(form_of(instance.definition, version.start_form_key))
    rounds = _rounds_newest_first(session, instance)
    last = next(rounds, None)
    if last is None or last.kind == "StartEvent":
        return None
    sent = _application_part(last.data, schema)
    before: dict[str, Any] = {}
    earlier = False
    for row in rounds:
        earlier = True
        for name, value in _application_part(row.data, schema).items():
            if name in sent:
                before.setdefault(name, value)
        if before.keys() >= sent.keys():
            break
    if not earlier:
        return None
    changes, files = _compare(schema, before, {**before, **sent})
    note = (last.data or {}).get(NOTE_FIELD)
    return Resubmission(
        task_id=last.task_id,
        name=last.name,
        completed_by=last.completed_by,
        completed_at=last.completed_at,
        note=str(note) if note else None,
        changes=changes,
        files=_named(session, files),
    )


def _rounds_newest_first(session: Session, instance: Instance) -> Iterator[Any]:
    """The submissions of the application, newest first: the start event's step and every
    step the enterprise took, read a few at a time."""
    taken_by_applicant = and_(
        StepHistory.completed_by.is_not(None),
        StepHistory.lane.in_(applicant_lanes(instance.park)),
    )
    stmt = (
        select(
            StepHistory.id,
            StepHistory.task_id,
            StepHistory.name,
            StepHistory.kind,
            StepHistory.completed_by,
            StepHistory.completed_at,
            StepHistory.data,
        )
        .where(
            StepHistory.instance_id == instance.id,
            StepHistory.data.is_not(None),
            or_(StepHistory.kind == "StartEvent", taken_by_applicant),
        )
        .order_by(StepHistory.id.desc())
        .limit(ROUNDS_AT_ONCE)
    )
    below: int | None = None
    while True:
        rows = list(session.execute(stmt if below is None else stmt.where(StepHistory.id < below)))
        yield from rows
        if len(rows) < ROUNDS_AT_ONCE:
            return
        below = rows[-1].id


def _application_part(data: Mapping[str, Any] | None, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in (data or {}).items() if name in schema}


def _compare(
    schema: Mapping[str, Mapping[str, Any]], before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[list[Change], list[FileChange]]:
    changes: list[Change] = []
    files: list[FileChange] = []
    for name, prop in schema.items():
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        title = str(prop.get("title") or name)
        if prop.get("x-widget") == FILE_WIDGET:
            files += _file_changes(name, title, _ids(old), _ids(new))
        else:
            changes.append(Change(field=name, title=title, old=old, new=new))
    return changes, files


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)] if value else []


def _file_changes(name: str, title: str, old: list[str], new: list[str]) -> list[FileChange]:
    # the names are looked up later: an id here stands for its file
    return [FileChange(name, title, item, "removed", item) for item in old if item not in new] + [
        FileChange(name, title, item, "added", item) for item in new if item not in old
    ]


def _named(session: Session, files: list[FileChange]) -> list[FileChange]:
    """The files with their names; a removed file and an added one of the same name in one
    field are one file replaced."""
    ids = [f.attachment_id for f in files if f.attachment_id]
    names = (
        {
            row.id: row.filename
            for row in session.execute(
                select(Attachment.id, Attachment.filename).where(Attachment.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    named = [
        FileChange(
            f.field,
            f.title,
            names.get(f.filename, f.filename),
            f.change,
            f.attachment_id if f.filename in names else None,
        )
        for f in files
    ]
    added = {(f.field, f.filename): f for f in named if f.change == "added"}
    found: list[FileChange] = []
    for item in named:
        if item.change == "removed" and (item.field, item.filename) in added:
            again = added.pop((item.field, item.filename))
            found.append(
                FileChange(item.field, item.title, item.filename, "replaced", again.attachment_id)
            )
        elif item.change == "removed":
            found.append(item)
    return found + list(added.values())
