"""The applicant's actions on an application: withdraw it (撤回) and urge it (催办).

Both are the applicant's: a user of the applying enterprise, or whoever started it (an
administrator applying for an enterprise). Each takes the application's lock, is written to
the audit log and tells the people holding its open tasks. The park decides how long an
application may be withdrawn (``withdraw_rule``) and how often it may be urged
(``urge_interval_hours``); ``withdraw_refusal`` and ``next_urge_at`` say so beforehand, for the
pages to show why a button is not offered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine import EngineError
from webapp.db import Database, lock_instance
from webapp.models import HumanTask, Instance, Park, Urge
from webapp.services import audit, jobs
from webapp.services.engines import engine_for, version_of
from webapp.services.errors import Conflict, Forbidden, Invalid, NotFound, TooSoon
from webapp.services.notifications import event_job, holders
from webapp.services.people import Worker, find_worker, is_applicant_task
from webapp.services.projections import write_snapshot

WITHDRAW_SETTING = "withdraw_rule"
URGE_SETTING = "urge_interval_hours"
DEFAULT_WITHDRAW_RULE = "before_action"
DEFAULT_URGE_HOURS = 24
MAX_HOURS = 24 * 366
ENDED = ("completed", "cancelled")


@dataclass(frozen=True)
class Refusal:
    """Why the applicant may not act now: a stable ``code``, an English message and its
    facts (for the pages to say it in the reader's language)."""

    code: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)


# --- the park's rules ------------------------------------------------------------------------


def parse_withdraw_rule(text: str) -> tuple[str, int | None]:
    """``before_action``, ``never`` or ``within_hours:N``, as (kind, hours); Invalid otherwise."""
    rule = text.strip()
    if rule in ("before_action", "never"):
        return rule, None
    kind, sep, hours = rule.partition(":")
    if kind == "within_hours" and sep and hours.strip().isdigit():
        number = int(hours.strip())
        if 1 <= number <= MAX_HOURS:
            return kind, number
    raise Invalid(
        f"{text!r} is not a withdraw rule",
        details={
            WITHDRAW_SETTING: ["is one of before_action, within_hours:N (1 to 8784 hours) or never"]
        },
    )


def withdraw_rule(park: Park) -> str:
    """The park's withdraw rule (by default: before any reviewer acted)."""
    stored = park.settings.get(WITHDRAW_SETTING)
    return str(stored) if stored else DEFAULT_WITHDRAW_RULE


def urge_interval(park: Park) -> timedelta:
    """How long after one urge the application may be urged again (default 24 hours)."""
    stored = park.settings.get(URGE_SETTING)
    hours = stored if isinstance(stored, int) and stored > 0 else DEFAULT_URGE_HOURS
    return timedelta(hours=hours)


def rules_of(park: Park) -> dict[str, Any]:
    """The park's applicant rules as the settings API shows them."""
    return {
        WITHDRAW_SETTING: withdraw_rule(park),
        URGE_SETTING: int(urge_interval(park).total_seconds() // 3600),
    }


def update_rules(
    session: Session,
    park: Park,
    *,
    actor: str,
    withdraw: str | None = None,
    urge_hours: int | None = None,
) -> dict[str, Any]:
    """Change the park's withdraw rule and urge interval (what is given); the rules after."""
    before = rules_of(park)
    changes: dict[str, Any] = {}
    if withdraw is not None:
        kind, hours = parse_withdraw_rule(withdraw)
        changes[WITHDRAW_SETTING] = kind if hours is None else f"{kind}:{hours}"
    if urge_hours is not None:
        if not 1 <= urge_hours <= MAX_HOURS:
            raise Invalid(
                f"{urge_hours} hours is not an urge interval",
                details={URGE_SETTING: ["is a whole number of hours from 1 to 8784"]},
            )
        changes[URGE_SETTING] = urge_hours
    park.settings = {**park.settings, **changes}
    session.flush()
    after = rules_of(park)
    if after != before:
        audit.record(
            session,
            park_id=park.id,
            actor=actor,
            action="park.settings_changed",
            details={"changed": sorted(k for k in after if after[k] != before[k])},
            before=before,
            after=after,
        )
    return after


# --- who may act, and whether now ------------------------------------------------------------


def is_applicant(worker: Worker | None, instance: Instance) -> bool:
    """Whether ``worker`` applied: a user of the applying enterprise, or who started it."""
    if worker is None or not worker.is_active or worker.role is None:
        return False
    if worker.role == "enterprise":
        return worker.enterprise_id == instance.enterprise_id
    return instance.started_by == worker.user_id


def withdraw_refusal(session: Session, instance: Instance, now: datetime) -> Refusal | None:
    """Why the application cannot be withdrawn now under its park's rule; None if it can."""
    if instance.status in ENDED:
        return Refusal("ended", f"application {instance.reference} has already ended")
    kind, hours = parse_withdraw_rule(withdraw_rule(instance.park))
    if kind == "never":
        return Refusal("never", "this park does not allow withdrawing applications")
    if kind == "within_hours":
        assert hours is not None
        until = instance.started_at + timedelta(hours=hours)
        if now > until:
            return Refusal(
                "too_late",
                f"applications can be withdrawn within {hours} hours of "
                f"submission; this one could be until {until.isoformat()}",
                {"hours": hours, "until": until},
            )
        return None
    acted = reviewer_action(session, instance)
    if acted is not None:
        return Refusal(
            "acted",
            f"“{acted.name}” was already handled by {acted.completed_by}: "
            "an application can be withdrawn only before any reviewer acted",
            {"step": acted.name, "by": acted.completed_by},
        )
    return None


_DONE_TASKS = (
    select(HumanTask)
    .where(
        HumanTask.instance_id == bindparam("instance_id"),
        HumanTask.status == "completed",
        HumanTask.completed_by.is_not(None),
    )
    .order_by(HumanTask.completed_at)
)


def reviewer_action(session: Session, instance: Instance) -> HumanTask | None:
    """The first task of the application that the park's staff completed (the enterprise's
    own corrections do not count), or None."""
    park = instance.park
    for task in session.scalars(_DONE_TASKS, {"instance_id": instance.id}):
        if not is_applicant_task(park, task):
            return task
    return None


def next_urge_at(session: Session, instance: Instance) -> datetime | None:
    """When the application may be urged again; None when it may be urged now (or was never)."""
    last = session.scalar(select(func.max(Urge.at)).where(Urge.instance_id == instance.id))
    if last is None:
        return None
    return last + urge_interval(instance.park)


def urge_refusal(session: Session, instance: Instance, now: datetime) -> Refusal | None:
    """Why the application cannot be urged now; None if it can."""
    if instance.status in ENDED:
        return Refusal("ended", f"application {instance.reference} has already ended")
    if not _staff_tasks(session, instance):
        return Refusal(
            "nothing_waits",
            "no step of the application waits for the park's reviewers: there is nobody to urge",
        )
    again = next_urge_at(session, instance)
    if again is not None and now < again:
        return Refusal(
            "too_soon",
            f"the application was urged recently; it can be urged again at {again.isoformat()}",
            {"retry_at": again},
        )
    return None


# --- the actions -----------------------------------------------------------------------------


def withdraw_application(db: Database, *, instance_id: str, actor: str, reason: str = "") -> str:
    """Withdraw an application as its applicant: it is cancelled with the result withdrawn,
    its open tasks close, and their holders are told."""
    with db.write() as session:
        instance, park, _worker = _as_applicant(session, instance_id, actor)
        now = datetime.now(UTC)
        refusal = withdraw_refusal(session, instance, now)
        if refusal is not None:
            raise Conflict(refusal.message)
        told = [
            name
            for name in _usernames(session, park, _open_tasks(session, instance))
            if name != actor
        ]
        try:
            snapshot = engine_for(park).cancel(
                version_of(instance.definition), instance.state, actor=actor
            )
        except EngineError as exc:
            raise Invalid(str(exc)) from exc
        write_snapshot(session, instance, park, snapshot, actor=actor, now=now)
        # a cancellation's result is cancelled; this one the applicant asked for
        session.execute(
            update(Instance).where(Instance.id == instance.id).values(result="withdrawn")
        )
        set_committed_value(instance, "result", "withdrawn")
        audit.record(
            session,
            park_id=park.id,
            actor=actor,
            action="instance.withdrawn",
            instance_id=instance.id,
            details={"reason": reason or None, "holders": told},
        )
        if told:
            jobs.enqueue(
                session,
                [
                    event_job(
                        "withdrawn",
                        instance,
                        key=f"withdrawn:{instance.id}",
                        now=now,
                        details={"usernames": told, "reason": reason or None, "by": actor},
                    )
                ],
            )
        return instance.id


def urge_application(
    db: Database, *, instance_id: str, actor: str, comment: str | None = None
) -> list[str]:
    """Urge the holders of the application's open tasks (at most once per the park's
    interval); the usernames told."""
    with db.write() as session:
        instance, park, _worker = _as_applicant(session, instance_id, actor)
        now = datetime.now(UTC)
        refusal = urge_refusal(session, instance, now)
        if refusal is not None:
            if refusal.code == "too_soon":
                raise TooSoon(refusal.message, retry_at=refusal.params["retry_at"])
            raise Conflict(refusal.message)
        tasks = _staff_tasks(session, instance)
        told: list[str] = []
        queued = []
        for task in tasks:
            people = [user.username for user in holders(session, park, task)]
            told += [name for name in people if name not in told]
            session.add(
                Urge(
                    park_id=park.id,
                    instance_id=instance.id,
                    task_id=task.id,
                    at=now,
                    actor=actor,
                    comment=comment or None,
                )
            )
            queued.append(
                event_job(
                    "urged",
                    instance,
                    key=f"urged:{task.id}:{now.isoformat()}",
                    now=now,
                    task_id=task.id,
                    details={"usernames": people, "comment": comment or None, "by": actor},
                )
            )
        session.flush()
        audit.record(
            session,
            park_id=park.id,
            actor=actor,
            action="instance.urged",
            instance_id=instance.id,
            details={
                "comment": comment or None,
                "holders": told,
                "tasks": [
                    {"task_id": t.id, "element_id": t.element_id, "name": t.name} for t in tasks
                ],
            },
        )
        jobs.enqueue(session, queued)
        return told


def _as_applicant(session: Session, instance_id: str, actor: str) -> tuple[Instance, Park, Worker]:
    instance = lock_instance(session, instance_id)
    park = instance.park
    worker = find_worker(session, actor, park)
    if worker is None or not worker.is_active:
        raise NotFound(f"user {actor!r}")
    if not is_applicant(worker, instance):
        raise Forbidden(
            "only the applicant (the applying enterprise, or who submitted it) can do this"
        )
    return instance, park, worker


_OPEN = (
    select(HumanTask)
    .where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.status == "open")
    .order_by(HumanTask.created_at, HumanTask.id)
)


def _open_tasks(session: Session, instance: Instance) -> list[HumanTask]:
    return list(session.scalars(_OPEN, {"instance_id": instance.id}))


def _staff_tasks(session: Session, instance: Instance) -> list[HumanTask]:
    """The open tasks that wait for the park's people, not for the enterprise."""
    park = instance.park
    return [task for task in _open_tasks(session, instance) if not is_applicant_task(park, task)]


def _usernames(session: Session, park: Park, tasks: Iterable[HumanTask]) -> list[str]:
    found: list[str] = []
    for task in tasks:
        found += [
            user.username for user in holders(session, park, task) if user.username not in found
        ]
    return found


__all__ = [
    "DEFAULT_URGE_HOURS",
    "DEFAULT_WITHDRAW_RULE",
    "Refusal",
    "is_applicant",
    "next_urge_at",
    "parse_withdraw_rule",
    "reviewer_action",
    "rules_of",
    "update_rules",
    "urge_application",
    "urge_interval",
    "urge_refusal",
    "withdraw_application",
    "withdraw_refusal",
]
