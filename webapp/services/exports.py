"""Exports of a park's applications, tasks, ratings and audit trail as CSV or XLSX.

One row per object, the population and scope of ``webapp.services.stats`` (the audit trail:
the events of the counted applications, the range applying to the events' own time),
headers in the reader's language (zh or en), times in the park's time zone. Rows are read in
batches and written as they come: CSV by a generator, XLSX by XlsxWriter's constant-memory
mode into a temporary file that is then sent in chunks, so a year of a busy park never sits
in memory.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from webapp.models import (
    AuditEvent,
    Enterprise,
    HumanTask,
    Instance,
    ProcessDefinition,
    Rating,
)
from webapp.services.calendars import park_calendar
from webapp.services.ratings import GRADES
from webapp.services.stats import (
    Filters,
    Scope,
    local_midnight,
    population,
    task_conditions,
    task_group,
)

KINDS = ("applications", "tasks", "ratings", "audit")
FORMATS = ("csv", "xlsx")
LANGUAGES = ("zh", "en")
BATCH = 1000
CHUNK = 64 * 1024
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# key -> (中文, English)
HEADERS: dict[str, tuple[str, str]] = {
    "reference": ("办件编号", "Reference"),
    "process_key": ("事项编码", "Procedure key"),
    "procedure": ("事项名称", "Procedure"),
    "version": ("版本", "Version"),
    "enterprise": ("申请企业", "Enterprise"),
    "status": ("状态", "Status"),
    "result": ("办理结果", "Result"),
    "started_at": ("申请时间", "Submitted"),
    "ended_at": ("办结时间", "Completed"),
    "promised_at": ("承诺办结时间", "Promised by"),
    "paused_hours": ("暂停计时（小时）", "Paused (hours)"),
    "on_time": ("按时办结", "On time"),
    "element_id": ("环节编码", "Step id"),
    "step": ("环节名称", "Step"),
    "group": ("部门/小组", "Group"),
    "assignee": ("办理人", "Assignee"),
    "created_at": ("到达时间", "Arrived"),
    "due_at": ("办理期限", "Due"),
    "completed_at": ("完成时间", "Completed"),
    "completed_by": ("完成人", "Completed by"),
    "outcome": ("处理结果", "Outcome"),
    "overdue": ("超期", "Overdue"),
    "grade": ("评价等级", "Grade"),
    "grade_name": ("评价", "Rating"),
    "comment": ("评价内容", "Comment"),
    "rated_at": ("评价时间", "Rated"),
    "at": ("时间", "Time"),
    "actor": ("操作人", "By"),
    "action": ("操作", "Action"),
    "details": ("详情", "Details"),
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "applications": (
        "reference",
        "process_key",
        "procedure",
        "version",
        "enterprise",
        "status",
        "result",
        "started_at",
        "ended_at",
        "promised_at",
        "paused_hours",
        "on_time",
    ),
    "tasks": (
        "reference",
        "procedure",
        "element_id",
        "step",
        "group",
        "assignee",
        "status",
        "created_at",
        "due_at",
        "completed_at",
        "completed_by",
        "outcome",
        "overdue",
    ),
    "ratings": (
        "reference",
        "procedure",
        "enterprise",
        "grade",
        "grade_name",
        "comment",
        "rated_at",
    ),
    "audit": ("at", "reference", "actor", "action", "details"),
}
YES_NO = {"zh": ("是", "否"), "en": ("yes", "no")}


@dataclass(frozen=True)
class Export:
    """What to export, for whom and in which language."""

    kind: str
    scope: Scope
    filters: Filters
    language: str
    now: datetime


def headers(kind: str, language: str) -> list[str]:
    """The column titles of an export in ``language`` (zh or en)."""
    index = LANGUAGES.index(language)
    return [HEADERS[key][index] for key in COLUMNS[kind]]


def filename(export: Export, fmt: str) -> str:
    """The download's name, like ``demo-applications-2026-03-01-2026-03-31.xlsx``."""
    parts = [export.scope.park.slug, export.kind]
    if export.filters.process_key:
        parts.append(export.filters.process_key)
    for day in (export.filters.date_from, export.filters.date_to):
        if day is not None:
            parts.append(day.isoformat())
    return "-".join(parts) + f".{fmt}"


def rows(session: Session, export: Export) -> Iterator[list[Any]]:
    """The export's rows, read from the database in batches."""
    zone = park_calendar(export.scope.park, session).timezone
    build, make = _BUILDERS[export.kind]
    stmt = build(session, export)
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        yield make(row, export, zone)


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _yes_no(value: bool | None, language: str) -> str:
    if value is None:
        return ""
    return YES_NO[language][0 if value else 1]


def _applications(session: Session, export: Export) -> Select[Any]:
    return (
        select(
            Instance.reference,
            ProcessDefinition.key,
            ProcessDefinition.name,
            ProcessDefinition.version,
            Enterprise.name,
            Instance.status,
            Instance.result,
            Instance.started_at,
            Instance.ended_at,
            Instance.promised_at,
            Instance.paused_seconds,
        )
        .join(ProcessDefinition, ProcessDefinition.id == Instance.definition_id)
        .outerjoin(Enterprise, Enterprise.id == Instance.enterprise_id)
        .where(*population(session, export.scope, export.filters))
        .order_by(Instance.started_at, Instance.reference)
    )


def _application_row(row: Any, export: Export, zone: ZoneInfo) -> list[Any]:
    (
        reference,
        key,
        name,
        version,
        enterprise,
        status,
        result,
        started,
        ended,
        promised,
        paused,
    ) = row
    on_time = None
    if status == "completed" and promised is not None and result != "withdrawn":
        on_time = ended is not None and ended <= promised
    elif status in ("active", "error") and promised is not None and promised < export.now:
        on_time = False
    return [
        reference,
        key,
        name,
        version,
        enterprise or "",
        status,
        result or "",
        _local(started, zone),
        _local(ended, zone),
        _local(promised, zone),
        round((paused or 0) / 3600, 1),
        _yes_no(on_time, export.language),
    ]


def _tasks(session: Session, export: Export) -> Select[Any]:
    return (
        select(
            Instance.reference,
            ProcessDefinition.name,
            HumanTask.element_id,
            HumanTask.name,
            task_group(session),
            HumanTask.assignee,
            HumanTask.status,
            HumanTask.created_at,
            HumanTask.due_at,
            HumanTask.completed_at,
            HumanTask.completed_by,
            HumanTask.outcome,
        )
        .select_from(HumanTask)
        .join(Instance, Instance.id == HumanTask.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == Instance.definition_id)
        .where(
            *task_conditions(session, export.scope),
            *population(session, export.scope, export.filters),
        )
        .order_by(HumanTask.created_at, HumanTask.id)
    )


def _task_row(row: Any, export: Export, zone: ZoneInfo) -> list[Any]:
    (
        reference,
        procedure,
        element_id,
        name,
        group,
        assignee,
        status,
        created,
        due,
        completed,
        completed_by,
        outcome,
    ) = row
    overdue = due is not None and (
        (status == "open" and due < export.now) or (completed is not None and completed > due)
    )
    return [
        reference,
        procedure,
        element_id,
        name,
        group or "",
        assignee or "",
        status,
        _local(created, zone),
        _local(due, zone),
        _local(completed, zone),
        completed_by or "",
        outcome or "",
        _yes_no(overdue, export.language),
    ]


def _ratings(session: Session, export: Export) -> Select[Any]:
    return (
        select(
            Instance.reference,
            ProcessDefinition.name,
            Enterprise.name,
            Rating.grade,
            Rating.comment,
            Rating.rated_at,
        )
        .select_from(Rating)
        .join(Instance, Instance.id == Rating.instance_id)
        .join(ProcessDefinition, ProcessDefinition.id == Instance.definition_id)
        .outerjoin(Enterprise, Enterprise.id == Instance.enterprise_id)
        .where(*population(session, export.scope, export.filters))
        .order_by(Rating.rated_at, Rating.instance_id)
    )


def _rating_row(row: Any, export: Export, zone: ZoneInfo) -> list[Any]:
    reference, procedure, enterprise, grade, comment, rated = row
    return [
        reference,
        procedure,
        enterprise or "",
        grade,
        GRADES.get(grade, ""),
        comment or "",
        _local(rated, zone),
    ]


def _audit(session: Session, export: Export) -> Select[Any]:
    # the events of the counted applications; the range is the events' own time
    filters = Filters(None, None, export.filters.process_key, export.filters.definition_ids)
    stmt = (
        select(
            AuditEvent.at,
            Instance.reference,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.details,
        )
        .join(Instance, Instance.id == AuditEvent.instance_id)
        .where(
            AuditEvent.park_id == export.scope.park.id, *population(session, export.scope, filters)
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    calendar = park_calendar(export.scope.park, session)
    if export.filters.date_from is not None:
        stmt = stmt.where(AuditEvent.at >= local_midnight(export.filters.date_from, calendar))
    if export.filters.date_to is not None:
        stmt = stmt.where(
            AuditEvent.at < local_midnight(export.filters.date_to + timedelta(days=1), calendar)
        )
    return stmt


def _audit_row(row: Any, export: Export, zone: ZoneInfo) -> list[Any]:
    at, reference, actor, action, details = row
    return [
        _local(at, zone),
        reference,
        actor or "",
        action,
        json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str),
    ]


_BUILDERS: dict[
    str,
    tuple[Callable[[Session, Export], Select[Any]], Callable[[Any, Export, ZoneInfo], list[Any]]],
] = {
    "applications": (_applications, _application_row),
    "tasks": (_tasks, _task_row),
    "ratings": (_ratings, _rating_row),
    "audit": (_audit, _audit_row),
}


# --- writers ---------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    # a text a spreadsheet would run as a formula is written as text
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_chunks(title: Sequence[str], body: Iterator[list[Any]]) -> Iterator[bytes]:
    """The CSV file (UTF-8 with a byte-order mark, for Excel) a few rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(title)
    for count, row in enumerate(body, 1):
        writer.writerow([_cell(value) for value in row])
        if count % 200 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_chunks(title: Sequence[str], body: Iterator[list[Any]], sheet: str) -> Iterator[bytes]:
    """The XLSX file, written row by row (constant memory) and then read back in chunks."""
    with tempfile.TemporaryFile() as spool:
        workbook = xlsxwriter.Workbook(
            spool, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        worksheet = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True})
        worksheet.write_row(0, 0, list(title), bold)
        for number, row in enumerate(body, 1):
            worksheet.write_row(number, 0, row)
        workbook.close()
        spool.seek(0)
        while chunk := spool.read(CHUNK):
            yield chunk


__all__ = [
    "COLUMNS",
    "FORMATS",
    "HEADERS",
    "KINDS",
    "LANGUAGES",
    "MEDIA_TYPES",
    "Export",
    "csv_chunks",
    "filename",
    "headers",
    "rows",
    "xlsx_chunks",
]
