"""Moving waiting applications to another version of their procedure (instance migration).

A park deploys a new version while applications are under way; a move puts a waiting
application onto the new version with an element mapping (same ids map by default, the
mapping names the new element of a renamed one). The engine checks first and lists what
cannot move (engine/migration.py); a move that can happen is written like any step, the
open task reappearing with the same dates, assignee and creation time, and audited as
``instance.migrated`` with the versions and the mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine import CannotMigrate, MigrationProblem
from webapp.db import Database, lock_instance
from webapp.models import HumanTask, Instance, Job, ProcessDefinition
from webapp.services import audit
from webapp.services.approval_modes import engine_with_people
from webapp.services.engines import engine_for, version_of
from webapp.services.errors import Invalid, NotFound
from webapp.services.projections import write_snapshot

# how many applications one bulk move looks at, at most
MAX_BULK = 500
WAITING = ("active",)


@dataclass(frozen=True)
class Candidate:
    """A waiting application of an older or other version, and why it cannot move (if so)."""

    instance_id: str
    reference: str
    version: int
    waiting_at: tuple[str, ...]
    problems: tuple[dict[str, str], ...]

    @property
    def can_move(self) -> bool:
        return not self.problems


def target_definition(session: Session, park_id: str, key: str, version: int) -> ProcessDefinition:
    """The deployed ``version`` of procedure ``key`` in the park; NotFound otherwise."""
    found = session.scalar(
        select(ProcessDefinition).where(
            ProcessDefinition.park_id == park_id,
            ProcessDefinition.key == key,
            ProcessDefinition.version == version,
        )
    )
    if found is None:
        raise NotFound(f"version {version} of procedure {key!r}")
    return found


def clean_mapping(raw: Any) -> dict[str, str]:
    """A mapping as posted ({"old id": "new id"}); Invalid when it is not one."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()
        for k, v in raw.items()
    ):
        raise Invalid(
            "the mapping must map element ids to element ids",
            details={"mapping": ["must map element ids to element ids"]},
        )
    return {k.strip(): v.strip() for k, v in raw.items()}


def parse_mapping(text: str) -> dict[str, str]:
    """A mapping written one pair a line, ``old = new`` (or ``old -> new``), as a form posts it."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        for sign in ("->", "=", "→"):
            if sign in line:
                old, new = (part.strip() for part in line.split(sign, 1))
                if old and new:
                    found[old] = new
                    break
        else:
            raise Invalid(
                f"line {number} of the mapping is not “old = new”",
                details={"mapping": [f"line {number} is not “old = new”"]},
            )
    return found


def problems_of(
    session: Session, instance: Instance, target: ProcessDefinition, mapping: Mapping[str, str]
) -> list[dict[str, str]]:
    """Why ``instance`` cannot move to ``target`` with ``mapping`` (empty: it can)."""
    ended = _not_movable(instance, target)
    if ended:
        return ended
    park = instance.park
    engine = engine_for(park)
    found = engine.migration_problems(
        version_of(instance.definition), instance.state, version_of(target), mapping
    )
    return [_problem(p) for p in found]


def _not_movable(instance: Instance, target: ProcessDefinition) -> list[dict[str, str]]:
    if target.key != instance.definition.key or target.park_id != instance.park_id:
        return [
            {
                "element_id": target.key,
                "code": "other_procedure",
                "message": "the target is a version of another procedure",
            }
        ]
    if target.id == instance.definition_id:
        return [
            {
                "element_id": target.key,
                "code": "same_version",
                "message": f"the application runs version {target.version} already",
            }
        ]
    if instance.status not in WAITING:
        what = (
            "failed; retry or cancel it first"
            if instance.status == "error"
            else f"is {instance.status}"
        )
        return [
            {"element_id": target.key, "code": "not_waiting", "message": f"the application {what}"}
        ]
    return []


def _problem(problem: MigrationProblem) -> dict[str, str]:
    return {"element_id": problem.element_id, "code": problem.code, "message": problem.message}


def migrate(
    db: Database, *, instance_id: str, version: int, mapping: Mapping[str, str], actor: str
) -> dict[str, Any]:
    """Move one application to ``version``; Invalid (422) listing the problems if it cannot."""
    with db.write() as session:
        instance = lock_instance(session, instance_id)
        target = target_definition(session, instance.park_id, instance.definition.key, version)
        moved, problems = _move(session, instance, target, mapping, actor)
        if problems:
            raise Invalid(
                f"application {instance.reference} cannot move to version "
                f"{version}: " + "; ".join(p["message"] for p in problems),
                details=_by_element(problems),
            )
        return moved


def _by_element(problems: Sequence[dict[str, str]]) -> dict[str, list[str]]:
    """Problems as an error's details: each element with what stops it (field, message)."""
    found: dict[str, list[str]] = {}
    for problem in problems:
        found.setdefault(problem["element_id"], []).append(problem["message"])
    return found


def migrate_many(
    db: Database,
    *,
    park_id: str,
    key: str,
    version: int,
    instance_ids: Sequence[str] | None,
    mapping: Mapping[str, str],
    actor: str,
) -> dict[str, list[dict[str, Any]]]:
    """Move the chosen applications (None: every waiting one of another version) to
    ``version``, each in its own transaction; what moved and what was refused, and why."""
    with db.read() as session:
        target = target_definition(session, park_id, key, version)
        target_id = target.id
        chosen = (
            list(instance_ids)
            if instance_ids is not None
            else [
                c.instance_id
                for c in candidates(session, park_id, key, target, mapping)
                if c.can_move
            ]
        )
    result: dict[str, list[dict[str, Any]]] = {"moved": [], "refused": []}
    for instance_id in chosen[:MAX_BULK]:
        with db.write() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.park_id != park_id:
                result["refused"].append(
                    {
                        "instance_id": instance_id,
                        "reference": None,
                        "problems": [
                            {"element_id": key, "code": "unknown", "message": "no such application"}
                        ],
                    }
                )
                continue
            instance = lock_instance(session, instance_id)
            moved, problems = _move(
                session, instance, session.get_one(ProcessDefinition, target_id), mapping, actor
            )
            if problems:
                result["refused"].append(
                    {
                        "instance_id": instance_id,
                        "reference": instance.reference,
                        "problems": problems,
                    }
                )
            else:
                result["moved"].append(moved)
    return result


def candidates(
    session: Session,
    park_id: str,
    key: str,
    target: ProcessDefinition,
    mapping: Mapping[str, str],
    *,
    limit: int = MAX_BULK,
) -> list[Candidate]:
    """The waiting applications of procedure ``key`` on another version than ``target``,
    oldest first, each with what stops it from moving."""
    rows = session.scalars(
        select(Instance)
        .join(ProcessDefinition, Instance.definition_id == ProcessDefinition.id)
        .where(
            Instance.park_id == park_id,
            ProcessDefinition.key == key,
            Instance.definition_id != target.id,
            Instance.status.in_(("active", "error")),
        )
        .order_by(Instance.started_at, Instance.id)
        .limit(limit)
    ).all()
    found = []
    for instance in rows:
        open_steps = session.scalars(
            select(HumanTask.name).where(
                HumanTask.instance_id == instance.id, HumanTask.status == "open"
            )
        ).all()
        timers = session.scalars(
            select(Job.payload).where(
                Job.instance_id == instance.id, Job.kind == "timer", Job.status == "pending"
            )
        ).all()
        # without an open step, the timer it waits for (an open step's own timers aside)
        waiting = list(open_steps) or [str(p["element_id"]) for p in timers if p.get("element_id")]
        found.append(
            Candidate(
                instance.id,
                instance.reference,
                instance.definition.version,
                tuple(waiting),
                tuple(problems_of(session, instance, target, mapping)),
            )
        )
    return found


def _move(
    session: Session,
    instance: Instance,
    target: ProcessDefinition,
    mapping: Mapping[str, str],
    actor: str,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    problems = _not_movable(instance, target)
    if problems:
        return {}, problems
    park = instance.park
    source = instance.definition
    old_rows = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == "open")
    ).all()
    before = {row.id: (row.element_id, row.assignee, row.created_at) for row in old_rows}
    new_version = version_of(target)
    engine = engine_with_people(session, park, new_version, engine_for(park))
    try:
        snapshot = engine.migrate(
            version_of(source), instance.state, new_version, mapping, actor=actor
        )
    except CannotMigrate as exc:
        return {}, [_problem(p) for p in exc.problems]
    # the instance runs the target from now on (written before the snapshot, which reads it)
    session.execute(
        update(Instance)
        .where(Instance.id == instance.id)
        .values(definition_id=target.id)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(instance, "definition_id", target.id)
    set_committed_value(instance, "definition", target)
    write_snapshot(session, instance, park, snapshot, actor=actor, now=datetime.now(UTC))
    tasks = _carry_rows(session, instance, before, snapshot.open_tasks, mapping)
    details = {
        "key": source.key,
        "from_version": source.version,
        "to_version": target.version,
        "mapping": dict(mapping),
        "tasks": tasks,
        "waiting_at": [t.element_id for t in snapshot.open_tasks]
        + [t.element_id for t in snapshot.timers],
    }
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="instance.migrated",
        instance_id=instance.id,
        details=details,
    )
    return {"instance_id": instance.id, "reference": instance.reference, **details}, []


def _carry_rows(
    session: Session,
    instance: Instance,
    before: dict[str, tuple[str, str | None, datetime]],
    open_tasks: Sequence[Any],
    mapping: Mapping[str, str],
) -> dict[str, str]:
    """The moved tasks keep who holds them and when they opened; old task id -> new id."""
    moved: dict[str, str] = {}
    by_element = {task.element_id: task for task in open_tasks}
    for old_id, (element_id, assignee, created_at) in before.items():
        new = by_element.get(mapping.get(element_id, element_id))
        if new is None:
            continue
        moved[old_id] = new.task_id
        values: dict[str, Any] = {"created_at": created_at}
        if assignee is not None and new.assignee is None:
            values["assignee"] = assignee
        session.execute(
            update(HumanTask)
            .where(HumanTask.id == new.task_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return moved


__all__ = [
    "Candidate",
    "candidates",
    "clean_mapping",
    "migrate",
    "migrate_many",
    "parse_mapping",
    "problems_of",
    "target_definition",
]
