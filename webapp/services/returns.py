"""退回: a reviewer returns an application to an earlier step, or to the applicant.

The returning task closes as a step with outcome ``return`` whose data holds the reasons
(``return_reasons``, the 一次告知 list), the comment and where it went: the same shape a
modelled return for correction leaves, so the timeline, the dossier and the "returned"
notification show it alike. The engine moves the token (engine/returns.py).

Who gets the re-opened step: the person who completed it last time, if the diagram names no
assignee and it is park staff's step (they know the case); the enterprise's step goes to the
enterprise as the diagram says. With 直达 (``resume="to_me"``) the step, once resubmitted,
leads straight back to the returning step, which opens for its candidates as the diagram says.

A return from one signer's task of an approval node (会签, 或签, ...) stops the whole node: the
other signers' open tasks close (audited ``task.closed_by_return``) and no result is decided.
A return into such a node, and a 直达 resubmission back to one, opens it afresh for all its
signers, a new round in which earlier decisions do not count.

``"applicant"`` as a target is the procedure's first user task in an applicant lane (补正材料
and the like) from which the diagram leads to the returning step; a procedure without one
offers no return to the applicant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import CannotReturn, EngineError, TaskNotOpen
from webapp.db import Database
from webapp.models import HumanTask, Instance, StepHistory
from webapp.services import approval_modes, audit
from webapp.services.engines import engine_for, version_of
from webapp.services.errors import Conflict, Forbidden, Invalid, NotFound
from webapp.services.loading import task_with_instance
from webapp.services.people import (
    Worker,
    find_worker,
    is_applicant_task,
    may_work,
    waits_for_applicant,
)
from webapp.services.projections import write_snapshot

APPLICANT = "applicant"
RESUME_MODES = ("flow", "to_me")
RETURN_OUTCOME = "return"
USER_TASK_KIND = "UserTask"


def return_targets(session: Session, task: HumanTask) -> list[dict[str, str]]:
    """Where ``task`` may be returned to: the earlier user tasks the application passed
    through (newest first), and ``applicant`` when the procedure has an applicant step."""
    instance = task.instance
    if is_applicant_task(instance.park, task):
        return []  # the enterprise answers its step; only park staff return
    version = version_of(instance.definition)
    engine = engine_for(instance.park)
    found: list[dict[str, str]] = []
    for element_id, name in _passed_steps(session, instance):
        if element_id == task.element_id or element_id in {t["element_id"] for t in found}:
            continue
        human = version.human_tasks.get(element_id)
        if human is not None and waits_for_applicant(
            instance.park, human.lane, human.candidate_groups
        ):
            continue  # offered as the applicant
        if engine.return_problem(version, task.element_id, element_id) is None:
            found.append({"element_id": element_id, "name": name})
    applicant = applicant_step(task)
    if applicant is not None:
        found.append({"element_id": APPLICANT, "name": applicant[1]})
    return found


def _passed_steps(session: Session, instance: Instance) -> list[tuple[str, str]]:
    rows = session.execute(
        select(StepHistory.element_id, StepHistory.name)
        .where(
            StepHistory.instance_id == instance.id,
            StepHistory.kind == USER_TASK_KIND,
            StepHistory.completed_by.is_not(None),
        )
        .order_by(StepHistory.id.desc())
    )
    return [(row.element_id, row.name) for row in rows]


def applicant_step(task: HumanTask) -> tuple[str, str] | None:
    """The applicant's step a return to the applicant re-opens (element id, name), if any."""
    instance = task.instance
    if is_applicant_task(instance.park, task):
        return None
    version = version_of(instance.definition)
    engine = engine_for(instance.park)
    for element_id, human in version.human_tasks.items():
        if (
            waits_for_applicant(instance.park, human.lane, human.candidate_groups)
            and engine.return_problem(version, task.element_id, element_id) is None
        ):
            return element_id, human.name
    return None


def return_task(
    db: Database,
    *,
    task_id: str,
    to: str,
    reasons: Sequence[str],
    resume: str,
    actor: str,
    comment: str | None = None,
    check: Callable[[Session, HumanTask], object] | None = None,
    known_as: Callable[[Any], Worker | None] | None = None,
    then: Callable[[Session, Instance], Any] | None = None,
) -> Any:
    """Return the application of open task ``task_id`` to step ``to`` (or the applicant).

    ``check`` is the caller's visibility rule, run first in the transaction; ``then`` makes
    the answer before the commit (as ``applications.complete_task``).
    """
    if resume not in RESUME_MODES:
        raise Invalid("resume must be flow or to_me", details={"resume": ["is not known"]})
    reasons = [reason.strip() for reason in reasons if reason.strip()]
    if not reasons:
        raise Invalid("give at least one reason", details={"reasons": ["is required"]})
    with db.write() as session:
        task, instance = _lock(session, task_id)
        if check is not None:
            check(session, task)
        if task.status != "open":
            raise Conflict(
                f"“{task.name}” is no longer open; reload to see where the application is"
            )
        park = instance.park
        worker = known_as(park) if known_as is not None else find_worker(session, actor, park)
        if worker is None or not may_work(worker, park, instance, task):
            raise Forbidden("you are not among the people this task is waiting for")
        if is_applicant_task(park, task):
            raise Forbidden("only park staff can return an application")
        target, target_name = _target(session, task, to)
        record = {
            "return_reasons": reasons,
            "comment": comment,
            "return_to": target,
            "resume": resume,
        }
        version = version_of(instance.definition)
        # a return from a signer's task stops the whole approval node (engine/returns.py)
        mode = approval_modes.mode_of(version, task.element_id)
        before = approval_modes.open_before(session, instance, task) if mode else []
        engine = approval_modes.engine_with_people(session, park, version, engine_for(park))
        try:
            snapshot = engine.return_task(
                version,
                instance.state,
                task_id,
                target,
                resume_to_me=resume == "to_me",
                record=record,
                actor=actor,
            )
        except CannotReturn as exc:
            raise Invalid(
                f"cannot return to “{target_name}”: {exc.reason}", details={"to": [exc.reason]}
            ) from exc
        except TaskNotOpen as exc:
            raise Conflict(f"this task is no longer open: {exc.reason}") from exc
        except EngineError as exc:
            raise Invalid(str(exc)) from exc
        now = datetime.now(UTC)
        write_snapshot(session, instance, park, snapshot, actor=actor, now=now)
        if to != APPLICANT:
            _give_back(session, instance, target)
        audit.record(
            session,
            park_id=park.id,
            actor=actor,
            action="task.returned",
            instance_id=instance.id,
            details={
                "task_id": task_id,
                "element_id": task.element_id,
                "name": task.name,
                "to": to,
                "to_name": target_name,
                "reasons": reasons,
                "resume": resume,
                "comment": comment,
            },
        )
        if mode:
            session.flush()  # the return is written first: the closing follows from it
            approval_modes.record_closed(
                session,
                park_id=park.id,
                instance_id=instance.id,
                mode=mode,
                task=task,
                before=before,
                snapshot=snapshot,
                actor=actor,
                now=datetime.now(UTC),
                action="task.closed_by_return",
            )
        return then(session, instance) if then is not None else instance.id


def _lock(session: Session, task_id: str) -> tuple[HumanTask, Instance]:
    found = task_with_instance(session, task_id, lock=True)
    if found is None:
        raise NotFound(f"task {task_id!r}")
    return found


def _target(session: Session, task: HumanTask, to: str) -> tuple[str, str]:
    """The element a return ``to`` goes to, with its name; Invalid if it may not."""
    if to == APPLICANT:
        found = applicant_step(task)
        if found is None:
            raise Invalid(
                "this procedure has no applicant step to return to",
                details={"to": ["no applicant step leads to this step"]},
            )
        return found
    for target in return_targets(session, task):
        if target["element_id"] == to:
            return to, target["name"]
    raise Invalid(
        f"{to!r} is not an earlier step of this application that it can return to",
        details={"to": ["is not an earlier step it can return to"]},
    )


def _give_back(session: Session, instance: Instance, element_id: str) -> None:
    """The re-opened step goes to whoever completed it last time (see the module's notes)."""
    last = session.scalar(
        select(StepHistory.completed_by)
        .where(
            StepHistory.instance_id == instance.id,
            StepHistory.element_id == element_id,
            StepHistory.completed_by.is_not(None),
            StepHistory.outcome.is_distinct_from(RETURN_OUTCOME),
        )
        .order_by(StepHistory.id.desc())
        .limit(1)
    )
    if last is None:
        return
    session.execute(
        update(HumanTask)
        .where(
            HumanTask.instance_id == instance.id,
            HumanTask.element_id == element_id,
            HumanTask.status == "open",
            HumanTask.assignee.is_(None),
        )
        .values(assignee=last)
        .execution_options(synchronize_session=False)
    )


def why_returned(session: Session, task: HumanTask) -> dict[str, Any] | None:
    """Why ``task`` is open, when a return (退回) opened it: who returned it from which step,
    when, with which reasons and comment, and whether the resubmission goes straight back
    (``resume``). A return opens its target in the same change, so the return is the last
    step before the task was created; a task reached again later along the flow shows none."""
    row = session.scalars(
        select(StepHistory)
        .where(
            StepHistory.instance_id == task.instance_id, StepHistory.completed_at <= task.created_at
        )
        .order_by(StepHistory.id.desc())
        .limit(1)
    ).first()
    data = (row.data or {}) if row is not None else {}
    if row is None or row.outcome != RETURN_OUTCOME or data.get("return_to") != task.element_id:
        return None
    return {
        "from": row.name,
        "from_element_id": row.element_id,
        "by": row.completed_by,
        "at": row.completed_at,
        "reasons": list(data.get("return_reasons") or []),
        "comment": data.get("comment"),
        "resume": data.get("resume") or "flow",
    }
