"""委托/代理: a user away names a substitute and a window; tasks that reach them then go to
the substitute, marked "on behalf of" (代…办理).

A task reaches a user when it names them: as its assignee, or as its sole candidate user (a
group's task reaches the group, whoever of it is away). The routing is one hop: a
substitute's own substitute does not take over what was routed to the substitute, so two
people away at once cannot send a task round in circles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db import Database
from webapp.models import HumanTask, Instance, Membership, Park, Substitution, User
from webapp.services import audit
from webapp.services.accounts import find_user
from webapp.services.errors import Forbidden, Invalid, NotFound


@dataclass(frozen=True)
class SubstituteView:
    """One substitution as the pages and the API show it."""

    id: str
    park: str
    username: str
    substitute: str
    starts_at: datetime
    ends_at: datetime
    active: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "park": self.park,
            "username": self.username,
            "substitute": self.substitute,
            "from": self.starts_at,
            "until": self.ends_at,
            "active": self.active,
        }


def set_substitute(
    db: Database,
    *,
    actor: str,
    username: str,
    starts_at: datetime,
    ends_at: datetime,
    park_slug: str | None = None,
) -> SubstituteView:
    """Name ``username`` the actor's substitute in one park from ``starts_at`` until
    ``ends_at``; replaces the actor's earlier substitution there."""
    now = datetime.now(UTC)
    problems = _window_problems(starts_at, ends_at, now)
    if problems:
        raise Invalid("the window of the substitution is not valid", details=problems)
    with db.write() as session:
        user = _active_user(session, actor)
        park = _staff_park(session, user, park_slug)
        substitute = _substitute_for(session, park, user, username)
        for earlier in _standing(session, park.id, user.username, now):
            _end(session, earlier, actor=actor, now=now)
        row = Substitution(
            park_id=park.id,
            username=user.username,
            substitute=substitute.username,
            starts_at=starts_at,
            ends_at=ends_at,
            created_at=now,
        )
        session.add(row)
        session.flush()
        audit.record(
            session, park_id=park.id, actor=actor, action="substitute.set", details=_details(row)
        )
        return _view(row, park, now)


def end_substitute(
    db: Database,
    *,
    actor: str,
    park_slug: str | None = None,
    substitution_id: str | None = None,
    park_id: str | None = None,
) -> None:
    """End a substitution: the actor's own (in ``park_slug``), or one of park ``park_id``'s by
    id (its administrators)."""
    now = datetime.now(UTC)
    with db.write() as session:
        user = _active_user(session, actor)
        if substitution_id is not None:
            row = session.get(Substitution, substitution_id)
            membership = (
                session.get(Membership, (user.id, row.park_id)) if row is not None else None
            )
            if row is None or membership is None or (park_id and row.park_id != park_id):
                raise NotFound(f"substitution {substitution_id!r}")
            if membership.role != "admin" and row.username != user.username:
                raise Forbidden("only park administrators end other people's substitutions")
            rows = [row] if row.ended_at is None else []
        else:
            park = _staff_park(session, user, park_slug)
            rows = _standing(session, park.id, user.username, now)
        for row in rows:
            _end(session, row, actor=actor, now=now)


def mine(session: Session, username: str, now: datetime | None = None) -> list[SubstituteView]:
    """The user's substitutions that are current or still to come, in every park."""
    when = now or datetime.now(UTC)
    rows = session.execute(
        select(Substitution, Park)
        .join(Park, Park.id == Substitution.park_id)
        .where(
            Substitution.username == username,
            Substitution.ended_at.is_(None),
            Substitution.ends_at > when,
        )
        .order_by(Substitution.starts_at)
    ).all()
    return [_view(row, park, when) for row, park in rows]


def of_park(session: Session, park: Park, now: datetime | None = None) -> list[SubstituteView]:
    """A park's substitutions that are current or still to come (for its administrators)."""
    when = now or datetime.now(UTC)
    rows = session.scalars(
        select(Substitution)
        .where(
            Substitution.park_id == park.id,
            Substitution.ended_at.is_(None),
            Substitution.ends_at > when,
        )
        .order_by(Substitution.starts_at, Substitution.username)
    )
    return [_view(row, park, when) for row in rows]


def route(
    session: Session, park_id: str, usernames: Iterable[str], now: datetime
) -> dict[str, str]:
    """username -> substitute, for those of ``usernames`` away at ``now``."""
    names = sorted({name for name in usernames if name})
    if not names:
        return {}
    rows = session.execute(
        select(Substitution.username, Substitution.substitute).where(
            Substitution.park_id == park_id,
            Substitution.username.in_(names),
            Substitution.ended_at.is_(None),
            Substitution.starts_at <= now,
            Substitution.ends_at > now,
        )
    )
    return {username: substitute for username, substitute in rows}


def hand_over(
    session: Session, instance: Instance, rows: Sequence[HumanTask], now: datetime
) -> None:
    """Give new tasks that name someone away to their substitute (before they are written).

    Only tasks naming a person ask: a group's task costs nothing here."""
    named = {row.id: _named(row) for row in rows}
    wanted = [name for name in named.values() if name]
    if not wanted:
        return
    away = route(session, instance.park_id, wanted, now)
    for row in rows:
        name = named[row.id]
        if name in away:
            row.assignee, row.on_behalf_of = away[name], name
            record_substituted(session, row, for_user=name, substitute=away[name], at=now)


def record_substituted(
    session: Session, task: HumanTask, *, for_user: str, substitute: str, at: datetime | None = None
) -> None:
    """Audit that ``task`` went to ``substitute`` on behalf of ``for_user``."""
    audit.append(
        session,
        park_id=task.park_id,
        actor=None,
        action="task.substituted",
        instance_id=task.instance_id,
        at=at or datetime.now(UTC),
        details={
            "task_id": task.id,
            "element_id": task.element_id,
            "name": task.name,
            "for_user": for_user,
            "substitute": substitute,
        },
    )


def _named(row: HumanTask) -> str | None:
    if row.assignee:
        return row.assignee
    if len(row.candidate_users) == 1 and not row.candidate_groups:
        return row.candidate_users[0]
    return None


def _window_problems(starts_at: datetime, ends_at: datetime, now: datetime) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        problems["from"] = ["needs a time zone offset"]
    elif ends_at <= starts_at:
        problems["until"] = ["must be after from"]
    elif ends_at <= now:
        problems["until"] = ["is already past"]
    return problems


def _active_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None or not user.is_active:
        raise NotFound(f"user {username!r}")
    return user


def _staff_park(session: Session, user: User, park_slug: str | None) -> Park:
    rows = session.execute(
        select(Park, Membership.role)
        .join(Membership, Membership.park_id == Park.id)
        .where(Membership.user_id == user.id)
    ).all()
    staff = [park for park, role in rows if role != "enterprise"]
    if park_slug is not None:
        chosen = [park for park, _ in rows if park.slug == park_slug]
        if not chosen:
            raise NotFound(f"park {park_slug!r}")
        if chosen[0] not in staff:
            raise Forbidden("enterprise users have no tasks to hand to a substitute")
        return chosen[0]
    if not staff:
        raise Forbidden("only park staff name substitutes")
    if len(staff) > 1:
        raise Invalid("name the park of the substitution", details={"park": ["is required"]})
    return staff[0]


def _substitute_for(session: Session, park: Park, user: User, username: str) -> User:
    name = (username or "").strip()
    if name == user.username:
        raise Invalid("you cannot be your own substitute", details={"username": ["is you"]})
    found = find_user(session, name) if name else None
    membership = (
        session.get(Membership, (found.id, park.id))
        if found is not None and found.is_active
        else None
    )
    if found is None or membership is None:
        raise Invalid(
            f"{name!r} is not a member of this park",
            details={"username": ["is not a member of this park"]},
        )
    if membership.role == "enterprise":
        raise Invalid(
            f"{name!r} is an enterprise user", details={"username": ["is an enterprise user"]}
        )
    return found


def _standing(session: Session, park_id: str, username: str, now: datetime) -> list[Substitution]:
    return list(
        session.scalars(
            select(Substitution).where(
                Substitution.park_id == park_id,
                Substitution.username == username,
                Substitution.ended_at.is_(None),
                Substitution.ends_at > now,
            )
        )
    )


def _end(session: Session, row: Substitution, *, actor: str, now: datetime) -> None:
    row.ended_at, row.ended_by = now, actor
    session.flush()
    audit.record(
        session, park_id=row.park_id, actor=actor, action="substitute.ended", details=_details(row)
    )


def _details(row: Substitution) -> dict[str, object]:
    return {
        "username": row.username,
        "substitute": row.substitute,
        "from": row.starts_at.isoformat(),
        "until": row.ends_at.isoformat(),
    }


def _view(row: Substitution, park: Park, now: datetime) -> SubstituteView:
    return SubstituteView(
        row.id,
        park.slug,
        row.username,
        row.substitute,
        row.starts_at,
        row.ends_at,
        row.active_at(now),
    )
