"""The enterprise's grade of a finished application (好差评), and the loop it closes.

* A rating is given once: one of five grades, the online dimensions (办事效率, 便捷度, 服务态度,
  规范性, each graded the same way) and a comment (audit ``application.rated``).
* A grade in the bottom two (不满意, 非常不满意) opens a rectification (整改) for the park in the
  same transaction, due a number of working days later (the park setting
  ``rectification_working_days``, 5 unless set), for the group the setting
  ``rectification_group`` names, else for the park's administrators; they are told
  (``rectification.opened``).
* The park records what it did (``rectification.recorded``), then follows up with the
  enterprise (回访) and records its answer: that closes the rectification
  (``rating.followed_up`` and ``rating.rectified``, which the figures count) and tells the
  enterprise the outcome. One not closed by its due time is overdue.
* An application that completed and got no rating by some days later (the setting
  ``rating_invitation_days``, 3 unless set) gets one invitation to rate, from the worker:
  the job is queued when the application ends, with a dedupe key, so exactly once
  (``rating.invited``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import add_working_days
from webapp.db import Database, lock_instance, utcnow
from webapp.models import (
    Group,
    GroupMember,
    Instance,
    Job,
    Membership,
    Park,
    Rating,
    Rectification,
    User,
)
from webapp.services import audit, jobs, notifications
from webapp.services.accounts import find_user
from webapp.services.calendars import park_calendar
from webapp.services.errors import AlreadyExists, Conflict, Forbidden, Invalid, NotFound
from webapp.services.jobs import JobContext

# grade -> its name in the national 好差评 scheme, best first
GRADES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
# a grade up to this one opens a rectification
BAD_UP_TO = 2
# the online dimensions, each graded like the whole
DIMENSIONS = {
    "efficiency": "办事效率",
    "convenience": "便捷度",
    "attitude": "服务态度",
    "standards": "规范性",
}
MAX_COMMENT = 1000
MAX_TEXT = 2000

RECTIFICATION_DAYS = "rectification_working_days"
RECTIFICATION_GROUP = "rectification_group"
INVITATION_DAYS = "rating_invitation_days"
DEFAULTS = {RECTIFICATION_DAYS: 5, RECTIFICATION_GROUP: None, INVITATION_DAYS: 3}
MAX_DAYS = 60
INVITE_JOB = "rating_invite"


# --- the park's settings ---------------------------------------------------------------------


def settings_of(park: Park) -> dict[str, Any]:
    """The park's 好差评 settings, defaults filled in."""
    found = dict(DEFAULTS)
    for key in DEFAULTS:
        value = park.settings.get(key)
        if key == RECTIFICATION_GROUP:
            found[key] = value if isinstance(value, str) and value else None
        elif isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_DAYS:
            found[key] = value
    return found


def update_settings(
    session: Session, park: Park, *, actor: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Change some of the park's 好差评 settings (audit ``park.settings_changed``)."""
    before = settings_of(park)
    problems: dict[str, list[str]] = {}
    for key in (RECTIFICATION_DAYS, INVITATION_DAYS):
        value = changes.get(key)
        if key in changes and (
            not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DAYS
        ):
            problems[key] = [f"is a whole number of days from 1 to {MAX_DAYS}"]
    group = changes.get(RECTIFICATION_GROUP)
    if (
        group is not None
        and not session.scalars(
            select(Group.id).where(Group.park_id == park.id, Group.name == group)
        ).first()
    ):
        problems[RECTIFICATION_GROUP] = ["is not a group of this park"]
    if problems:
        raise Invalid("the 好差评 settings were not changed", details=problems)
    park.settings = {**park.settings, **{k: v for k, v in changes.items() if k in DEFAULTS}}
    session.flush()
    after = settings_of(park)
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


# --- rating ----------------------------------------------------------------------------------


def check_dimensions(dimensions: Mapping[str, Any] | None) -> dict[str, int]:
    """The dimensions' grades, checked: known names, grades 1–5."""
    found: dict[str, int] = {}
    problems: dict[str, list[str]] = {}
    for name, grade in (dimensions or {}).items():
        if name not in DIMENSIONS:
            problems[f"dimensions.{name}"] = ["is not a dimension"]
        elif not isinstance(grade, int) or isinstance(grade, bool) or grade not in GRADES:
            problems[f"dimensions.{name}"] = ["is not a grade"]
        else:
            found[name] = grade
    if problems:
        raise Invalid("grade each dimension with one of the five grades", details=problems)
    return found


def rate_application(
    db: Database,
    *,
    instance_id: str,
    grade: int,
    comment: str,
    actor: str,
    dimensions: Mapping[str, Any] | None = None,
) -> Rating:
    """Record the applying enterprise's grade of its completed application.

    A bad grade opens the park's rectification in the same transaction."""
    if grade not in GRADES:
        raise Invalid("choose one of the five grades", details={"grade": ["is not a grade"]})
    graded = check_dimensions(dimensions)
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid(
            f"the comment is longer than {MAX_COMMENT} characters",
            details={"comment": [f"is longer than {MAX_COMMENT} characters"]},
        )
    with db.write() as session:
        instance = lock_instance(session, instance_id)
        user = find_user(session, actor)
        if user is None or not user.is_active:
            raise NotFound(f"user {actor!r}")
        membership = session.get(Membership, (user.id, instance.park_id))
        if (
            membership is None
            or membership.role != "enterprise"
            or membership.enterprise_id != instance.enterprise_id
        ):
            raise Forbidden("only the applying enterprise rates its application")
        if instance.status != "completed":
            raise Conflict(f"application {instance.reference} is not completed yet")
        if session.get(Rating, instance.id) is not None:
            raise AlreadyExists(f"a rating of application {instance.reference}")
        now = utcnow()
        rating = Rating(
            instance_id=instance.id,
            park_id=instance.park_id,
            grade=grade,
            comment=comment or None,
            rated_by=user.id,
            rated_at=now,
            dimensions=graded or None,
        )
        session.add(rating)
        audit.record(
            session,
            park_id=instance.park_id,
            actor=actor,
            action="application.rated",
            instance_id=instance.id,
            details={
                "grade": grade,
                "grade_name": GRADES[grade],
                "comment": comment,
                "dimensions": graded,
            },
        )
        if grade <= BAD_UP_TO:
            _open_rectification(session, instance, grade, now)
        return rating


def rating_of(session: Session, instance_id: str) -> Rating | None:
    """The application's rating, if it has one."""
    return session.get(Rating, instance_id)


# --- rectification ---------------------------------------------------------------------------


def _open_rectification(
    session: Session, instance: Instance, grade: int, now: datetime
) -> Rectification:
    park = instance.park
    settings = settings_of(park)
    calendar = park_calendar(park, session)
    # by the end of the N-th working day on, as the park's promises are
    day = add_working_days(now, settings[RECTIFICATION_DAYS], calendar).astimezone(
        calendar.timezone
    )
    due = datetime.combine(day.date(), calendar.day_ends, calendar.timezone).astimezone(UTC)
    found = Rectification(
        park_id=park.id,
        instance_id=instance.id,
        grade=grade,
        status="open",
        assignee_group=settings[RECTIFICATION_GROUP],
        opened_at=now,
        due_at=due,
    )
    session.add(found)
    session.flush()
    audit.record(
        session,
        park_id=park.id,
        actor=None,
        action="rectification.opened",
        instance_id=instance.id,
        details={
            "rectification_id": found.id,
            "grade": grade,
            "grade_name": GRADES[grade],
            "due_at": due.isoformat(),
            "group": found.assignee_group,
        },
    )
    people = handlers(session, park, found.assignee_group)
    jobs.enqueue(
        session,
        [
            notifications.event_job(
                "rectification_opened",
                instance,
                key=f"rectification:{found.id}",
                now=now,
                details={
                    "usernames": [user.username for user in people],
                    "grade": grade,
                    "due_at": due.isoformat(),
                },
            )
        ],
    )
    return found


def handlers(session: Session, park: Park, group: str | None) -> list[User]:
    """Who handles the park's rectifications: the group's members, else the admins."""
    if group is not None:
        members = notifications.group_members(session, park.id, [group])
        if members:
            return members
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.park_id == park.id, Membership.role == "admin", User.is_active)
            .order_by(User.username)
        )
    )


def may_handle(session: Session, user: User, rectification: Rectification) -> bool:
    """Whether ``user`` handles the rectification: a park admin, or in its group."""
    membership = session.get(Membership, (user.id, rectification.park_id))
    if membership is None:
        return False
    if membership.role == "admin":
        return True
    group = rectification.assignee_group
    return (
        group is not None
        and membership.role == "reviewer"
        and session.scalars(
            select(GroupMember.user_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(
                Group.park_id == rectification.park_id,
                Group.name == group,
                GroupMember.user_id == user.id,
            )
        ).first()
        is not None
    )


def rectifications(
    session: Session,
    park: Park,
    *,
    now: datetime,
    status: str | None = None,
    overdue: bool | None = None,
    limit: int = 200,
) -> list[Rectification]:
    """The park's rectifications, unfinished first by due date, then the closed ones."""
    query = select(Rectification).where(Rectification.park_id == park.id)
    if status is not None:
        query = query.where(Rectification.status == status)
    if overdue is True:
        query = query.where(Rectification.status != "closed", Rectification.due_at < now)
    elif overdue is False:
        query = query.where((Rectification.status == "closed") | (Rectification.due_at >= now))
    query = query.order_by(
        (Rectification.status == "closed"), Rectification.due_at, Rectification.id
    )
    return list(session.scalars(query.limit(limit)))


def rectification_of(session: Session, instance_id: str) -> Rectification | None:
    """The rectification the application's rating opened, if any."""
    return session.scalars(
        select(Rectification).where(Rectification.instance_id == instance_id)
    ).one_or_none()


def find_rectification(session: Session, rectification_id: str) -> Rectification | None:
    """A rectification by id, in whichever park."""
    return session.get(Rectification, rectification_id) if len(rectification_id) <= 36 else None


def rectification_in(session: Session, park_id: str, rectification_id: str) -> Rectification:
    """One of the park's rectifications, else NotFound."""
    found = find_rectification(session, rectification_id)
    if found is None or found.park_id != park_id:
        raise NotFound(f"rectification {rectification_id!r}")
    return found


def _locked(
    session: Session, park_id: str, rectification_id: str, actor: str
) -> tuple[Rectification, User]:
    rectification_in(session, park_id, rectification_id)
    found = session.scalars(
        select(Rectification)
        .where(Rectification.id == rectification_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    user = find_user(session, actor)
    if user is None or not user.is_active or not may_handle(session, user, found):
        raise Forbidden(
            "rectifications are for the park's administrators and the group that handles them"
        )
    return found, user


def _text(name: str, value: str, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(f"the {name} is required", details={name: ["required"]})
    if len(value) > MAX_TEXT:
        raise Invalid(
            f"the {name} is longer than {MAX_TEXT} characters", details={name: ["too_long"]}
        )
    return value


def record_measures(
    db: Database, *, park_id: str, rectification_id: str, measures: str, actor: str
) -> Rectification:
    """Record what the park did about the bad rating (it may be recorded again until the
    follow-up); the follow-up with the enterprise is next."""
    measures = _text("measures", measures, required=True)
    with db.write() as session:
        found, _user = _locked(session, park_id, rectification_id, actor)
        if found.status == "closed":
            raise Conflict("the rectification is closed")
        now = utcnow()
        before = {"status": found.status, "measures": found.measures}
        found.status, found.measures = "rectified", measures
        found.rectified_by, found.rectified_at = actor, now
        audit.record(
            session,
            park_id=found.park_id,
            actor=actor,
            action="rectification.recorded",
            instance_id=found.instance_id,
            details={"rectification_id": found.id},
            before=before,
            after={"status": found.status, "measures": measures},
        )
        return found


def follow_up(
    db: Database, *, park_id: str, rectification_id: str, answer: str, accepted: bool, actor: str
) -> Rectification:
    """Record the follow-up (回访): the enterprise's answer closes the rectification, which
    now counts as rectified, and the enterprise is told the outcome."""
    answer = _text("answer", answer, required=True)
    with db.write() as session:
        found, _user = _locked(session, park_id, rectification_id, actor)
        if found.status == "closed":
            raise Conflict("the rectification is closed already")
        if found.status != "rectified":
            raise Conflict("record the measures taken before the follow-up")
        now = utcnow()
        found.status, found.follow_up, found.accepted = "closed", answer, accepted
        found.followed_up_by, found.closed_at = actor, now
        details = {"rectification_id": found.id, "accepted": accepted}
        audit.record(
            session,
            park_id=found.park_id,
            actor=actor,
            action="rating.followed_up",
            instance_id=found.instance_id,
            details={**details, "answer": answer},
        )
        audit.record(
            session,
            park_id=found.park_id,
            actor=actor,
            action="rating.rectified",
            instance_id=found.instance_id,
            details={**details, "overdue": found.due_at < now},
        )
        jobs.enqueue(
            session,
            [
                notifications.event_job(
                    "rectified",
                    found.instance,
                    key=f"rectified:{found.id}",
                    now=now,
                    details={"measures": found.measures, "accepted": accepted},
                )
            ],
        )
        return found


def view(rectification: Rectification, now: datetime) -> dict[str, Any]:
    """A rectification as the API shows it."""
    instance = rectification.instance
    return {
        "id": rectification.id,
        "instance_id": rectification.instance_id,
        "reference": instance.reference,
        "procedure": instance.definition.name,
        "grade": rectification.grade,
        "grade_name": GRADES[rectification.grade],
        "status": rectification.status,
        "group": rectification.assignee_group,
        "opened_at": rectification.opened_at,
        "due_at": rectification.due_at,
        "overdue": rectification.overdue_at(now),
        "measures": rectification.measures,
        "rectified_by": rectification.rectified_by,
        "rectified_at": rectification.rectified_at,
        "follow_up": rectification.follow_up,
        "accepted": rectification.accepted,
        "followed_up_by": rectification.followed_up_by,
        "closed_at": rectification.closed_at,
    }


# --- the invitation to rate ------------------------------------------------------------------


def invitation_job(instance: Instance, park: Park, now: datetime) -> dict[str, Any]:
    """The job inviting the enterprise to rate, queued once when the application ends."""
    days = settings_of(park)[INVITATION_DAYS]
    return jobs.job_row(
        kind=INVITE_JOB,
        park_id=instance.park_id,
        due_at=now + timedelta(days=days),
        instance_id=instance.id,
        dedupe_key=f"{INVITE_JOB}:{instance.id}",
    )


def invite(ctx: JobContext, session: Session, job: Job, now: datetime) -> None:
    """Handle a 'rating_invite' job: invite the enterprise, unless it rated already."""
    instance = session.get(Instance, job.instance_id) if job.instance_id else None
    if (
        instance is None
        or instance.status != "completed"
        or instance.result == "withdrawn"
        or instance.enterprise_id is None
        or session.get(Rating, instance.id) is not None
    ):
        return None
    people = notifications.applicants(session, instance)
    audit.record(
        session,
        park_id=instance.park_id,
        actor=None,
        action="rating.invited",
        instance_id=instance.id,
        details={"usernames": [user.username for user in people]},
    )
    notifications.publish(
        ctx,
        session,
        instance=instance,
        kind="rating_invited",
        task=None,
        people=people,
        key=f"{INVITE_JOB}:{instance.id}",
        details={},
        now=now,
    )
    return None


__all__ = [
    "BAD_UP_TO",
    "DIMENSIONS",
    "GRADES",
    "INVITE_JOB",
    "MAX_COMMENT",
    "follow_up",
    "invitation_job",
    "invite",
    "rate_application",
    "rating_of",
    "find_rectification",
    "record_measures",
    "rectification_in",
    "rectification_of",
    "rectifications",
    "settings_of",
    "update_settings",
    "view",
]
