"""What the task and application pages show of an application: where it is, what happened.

Its summary (the application form's fields), the timeline of finished steps with their
actors, the reasons of every return for correction, the current steps with their holders and
deadlines, the waiting timers, the diagram's marks and the files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import (
    ExternalTask,
    HumanTask,
    Instance,
    Job,
    ProcessDefinition,
    StepHistory,
    User,
)
from webapp.pages import timeline
from webapp.pages.forms_render import display, properties
from webapp.pages.labels import approval_standing
from webapp.services import approval_modes
from webapp.services.attachments import attachments_of
from webapp.services.engines import engine_for, version_of
from webapp.services.history import steps_taken

RETURN = "return"
# what an application's page shows of its past unless asked for all of it
LATEST_STEPS = 20
LATEST_RETURNS = 3


@dataclass(frozen=True)
class ProcessFacts:
    """What the pages read from a procedure's BPMN: its description, start form, names."""

    description: str
    start_form_key: str | None
    names: Mapping[str, str]
    start_lane: str | None = None


@dataclass(frozen=True)
class Step:
    """One finished step of the timeline."""

    element_id: str
    name: str
    kind: str
    lane: str | None
    actor: str | None
    at: datetime
    outcome: str | None
    reasons: list[str] = field(default_factory=list)
    comment: str | None = None
    task_id: str | None = None
    # an approval action from the audit trail (转办, 加签, …; see webapp.pages.timeline): its
    # action name, label and what it says of whom
    action: str | None = None
    label: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class CurrentStep:
    """An open task or a waiting timer: where the application is now."""

    name: str
    holder: str
    due_at: datetime | None
    overdue: bool
    due_soon: bool
    task_id: str | None = None
    applicant: bool = False
    # an approval node's standing (“会签 2/3 已同意”), None for other steps
    approval: str | None = None


def process_facts(definition: ProcessDefinition) -> ProcessFacts:
    """The description, start form and element names of a deployed version, as the engine
    read them from its BPMN (``version_of`` keeps each version parsed once)."""
    version = version_of(definition)
    return ProcessFacts(version.description, version.start_form_key, version.element_names,
                        version.start_lane)


def applicants_start(definition: ProcessDefinition, applicant_lanes: Iterable[str]) -> bool:
    """Whether enterprises start this procedure (its start event is in no lane or theirs)."""
    facts = process_facts(definition)
    if start_schema(definition) is None:
        return False
    return facts.start_lane is None or facts.start_lane in set(applicant_lanes)


def start_schema(definition: ProcessDefinition) -> dict[str, Any] | None:
    """The application form of a procedure, if it has one."""
    # the runnable version knows a form the diagram draws (camunda:formData) as well as a named
    # one, and holds its fields in the order drawn
    version = version_of(definition)
    schema = version.forms.get(version.start_form_key) if version.start_form_key else None
    return schema if isinstance(schema, dict) else None


def summary(definition: ProcessDefinition, data: Mapping[str, Any],
            files: Mapping[str, str]) -> list[tuple[str, str]]:
    """The application form's fields that hold a value, as (label, value) pairs."""
    schema = start_schema(definition)
    if schema is None:
        return []
    rows = []
    for name, prop in properties(schema).items():
        shown = display(prop, data.get(name), files)
        if shown:
            rows.append((str(prop.get("title") or name), shown))
    return rows


def files_of(session: Session, instance_id: str) -> dict[str, str]:
    """The application's files: attachment id -> file name."""
    return {row.id: row.filename for row in attachments_of(session, instance_id)}


@dataclass(frozen=True)
class History:
    """What an application's page shows of its past: the latest steps and returns for
    correction, oldest first, and how many earlier ones are left out."""

    steps: list[Step]
    earlier_steps: int
    returns: list[Step]
    earlier_returns: int


def history(session: Session, instance: Instance, *, everything: bool = False) -> History:
    """The application's latest LATEST_STEPS finished steps (no routing) and LATEST_RETURNS
    returns for correction, or all of them, with the people's names.

    An application returned for correction a hundred times has hundreds of steps: the page
    shows where it stands now and links to the whole story. Changes to one application are
    serialized by its lock, so the ids give the true order even where the clocks of two web
    servers disagree.
    """
    taken = (StepHistory.instance_id == instance.id, steps_taken())
    step_rows, earlier_steps = _latest(session, taken, None if everything else LATEST_STEPS)
    if earlier_steps:
        return_rows, earlier_returns = _latest(
            session, (*taken, StepHistory.outcome == RETURN), LATEST_RETURNS)
    else:  # every step is at hand, and so is every return
        returned = [row for row in step_rows if row.outcome == RETURN]
        return_rows = returned if everything else returned[-LATEST_RETURNS:]
        earlier_returns = len(returned) - len(return_rows)
    names = display_names(session, [r.completed_by for r in (*step_rows, *return_rows)
                                    if r.completed_by])
    starter = None
    if instance.started_by and any(r.completed_by is None and r.kind == "StartEvent"
                                   for r in step_rows):
        starter = session.get(User, instance.started_by)
        if starter is not None:
            names.setdefault(starter.username, starter.display_name)
    steps = {row.id: _step(row, names, starter) for row in step_rows}
    return History(
        steps=_with_actions(session, instance, list(steps.values()), everything=everything,
                            earlier=bool(earlier_steps)),
        earlier_steps=earlier_steps,
        returns=[steps.get(row.id) or _step(row, names, starter) for row in return_rows],
        earlier_returns=earlier_returns)


def _with_actions(session: Session, instance: Instance, steps: list[Step], *,
                  everything: bool, earlier: bool) -> list[Step]:
    """The steps and the latest approval actions of the audit trail, in the order they
    happened; with earlier steps left out, no action older than the first step shown."""
    events = timeline.latest_events(session, instance.id,
                                    limit=None if everything else LATEST_STEPS)
    names = display_names(session, timeline.people_in(events))
    actions = []
    for event in events:
        shown = timeline.describe(event.action, event.actor, event.details, names)
        if shown is None or (earlier and steps and event.at < steps[0].at):
            continue
        actions.append(Step(
            element_id=str(event.details.get("element_id") or ""), name=shown.name or "",
            kind="Action", lane=None, actor=shown.actor, at=event.at, outcome=None,
            reasons=shown.reasons, comment=shown.comment, action=shown.action,
            label=shown.label, note=shown.note))
    # at most LATEST_STEPS of each: bounded however long the application lived. The steps
    # keep the order they were taken in (their ids: a timer's step carries the time it was
    # due, which may read later than a step taken after it); each action goes before the
    # first step recorded after it
    merged: list[Step] = []
    waiting = sorted(actions, key=lambda entry: entry.at)
    for step in timeline.on_behalf(session, steps, display_names):
        while waiting and waiting[0].at < step.at:
            merged.append(waiting.pop(0))
        merged.append(step)
    return merged + waiting


def _latest(session: Session, where: tuple[Any, ...], limit: int | None
            ) -> tuple[list[StepHistory], int]:
    """The last ``limit`` rows matching ``where`` (all without a limit), oldest first, and
    how many come before them."""
    query = select(StepHistory).where(*where)
    if limit is None:
        return list(session.scalars(query.order_by(StepHistory.id))), 0
    rows = list(session.scalars(query.order_by(StepHistory.id.desc()).limit(limit)))[::-1]
    if len(rows) < limit:
        return rows, 0
    total = session.scalar(select(func.count()).select_from(StepHistory).where(*where)) or 0
    return rows, total - len(rows)


def _step(row: StepHistory, names: Mapping[str, str], starter: User | None) -> Step:
    actor = row.completed_by
    if actor is None and row.kind == "StartEvent" and starter is not None:
        actor = starter.username
    data = row.data or {}
    reasons = data.get("return_reasons") if row.outcome == RETURN else None
    comment = data.get("comment")
    return Step(
        task_id=row.task_id,
        element_id=row.element_id, name=row.name, kind=row.kind, lane=row.lane,
        actor=names.get(actor, actor) if actor else None, at=row.completed_at,
        outcome=row.outcome,
        reasons=[str(r) for r in reasons] if isinstance(reasons, list) else [],
        comment=str(comment) if isinstance(comment, str) and comment.strip() else None)


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """username -> display name, for the given usernames."""
    wanted = sorted(set(usernames))
    if not wanted:
        return {}
    rows = session.execute(select(User.username, User.display_name)
                           .where(User.username.in_(wanted))).all()
    return {username: name for username, name in rows}


def open_tasks(session: Session, instance_id: str) -> list[HumanTask]:
    """The application's open tasks, oldest first."""
    return list(session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.status == "open")
        .order_by(HumanTask.created_at, HumanTask.id)))


def waiting_timers(session: Session, instance_id: str) -> list[Job]:
    """The application's pending timer jobs, soonest first."""
    return list(session.scalars(select(Job).where(
        Job.instance_id == instance_id, Job.kind == "timer", Job.status == "pending")
        .order_by(Job.due_at)))


def status_detail(instance: Instance, current: Iterable[CurrentStep]) -> str | None:
    """``with_applicant`` (待补正) while an open task waits for the enterprise, as the API's
    instance view says it."""
    if instance.status == "active" and any(step.applicant and step.task_id for step in current):
        return "with_applicant"
    return None


def current_steps(session: Session, instance: Instance, tasks: list[HumanTask],
                  timers: list[Job], applicant_lanes: Iterable[str]) -> list[CurrentStep]:
    """Where the application is now: its open tasks, or else the timers it waits for."""
    now = datetime.now(UTC)
    lanes = set(applicant_lanes)
    names = display_names(session, [t.assignee for t in tasks if t.assignee])
    standing = approval_modes.progress_of(instance) if tasks else {}
    found = [CurrentStep(
        name=task.name,
        holder=names.get(task.assignee, task.assignee) if task.assignee
        else "、".join(task.candidate_groups or task.candidate_users or ([task.lane] if task.lane
                                                                         else [])),
        due_at=task.due_at, overdue=task.overdue_at(now), due_soon=task.due_soon_at(now),
        task_id=task.id,
        applicant=task.lane in lanes or bool(lanes.intersection(task.candidate_groups)),
        approval=approval_standing(standing[task.element_id])
        if task.element_id in standing else None)
        for task in tasks]
    for step in waiting_external(session, instance):
        found.append(CurrentStep(name=step.name, holder=_("an outside system"), due_at=None,
                                 overdue=False, due_soon=False))
    if not found:
        facts = process_facts(instance.definition)
        for job in timers:
            element = str(job.payload.get("element_id", ""))
            found.append(CurrentStep(name=facts.names.get(element, element), holder="",
                                     due_at=job.due_at, overdue=False, due_soon=False))
    return found


def waiting_external(session: Session, instance: Instance | str) -> list[ExternalTask]:
    """The external tasks (a worker's service task) the application waits at, in order; read
    only when its last snapshot says it waits for some."""
    found = instance if isinstance(instance, Instance) else session.get(Instance, instance)
    if found is None or not (found.waits or {}).get("external"):
        return []
    return list(session.scalars(
        select(ExternalTask).where(ExternalTask.instance_id == found.id,
                                   ExternalTask.status == "open")
        .order_by(ExternalTask.created_at, ExternalTask.id)))


def marks(session: Session, instance_id: str, tasks: list[HumanTask],
          timers: list[Job]) -> dict[str, list[str]]:
    """The diagram's marks: completed, current, overdue and due-soon element ids."""
    now = datetime.now(UTC)
    passed = set(session.scalars(select(StepHistory.element_id).distinct()
                                 .where(StepHistory.instance_id == instance_id)))
    current = {task.element_id for task in tasks}
    current.update(step.element_id for step in waiting_external(session, instance_id))
    if not tasks:
        current.update(str(job.payload.get("element_id", "")) for job in timers)
    return {
        "completed": sorted(passed - current),
        "current": sorted(current),
        "overdue": sorted({t.element_id for t in tasks if t.overdue_at(now)}),
        "due-soon": sorted({t.element_id for t in tasks if t.due_soon_at(now)}),
    }


def granted(instance: Instance) -> list[tuple[str, str]]:
    """What an approved application was granted, as (label, value) pairs: the final data its
    procedure names (the process's ``granted`` property), labelled as the forms that asked
    or showed them; nothing for an application that was not approved."""
    version = version_of(instance.definition)
    if instance.result != "approved" or not version.granted:
        return []
    # the values as the application ended: read once from its final state (it cannot change)
    data = engine_for(instance.park).inspect(version, instance.state).data
    rows = []
    for name in version.granted:
        prop = _declared(version.forms, name)
        shown = display(prop, data.get(name))
        if shown:
            rows.append((str(prop.get("title") or name), shown))
    return rows


def _declared(forms: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The field ``name`` as the forms declare it: where it is asked, with its choices' labels,
    rather than where it is only shown."""
    found: list[Mapping[str, Any]] = []
    for schema in forms.values():
        prop = properties(schema).get(name) if isinstance(schema, Mapping) else None
        if isinstance(prop, Mapping):
            found.append(prop)
    found.sort(key=lambda prop: bool(prop.get("readOnly")))
    return found[0] if found else {}
