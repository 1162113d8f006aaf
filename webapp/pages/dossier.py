"""What the task and application pages show of an application: where it is, what happened.

Its summary (the application form's fields), the timeline of finished steps with their
actors, the reasons of every return for correction, the current steps with their holders and
deadlines, the waiting timers, the diagram's marks and the files.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.xmlsafe import parse_xml
from webapp.models import HumanTask, Instance, Job, ProcessDefinition, StepHistory, User
from webapp.pages.forms_render import display, properties
from webapp.services.attachments import attachments_of

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
RETURN = "return"
_facts_lock = threading.Lock()
_facts: OrderedDict[str, ProcessFacts] = OrderedDict()
MAX_FACTS = 256


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


def process_facts(definition: ProcessDefinition) -> ProcessFacts:
    """The description, start form and element names of a deployed version (cached)."""
    key = f"{definition.content_hash}:{definition.key}"
    with _facts_lock:
        found = _facts.get(key)
    if found is not None:
        return found
    found = _read_facts(definition.bpmn_xml, definition.key)
    with _facts_lock:
        _facts[key] = found
        while len(_facts) > MAX_FACTS:
            _facts.popitem(last=False)
    return found


def _read_facts(bpmn_xml: str, key: str) -> ProcessFacts:
    root = parse_xml(bpmn_xml).getroot()
    process = next((p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == key), None)
    if process is None:
        return ProcessFacts("", None, {})
    documentation = process.find(f"{{{BPMN_NS}}}documentation")
    names = {str(e.get("id")): str(e.get("name")) for e in process.iter()
             if isinstance(e.tag, str) and e.get("id") and e.get("name")}
    start = next((e for e in process.iter(f"{{{BPMN_NS}}}startEvent")
                  if e.getparent() is process), None)
    form_key = start.get(f"{{{CAMUNDA_NS}}}formKey") if start is not None else None
    text = _text(documentation) if documentation is not None else ""
    return ProcessFacts(text, form_key, names, _lane_of(process, start))


def _lane_of(process: etree._Element, node: etree._Element | None) -> str | None:
    """The name of the lane a flow node sits in, if the process has lanes."""
    if node is None:
        return None
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        refs = {(ref.text or "").strip() for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef")}
        if node.get("id") in refs and lane.find(f".//{{{BPMN_NS}}}lane") is None:
            return lane.get("name")
    return None


def applicants_start(definition: ProcessDefinition, applicant_lanes: Iterable[str]) -> bool:
    """Whether enterprises start this procedure (its start event is in no lane or theirs)."""
    facts = process_facts(definition)
    if start_schema(definition) is None:
        return False
    return facts.start_lane is None or facts.start_lane in set(applicant_lanes)


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


def start_schema(definition: ProcessDefinition) -> dict[str, Any] | None:
    """The application form of a procedure, if it has one."""
    form_key = process_facts(definition).start_form_key
    schema = definition.forms.get(form_key) if form_key else None
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


def timeline(session: Session, instance: Instance) -> list[Step]:
    """Every finished step (no routing) in the order it was recorded, with the people's names.

    Changes to one application are serialized by its lock, so the ids give the true order
    even where the clocks of two web servers disagree.
    """
    rows = [row for row in session.scalars(
        select(StepHistory).where(StepHistory.instance_id == instance.id)
        .order_by(StepHistory.id))
        if not row.kind.endswith("Gateway") and not row.kind.startswith("_")]
    names = display_names(session, [r.completed_by for r in rows if r.completed_by])
    starter = session.get(User, instance.started_by) if instance.started_by else None
    steps = []
    for row in rows:
        actor = row.completed_by
        if actor is None and row.kind == "StartEvent" and starter is not None:
            actor = starter.username
            names.setdefault(starter.username, starter.display_name)
        data = row.data or {}
        reasons = data.get("return_reasons") if row.outcome == RETURN else None
        comment = data.get("comment")
        steps.append(Step(
            element_id=row.element_id, name=row.name, kind=row.kind, lane=row.lane,
            actor=names.get(actor, actor) if actor else None, at=row.completed_at,
            outcome=row.outcome,
            reasons=[str(r) for r in reasons] if isinstance(reasons, list) else [],
            comment=str(comment) if isinstance(comment, str) and comment.strip() else None))
    return steps


def returns(steps: Iterable[Step]) -> list[Step]:
    """The steps that sent the application back for correction, with their reasons."""
    return [step for step in steps if step.outcome == RETURN]


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


def current_steps(session: Session, instance: Instance, tasks: list[HumanTask],
                  timers: list[Job], applicant_lanes: Iterable[str]) -> list[CurrentStep]:
    """Where the application is now: its open tasks, or else the timers it waits for."""
    now = datetime.now(UTC)
    lanes = set(applicant_lanes)
    names = display_names(session, [t.assignee for t in tasks if t.assignee])
    found = [CurrentStep(
        name=task.name,
        holder=names.get(task.assignee, task.assignee) if task.assignee
        else "、".join(task.candidate_groups or task.candidate_users or ([task.lane] if task.lane
                                                                         else [])),
        due_at=task.due_at, overdue=_overdue(task, now), due_soon=_due_soon(task, now),
        task_id=task.id,
        applicant=task.lane in lanes or bool(lanes.intersection(task.candidate_groups)))
        for task in tasks]
    if not found:
        facts = process_facts(instance.definition)
        for job in timers:
            element = str(job.payload.get("element_id", ""))
            found.append(CurrentStep(name=facts.names.get(element, element), holder="",
                                     due_at=job.due_at, overdue=False, due_soon=False))
    return found


def marks(session: Session, instance_id: str, tasks: list[HumanTask],
          timers: list[Job]) -> dict[str, list[str]]:
    """The diagram's marks: completed, current, overdue and due-soon element ids."""
    now = datetime.now(UTC)
    passed = set(session.scalars(select(StepHistory.element_id).distinct()
                                 .where(StepHistory.instance_id == instance_id)))
    current = {task.element_id for task in tasks}
    if not tasks:
        current.update(str(job.payload.get("element_id", "")) for job in timers)
    return {
        "completed": sorted(passed - current),
        "current": sorted(current),
        "overdue": sorted({t.element_id for t in tasks if _overdue(t, now)}),
        "due-soon": sorted({t.element_id for t in tasks if _due_soon(t, now)}),
    }


def _overdue(task: HumanTask, now: datetime) -> bool:
    return task.due_at is not None and task.due_at < now


def _due_soon(task: HumanTask, now: datetime) -> bool:
    return (not _overdue(task, now) and task.follow_up_at is not None
            and task.follow_up_at <= now)
