"""A task's own form: what it opens with, what it may take, and the decisions shown beside it.

Every decision is its own. A form opens with its own fields only, blank unless the model
declares a field prefilled (see ``forms.fields``); what earlier steps decided is shown beside
it as context, read-only, with who decided, never as the form's values. What a task submits
is kept on its step-history row (who, when, which fields).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from forms.fields import (
    enterprise_fields,
    fields_of,
    opening_values,
    prefill_names,
    shown_values,
    submittable,
)
from webapp.models import Enterprise, HumanTask, Instance, ProcessDefinition, StepHistory
from webapp.services.engines import engine_for, version_of

EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}}
# what an x-enterprise field may show of the enterprise record
ENTERPRISE_ATTRIBUTES = frozenset({"name", "credit_code"})
# earlier decisions a task's context carries: the latest, however long the application lived
RECENT_DECISIONS = 20


@dataclass(frozen=True)
class Decision:
    """What one finished task submitted, and who submitted it when."""

    task_id: str | None
    element_id: str
    name: str
    completed_by: str
    completed_at: datetime
    outcome: str | None
    data: Mapping[str, Any]
    form: Mapping[str, Any]


def form_of(definition: ProcessDefinition, form_key: str | None) -> dict[str, Any]:
    """The JSON Schema of a form of ``definition`` (an empty form when there is none)."""
    # the runnable version holds the forms already parsed; the row's column is loaded lazily
    schema = version_of(definition).forms.get(form_key) if form_key else None
    return schema if isinstance(schema, dict) else EMPTY_FORM


def task_form(task: HumanTask) -> dict[str, Any]:
    """The task's form."""
    return form_of(task.instance.definition, task.form_key)


def variables_of(task: HumanTask) -> dict[str, Any]:
    """The process variables an open task sees (empty once it is finished)."""
    if task.status != "open":
        return {}
    instance = task.instance
    # a delegation's or an added signature's row sees what the engine task it belongs to sees
    return engine_for(instance.park).task_data(
        version_of(instance.definition), instance.state, task.parent_id or task.id
    )


def submitted(session: Session, task: HumanTask) -> dict[str, Any]:
    """What a finished task submitted (empty while it is open)."""
    data = session.scalar(
        select(StepHistory.data).where(
            StepHistory.instance_id == task.instance_id,
            StepHistory.task_id == task.id,
            StepHistory.completed_by.is_not(None),
        )
    )
    return dict(data) if data else {}


def opening(task: HumanTask, variables: Mapping[str, Any]) -> dict[str, Any]:
    """What the task's form opens with: the fields the model declares prefilled, no more."""
    human = version_of(task.instance.definition).human_tasks.get(task.element_id)
    declared = prefill_names(human.properties) if human is not None else set()
    return opening_values(task_form(task), variables, prefilled=declared)


def form_data(session: Session, task: HumanTask, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the task's form: its opening values while open, then what it submitted."""
    if task.status != "open":
        return submitted(session, task)
    # a task back from its delegate opens with the delegate's answer, for its holder to confirm
    delegation = (task.handoff or {}).get("delegate") or {}
    answered = delegation.get("data") if delegation.get("state") == "resolved" else None
    return {**opening(task, variables), **answered} if answered else opening(task, variables)


def shown(task: HumanTask, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the form's read-only fields (what the process knows of them)."""
    return shown_values(task_form(task), variables)


def takes(task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    """What of ``data`` the task takes: its form's read-only fields are shown, never written."""
    return submittable(task_form(task), data)


def decisions(
    session: Session,
    instance: Instance,
    *,
    before: HumanTask | None = None,
    latest: int | None = None,
) -> list[Decision]:
    """The decisions taken in ``instance`` so far, oldest first (not ``before``'s own); with
    ``latest``, only that many of the newest."""
    stmt = select(StepHistory).where(*_decided(instance, before))
    if latest is None:
        rows = list(session.scalars(stmt.order_by(StepHistory.id)))
    else:
        rows = list(session.scalars(stmt.order_by(StepHistory.id.desc()).limit(latest)))[::-1]
    version = version_of(instance.definition)
    found = []
    for row in rows:
        human = version.human_tasks.get(row.element_id)
        found.append(
            Decision(
                task_id=row.task_id,
                element_id=row.element_id,
                name=row.name,
                completed_by=str(row.completed_by),
                completed_at=row.completed_at,
                outcome=row.outcome,
                data=dict(row.data or {}),
                form=form_of(instance.definition, human.form_key if human else None),
            )
        )
    return found


def _decided(instance: Instance, before: HumanTask | None) -> list[ColumnElement[bool]]:
    where = [
        StepHistory.instance_id == instance.id,
        StepHistory.completed_by.is_not(None),
        StepHistory.data.is_not(None),
    ]
    if before is not None:
        # a step without a task id (a timer's) is never the task's own
        where.append(or_(StepHistory.task_id.is_(None), StepHistory.task_id != before.id))
    return where


def identity(schema: Mapping[str, Any], enterprise: Enterprise) -> dict[str, Any]:
    """The form's enterprise fields the enterprise record knows, with the record's values.

    These are locked: typed by nobody, whatever is posted for them. A field the record does
    not know yet (an enterprise registered without its credit code) is left to the applicant.
    """
    found: dict[str, Any] = {}
    for name, attribute in enterprise_fields(schema).items():
        value = getattr(enterprise, attribute) if attribute in ENTERPRISE_ATTRIBUTES else None
        if value:
            found[name] = value
    return found


def locked(schema: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``schema`` with the fields ``names`` read-only (shown, not typed)."""
    wanted = set(names)
    if not wanted:
        return dict(schema)
    props = {
        name: ({**prop, "readOnly": True} if name in wanted else prop)
        for name, prop in (schema.get("properties") or {}).items()
    }
    return {**schema, "properties": props}


def application_data(
    schema: Mapping[str, Any], data: Mapping[str, Any], enterprise: Enterprise
) -> dict[str, Any]:
    """What an application starts with: the applicant's fields, the record's identity."""
    return {**submittable(schema, data), **identity(schema, enterprise)}


def application_fields(instance: Instance, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The application form's fields as the process holds them now (its summary once the
    task is finished and the variables are no longer at hand)."""
    version = version_of(instance.definition)
    schema = form_of(instance.definition, version.start_form_key)
    source = variables or instance.data_summary
    return {name: source[name] for name in fields_of(schema) if source.get(name) is not None}


def context(session: Session, task: HumanTask, variables: Mapping[str, Any]) -> dict[str, Any]:
    """The read-only facts shown beside a task's form: the application, the values of the
    form's read-only fields, and the latest ``RECENT_DECISIONS`` earlier decisions with who
    took them (``decisions_truncated``: whether earlier ones are left out)."""
    found = decisions(session, task.instance, before=task, latest=RECENT_DECISIONS + 1)
    return {
        "application": application_fields(task.instance, variables),
        "fields": shown(task, variables),
        "decisions": [
            {
                "task_id": d.task_id,
                "element_id": d.element_id,
                "name": d.name,
                "completed_by": d.completed_by,
                "completed_at": d.completed_at,
                "outcome": d.outcome,
                "data": dict(d.data),
            }
            for d in found[-RECENT_DECISIONS:]
        ],
        "decisions_truncated": len(found) > RECENT_DECISIONS,
    }
