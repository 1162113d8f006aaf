"""Hand-offs of an open task: 转办 (transfer), 委派 (delegate), 加签 (add signers), 减签.

The engine knows one task; the people around it live in Parkflow's task table. A delegation
or an added signature is a ``HumanTask`` row of its own (``parent_id`` names the engine
task, ``handoff_kind`` what the row is): it sits in its holder's inbox and is completed with
the task's form like any task, its decision kept as a step of the application. The engine
task keeps in ``handoff`` what it still waits for:

* ``delegate``: ``{"to", "task_id", "state": pending|resolved, "data", "outcome"}``; while
  pending the holder cannot complete; once resolved the holder completes it (the delegate's
  answer shown and offered in the form);
* ``after``: usernames to sign once the holder has decided (their rows open then);
* ``held``: the holder's decision, kept while ``after`` or ``parallel`` signers sign; the
  engine completes the task with it, as the holder, when the last of them has signed.

Signers added ``before`` must all sign before the holder may complete. The engine thus sees
one completion of its task, with the holder's decision, once every required signature is in.
A task without hand-offs has ``handoff`` None, ``parent_id`` None: completing it reads and
writes nothing more than it did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine import FormDataInvalid, TaskNotOpen
from webapp.db import Database, new_id
from webapp.models import HumanTask, Instance, Membership, StepHistory, User
from webapp.services import audit, jobs, notifications, substitutes, taskforms
from webapp.services.accounts import find_user
from webapp.services.engines import engine_for, version_of
from webapp.services.errors import Conflict, Forbidden, Invalid, NotFound
from webapp.services.loading import task_with_instance
from webapp.services.people import find_worker, is_applicant_task, may_work
from webapp.services.projections import write_snapshot

POSITIONS = ("before", "after", "parallel")
SIGNER_KINDS = POSITIONS
# the step-history kinds of a delegate's answer and of an added signature
DELEGATION_STEP, SIGNATURE_STEP = "Delegation", "Signature"
# outcomes that say no: a signer's refusal is recorded with its signature and shown
REFUSALS = frozenset(
    {
        "reject",
        "rejected",
        "refuse",
        "refused",
        "deny",
        "denied",
        "return",
        "disagree",
        "不同意",
        "驳回",
        "退回",
    }
)
MAX_SIGNERS = 20

Then = Callable[[Session, Instance], Any]


# --- the actions --------------------------------------------------------------------------


def transfer_task(
    db: Database,
    *,
    task_id: str,
    username: str,
    actor: str,
    comment: str | None = None,
    then: Then | None = None,
) -> Any:
    """转办: the task is ``username``'s now (or their substitute's); the caller loses it."""
    with db.write() as session:
        task, instance, now = _held(session, task_id, actor)
        _refuse_while_waiting(task, "transfer")
        target = _colleague(session, task, username, actor)
        holder, for_user = _routed(session, task.park_id, target.username, now, actor)
        before = task.assignee
        task.assignee, task.on_behalf_of = holder, for_user
        _record(
            session,
            task,
            actor,
            "task.transferred",
            {"to": holder},
            comment,
            before={"assignee": before},
            after={"assignee": holder},
        )
        _substituted(session, task, for_user, holder)
        _notify(session, instance, "transferred", task, now, actor=actor, comment=comment)
        return _answer(session, instance, then)


def delegate_task(
    db: Database,
    *,
    task_id: str,
    username: str,
    actor: str,
    comment: str | None = None,
    then: Then | None = None,
) -> Any:
    """委派: ``username`` resolves the task, then it comes back to the caller to complete."""
    with db.write() as session:
        task, instance, now = _held(session, task_id, actor)
        _refuse_while_waiting(task, "delegate")
        target = _colleague(session, task, username, actor)
        _claim(task, actor)
        holder, for_user = _routed(session, task.park_id, target.username, now, actor)
        row = _extra_row(session, task, "delegate", holder, for_user, now)
        task.handoff = {
            **(task.handoff or {}),
            "delegate": {"to": holder, "task_id": row.id, "state": "pending"},
        }
        _record(session, task, actor, "task.delegated", {"to": holder}, comment)
        _substituted(session, row, for_user, holder)
        _notify(session, instance, "delegated", row, now, actor=actor, comment=comment)
        return _answer(session, instance, then)


def add_signers(
    db: Database,
    *,
    task_id: str,
    usernames: Sequence[str],
    position: str,
    actor: str,
    comment: str | None = None,
    then: Then | None = None,
) -> Any:
    """加签: ``usernames`` sign before the caller, after the caller, or beside the caller."""
    if position not in POSITIONS:
        raise Invalid(
            f"position must be one of {', '.join(POSITIONS)}",
            details={"position": [f"must be one of {', '.join(POSITIONS)}"]},
        )
    with db.write() as session:
        task, instance, now = _held(session, task_id, actor)
        _refuse_while_waiting(task, "add signers to")
        wanted = _signers_wanted(session, task, usernames, actor)
        _claim(task, actor)
        state = dict(task.handoff or {})
        if position == "after":
            routed = [_routed(session, task.park_id, name, now, actor) for name in wanted]
            state["after"] = [*state.get("after", []), *(holder for holder, _ in routed)]
            state.setdefault("after_for", {}).update(
                {holder: for_user for holder, for_user in routed if for_user}
            )
        else:
            for index, name in enumerate(wanted):
                holder, for_user = _routed(session, task.park_id, name, now, actor)
                # a microsecond apart: the rows keep the order they were named in
                row = _extra_row(
                    session, task, position, holder, for_user, now + timedelta(microseconds=index)
                )
                _substituted(session, row, for_user, holder)
                _notify(session, instance, "signers_added", row, now, actor=actor, comment=comment)
        task.handoff = state
        _record(
            session,
            task,
            actor,
            "task.signers_added",
            {"usernames": wanted, "position": position},
            comment,
        )
        return _answer(session, instance, then)


def remove_signers(
    db: Database,
    *,
    task_id: str,
    usernames: Sequence[str],
    actor: str,
    comment: str | None = None,
    then: Then | None = None,
) -> Any:
    """减签: added signers who have not signed yet no longer sign."""
    with db.write() as session:
        task, instance, now = _held(session, task_id, actor)
        names = _unique_names(usernames)
        rows = _extra_rows(session, task.id)
        state = dict(task.handoff or {})
        pending_after = list(state.get("after", []))
        problems: list[str] = []
        signed = []
        for name in names:
            mine = [
                r
                for r in rows
                if r.handoff_kind in SIGNER_KINDS
                and name in (r.assignee, r.on_behalf_of, r.completed_by)
            ]
            if any(r.status == "completed" for r in mine):
                signed.append(name)
            elif not any(r.status == "open" for r in mine) and name not in pending_after:
                problems.append(f"{name} is not a signer of this task who has yet to sign")
        if signed:
            raise Conflict(f"{', '.join(signed)} already signed; a signature given stays")
        if problems:
            raise Invalid(
                "only added signers who have not signed can be removed",
                details={"usernames": problems},
            )
        for row in rows:
            if (
                row.status == "open"
                and row.handoff_kind in SIGNER_KINDS
                and (row.assignee in names or row.on_behalf_of in names)
            ):
                row.status, row.completed_at = "cancelled", now
        state["after"] = [name for name in pending_after if name not in names]
        task.handoff = state
        _record(session, task, actor, "task.signers_removed", {"usernames": names}, comment)
        session.flush()
        _settle(session, task, instance, now)
        return _answer(session, instance, then)


# --- completing a task with hand-offs -----------------------------------------------------


def has_handoffs(task: HumanTask) -> bool:
    """Whether completing ``task`` is a hand-off's business (no query: the row tells)."""
    return task.parent_id is not None or task.handoff is not None


def complete(
    session: Session, task: HumanTask, instance: Instance, data: Mapping[str, Any], actor: str
) -> bool:
    """Complete ``task`` (locked, open, ``actor`` may work on it) where hand-offs decide.

    True when it is done here: a delegate's answer, a signature, or the holder's decision held
    for the signers still to come. False when nothing holds the engine task back: the caller
    completes it on the engine as usual.
    """
    now = datetime.now(UTC)
    if task.parent_id is not None:
        _complete_extra(session, task, instance, data, actor, now)
        return True
    state = dict(task.handoff or {})
    if state.get("held"):
        raise Conflict(f"you have decided “{task.name}” already; it waits for its signers")
    delegation = state.get("delegate")
    if delegation and delegation.get("state") == "pending":
        raise Conflict(
            f"“{task.name}” is delegated to {delegation['to']} (委派给 "
            f"{delegation['to']} 处理中); it comes back to you once they resolved it"
        )
    rows = _extra_rows(session, task.id)
    before = [r.assignee for r in rows if r.status == "open" and r.handoff_kind == "before"]
    if before:
        raise Conflict(
            f"“{task.name}” waits for the signatures added before yours: "
            f"{', '.join(str(name) for name in before)}"
        )
    parallel = [r for r in rows if r.status == "open" and r.handoff_kind == "parallel"]
    after = list(state.get("after", []))
    if not parallel and not after:
        return False
    taken = _checked(instance, task, data)
    state["held"] = {
        "data": taken,
        "by": actor,
        "at": now.isoformat(),
        "outcome": _outcome(instance, task, taken),
    }
    for index, name in enumerate(after):
        row = _extra_row(
            session,
            task,
            "after",
            name,
            state.get("after_for", {}).get(name),
            now + timedelta(microseconds=index),
        )
        _notify(session, instance, "signers_added", row, now, actor=actor, comment=None)
    state["after"] = []
    task.handoff = state
    return True


def _complete_extra(
    session: Session,
    row: HumanTask,
    instance: Instance,
    data: Mapping[str, Any],
    actor: str,
    now: datetime,
) -> None:
    """A delegate's answer or a signature: kept as a step, then the task may move on."""
    parent = session.get(HumanTask, row.parent_id)
    if parent is None or parent.status != "open":
        raise Conflict(f"“{row.name}” is no longer open (the application moved on)")
    taken = _checked(instance, row, data)
    outcome = _outcome(instance, row, taken)
    row.status, row.completed_at, row.completed_by, row.outcome = ("completed", now, actor, outcome)
    kind = DELEGATION_STEP if row.handoff_kind == "delegate" else SIGNATURE_STEP
    session.execute(
        insert(StepHistory),
        [
            {
                "instance_id": instance.id,
                "task_id": row.id,
                "element_id": row.element_id,
                "name": row.name,
                "kind": kind,
                "lane": row.lane,
                "completed_at": now,
                "completed_by": actor,
                "outcome": outcome,
                "data": taken,
            }
        ],
    )
    comment = taken.get("comment") if isinstance(taken.get("comment"), str) else None
    if row.handoff_kind == "delegate":
        state = dict(parent.handoff or {})
        state["delegate"] = {
            **state.get("delegate", {}),
            "state": "resolved",
            "by": actor,
            "data": taken,
            "outcome": outcome,
        }
        parent.handoff = state
        _record(
            session,
            parent,
            actor,
            "task.delegation_resolved",
            {"to": parent.assignee, "outcome": outcome},
            comment,
        )
        _notify(session, instance, "delegation_resolved", parent, now, actor=actor, comment=comment)
        return
    _record(
        session,
        row,
        actor,
        "task.completed",
        {
            "outcome": outcome,
            "position": row.handoff_kind,
            "signs_for": parent.id,
            "refused": outcome in REFUSALS,
        },
        comment,
    )
    session.flush()
    _settle(session, parent, instance, now)


def _settle(session: Session, task: HumanTask, instance: Instance, now: datetime) -> None:
    """Complete the engine task with its holder's held decision once nobody else must sign."""
    state = task.handoff or {}
    held = state.get("held")
    if held is None or state.get("after"):
        return
    if any(
        r.status == "open" and r.handoff_kind in SIGNER_KINDS for r in _extra_rows(session, task.id)
    ):
        return
    park = instance.park
    try:
        snapshot = engine_for(park).complete_task(
            version_of(instance.definition), instance.state, task.id, held["data"], actor=held["by"]
        )
    except (FormDataInvalid, TaskNotOpen) as exc:
        raise Conflict(f"“{task.name}” can no longer be completed: {exc}") from exc
    task.outcome = held.get("outcome")
    session.flush()
    write_snapshot(session, instance, park, snapshot, actor=held["by"], now=now)
    audit.record(
        session,
        park_id=park.id,
        actor=held["by"],
        action="task.completed",
        instance_id=instance.id,
        details={
            "task_id": task.id,
            "element_id": task.element_id,
            "name": task.name,
            "outcome": held.get("outcome"),
            "decided_at": held.get("at"),
        },
    )


# --- what the task pages show -------------------------------------------------------------


def status_of(session: Session, task: HumanTask) -> dict[str, Any] | None:
    """Where a task's hand-offs stand: its delegation, signers (with their decisions) and
    whether the holder's decision waits for them; None for a task without any."""
    engine_task = session.get(HumanTask, task.parent_id) if task.parent_id else task
    if engine_task is None or not has_handoffs(engine_task):
        return None
    state = engine_task.handoff or {}
    rows = _extra_rows(session, engine_task.id)
    signers = [
        {
            "username": r.assignee or r.completed_by,
            "on_behalf_of": r.on_behalf_of,
            "position": r.handoff_kind,
            "status": r.status,
            "outcome": r.outcome,
            "refused": r.outcome in REFUSALS,
            "task_id": r.id,
        }
        for r in rows
        if r.handoff_kind in SIGNER_KINDS and r.status != "cancelled"
    ]
    signers += [
        {
            "username": name,
            "on_behalf_of": state.get("after_for", {}).get(name),
            "position": "after",
            "status": "waiting",
            "outcome": None,
            "refused": False,
            "task_id": None,
        }
        for name in state.get("after", [])
    ]
    delegation = state.get("delegate")
    held = state.get("held")
    return {
        "task_id": engine_task.id,
        "holder": engine_task.assignee,
        "delegation": {
            "to": delegation["to"],
            "state": delegation["state"],
            "outcome": delegation.get("outcome"),
        }
        if delegation
        else None,
        "signers": signers,
        "held": {"by": held["by"], "at": held["at"], "outcome": held.get("outcome")}
        if held
        else None,
    }


# --- helpers ------------------------------------------------------------------------------


def _held(session: Session, task_id: str, actor: str) -> tuple[HumanTask, Instance, datetime]:
    """The open engine task ``actor`` holds, its application locked."""
    found = task_with_instance(session, task_id, lock=True)
    if found is None:
        raise NotFound(f"task {task_id!r}")
    task, instance = found
    if task.status != "open":
        raise Conflict(f"“{task.name}” is no longer open; reload to see where the application is")
    if task.parent_id is not None:
        raise Conflict(
            f"this is a {_kind_words(task.handoff_kind)} of “{task.name}”: only "
            "the task's holder hands it on"
        )
    park = instance.park
    worker = find_worker(session, actor, park)
    if worker is None or not worker.is_active:
        raise NotFound(f"user {actor!r}")
    if is_applicant_task(park, task):
        raise Forbidden("an applicant's step cannot be handed on")
    if not may_work(worker, park, instance, task):
        holder = f" it is held by {task.assignee}" if task.assignee else ""
        raise Forbidden(f"you do not hold “{task.name}”;{holder or ' you are not its candidate'}")
    return task, instance, datetime.now(UTC)


def _kind_words(kind: str | None) -> str:
    return "delegation (委派)" if kind == "delegate" else "signature added (加签)"


def _refuse_while_waiting(task: HumanTask, doing: str) -> None:
    state = task.handoff or {}
    delegation = state.get("delegate")
    if delegation and delegation.get("state") == "pending":
        raise Conflict(f"cannot {doing} “{task.name}” while it is delegated to {delegation['to']}")
    if state.get("held"):
        raise Conflict(f"you have decided “{task.name}”; it waits for its signers now")


def _colleague(session: Session, task: HumanTask, username: str, actor: str) -> User:
    """The park staff member ``username`` a task can be handed to, or Invalid."""
    name = (username or "").strip()
    if name == actor or name == task.assignee:
        raise Invalid("you cannot hand a task to yourself", details={"username": ["is you"]})
    user = find_user(session, name) if name else None
    membership = (
        session.get(Membership, (user.id, task.park_id))
        if user is not None and user.is_active
        else None
    )
    if user is None or membership is None:
        raise Invalid(
            f"{name!r} is not a member of this park",
            details={"username": ["is not a member of this park"]},
        )
    if membership.role == "enterprise":
        raise Invalid(
            f"{name!r} is an enterprise user: park staff's tasks are not theirs",
            details={"username": ["is an enterprise user"]},
        )
    return user


def _unique_names(usernames: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(str(name).strip() for name in usernames if str(name).strip()))
    if not names:
        raise Invalid("name at least one person", details={"usernames": ["is empty"]})
    if len(names) > MAX_SIGNERS:
        raise Invalid(
            f"at most {MAX_SIGNERS} people at a time",
            details={"usernames": [f"holds more than {MAX_SIGNERS} names"]},
        )
    return names


def _signers_wanted(
    session: Session, task: HumanTask, usernames: Iterable[str], actor: str
) -> list[str]:
    names = _unique_names(usernames)
    problems: list[str] = []
    for name in names:
        try:
            _colleague(session, task, name, actor)
        except Invalid as exc:
            problems += [f"{name} {problem}" for problem in exc.details["username"]]
    if problems:
        raise Invalid("these people cannot sign this task", details={"usernames": problems})
    state = task.handoff or {}
    signing = {r.assignee for r in _extra_rows(session, task.id) if r.status == "open"} | set(
        state.get("after", [])
    )
    already = [name for name in names if name in signing]
    if already:
        raise Conflict(f"{', '.join(already)} already signs “{task.name}”")
    return names


def _claim(task: HumanTask, actor: str) -> None:
    # a hand-off comes back to whoever made it: an unclaimed task becomes theirs
    if task.assignee is None:
        task.assignee = actor


def _routed(
    session: Session, park_id: str, username: str, now: datetime, actor: str
) -> tuple[str, str | None]:
    """Who takes what reaches ``username`` now: their substitute while they are away (never
    the one handing it on: it would come straight back)."""
    substitute = substitutes.route(session, park_id, [username], now).get(username)
    return (substitute, username) if substitute and substitute != actor else (username, None)


def _extra_row(
    session: Session, task: HumanTask, kind: str, holder: str, for_user: str | None, now: datetime
) -> HumanTask:
    row = HumanTask(
        id=new_id(),
        instance_id=task.instance_id,
        park_id=task.park_id,
        element_id=task.element_id,
        name=task.name,
        lane=task.lane,
        candidate_groups=[],
        candidate_users=[holder],
        assignee=holder,
        form_key=task.form_key,
        priority=task.priority,
        created_at=now,
        due_at=task.due_at,
        follow_up_at=task.follow_up_at,
        status="open",
        parent_id=task.id,
        handoff_kind=kind,
        on_behalf_of=for_user,
        received_at=task.received_at,
    )
    session.add(row)
    session.flush()
    return row


def _extra_rows(session: Session, task_id: str) -> list[HumanTask]:
    return list(
        session.scalars(
            select(HumanTask)
            .where(HumanTask.parent_id == task_id)
            .order_by(HumanTask.created_at, HumanTask.id)
        )
    )


def _checked(instance: Instance, task: HumanTask, data: Mapping[str, Any]) -> dict[str, Any]:
    taken = taskforms.takes(task, data)
    try:
        engine_for(instance.park).check_data(version_of(instance.definition), task.form_key, taken)
    except FormDataInvalid as exc:
        raise Invalid("the form has errors", details=exc.errors) from exc
    return taken


def _outcome(instance: Instance, task: HumanTask, data: Mapping[str, Any]) -> str | None:
    # the same field the engine reads a task's outcome from
    human = version_of(instance.definition).human_tasks.get(task.element_id)
    field = (human.properties.get("outcomeField") if human else None) or "outcome"
    value = data.get(field)
    return str(value) if value is not None else None


def _record(
    session: Session,
    task: HumanTask,
    actor: str,
    action: str,
    details: Mapping[str, Any],
    comment: str | None,
    **change: Any,
) -> None:
    audit.record(
        session,
        park_id=task.park_id,
        actor=actor,
        action=action,
        instance_id=task.instance_id,
        details={
            "task_id": task.id,
            "element_id": task.element_id,
            "name": task.name,
            **details,
            "comment": _clean(comment),
        },
        **change,
    )


def _substituted(session: Session, task: HumanTask, for_user: str | None, holder: str) -> None:
    if for_user is not None:
        substitutes.record_substituted(session, task, for_user=for_user, substitute=holder)


def _notify(
    session: Session,
    instance: Instance,
    kind: str,
    task: HumanTask,
    now: datetime,
    *,
    actor: str,
    comment: str | None,
) -> None:
    jobs.enqueue(
        session,
        [
            notifications.event_job(
                kind,
                instance,
                key=f"{kind}:{task.id}:{new_id()}",
                task_id=task.id,
                now=now,
                details={"by": actor, "comment": _clean(comment)},
            )
        ],
    )


def _clean(comment: str | None) -> str | None:
    text = (comment or "").strip()
    return text or None


def _answer(session: Session, instance: Instance, then: Then | None) -> Any:
    session.flush()
    return then(session, instance) if then is not None else instance.id
