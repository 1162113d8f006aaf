"""Tenant scoping: every object and list the API serves is found through this module.

A caller sees only the parks they are a member of. Inside a park an administrator sees
everything, an enterprise user the applications of their own enterprise, and a reviewer the
applications they have or had a task in (as a candidate, assignee or the one who completed it)
and those copied to them (抄送: read only, their tasks stay out of reach).
Whatever lies outside is answered 404, exactly as if it did not exist, so ids of other parks
and enterprises reveal nothing; 403 is kept for what the caller can see but may not do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import type_coerce

from webapp.models import (
    ApiToken,
    Group,
    GroupMember,
    HumanTask,
    Instance,
    InstanceCopy,
    Membership,
    Notification,
    Park,
    ProcessDefinition,
    User,
)
from webapp.services import tokens
from webapp.services.errors import Forbidden, NotFound
from webapp.services.loading import (
    held_instance,
    held_task,
    instance_with_relations,
    task_with_instance,
)
from webapp.services.people import Worker, lanes_in
from webapp.statements import Prepared

# ids in the database are at most this long; anything longer cannot name a row
MAX_ID_LENGTH = 64
MAX_BIGINT = 2**63 - 1


@dataclass(frozen=True)
class ParkRole:
    """The caller's standing in one park."""

    park_id: str
    slug: str
    role: str
    enterprise_id: str | None
    groups: frozenset[str]
    applicant_lanes: tuple[str, ...]


@dataclass(frozen=True)
class Viewer:
    """Who is asking: the signed-in user and their role in each of their parks."""

    user_id: str
    username: str
    parks: Mapping[str, ParkRole]


def _with_roles(user_columns: Any) -> Any:
    """``user_columns`` (selecting from users) joined to the user's parks and groups there.

    One row per membership and group: the caller's whole standing in one query.
    """
    return (user_columns.add_columns(Membership.park_id, Membership.role,
                                     Membership.enterprise_id, Park.slug, Park.settings,
                                     Group.name)
            .outerjoin(Membership, Membership.user_id == User.id)
            .outerjoin(Park, Park.id == Membership.park_id)
            .outerjoin(GroupMember, GroupMember.user_id == User.id)
            .outerjoin(Group, (Group.id == GroupMember.group_id)
                       & (Group.park_id == Membership.park_id)))


_BY_USER = _with_roles(select(User.id, User.username).where(User.id == bindparam("user_id")))
# prepared: every API request runs it (see webapp.statements)
_BY_TOKEN = Prepared(_with_roles(
    select(User.id, User.username, User.is_active, ApiToken.expires_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))))


def load_viewer(session: Session, user: User) -> Viewer:
    """Collect the user's memberships and groups, once per request."""
    rows = session.connection().execute(_BY_USER, {"user_id": user.id}).all()
    return _viewer(user.id, user.username, [row[2:] for row in rows])


@dataclass(frozen=True)
class TokenOwner:
    """Whom a stored API token belongs to, and whether it may still be used."""

    viewer: Viewer
    expires_at: datetime
    is_active: bool

    def check_standing(self) -> Viewer:
        """The viewer; raises Unauthenticated once the token expired or the account is off."""
        tokens.check_standing(expires_at=self.expires_at, is_active=self.is_active)
        return self.viewer


def token_owner(connection: Connection, token_hash: str) -> TokenOwner | None:
    """The owner of the token stored as ``token_hash``; None when there is no such token."""
    rows = _BY_TOKEN.rows(connection, {"token_hash": token_hash})
    if not rows:
        return None
    user_id, username, is_active, expires_at = rows[0][:4]
    return TokenOwner(_viewer(user_id, username, [row[4:] for row in rows]), expires_at,
                      is_active)


# what a token's owner is read from: a change to any of them may change who the owner is
TOKEN_OWNER_TABLES = frozenset({"users", "api_tokens", "memberships", "parks", "groups",
                                "group_members"})


def _viewer(user_id: str, username: str, roles: Iterable[Sequence[Any]]) -> Viewer:
    memberships: dict[str, tuple[str, str, str | None, dict[str, Any]]] = {}
    groups: dict[str, set[str]] = {}
    for park_id, role, enterprise_id, slug, settings, group in roles:
        if park_id is None:
            continue  # a user of no park yet
        memberships[park_id] = (slug, role, enterprise_id, settings or {})
        if group is not None:
            groups.setdefault(park_id, set()).add(group)
    parks = {park_id: ParkRole(park_id, slug, role, enterprise_id,
                               frozenset(groups.get(park_id, ())), lanes_in(settings))
             for park_id, (slug, role, enterprise_id, settings) in memberships.items()}
    return Viewer(user_id, username, parks)


def worker_in(viewer: Viewer, park: Park) -> Worker | None:
    """The viewer as the park knows them, for the checks of who may work on a task."""
    role = viewer.parks.get(park.id)
    if role is None:
        return None
    return Worker(viewer.user_id, viewer.username, True, role.role, role.enterprise_id,
                  role.groups)


# --- single objects ----------------------------------------------------------------------


def park_for(session: Session, viewer: Viewer, slug: str, *,
             roles: Iterable[str] | None = None) -> Park:
    """A park the viewer belongs to; with ``roles``, one they hold one of those roles in."""
    role = next((r for r in viewer.parks.values() if r.slug == slug), None)
    if role is None:
        raise NotFound(f"park {slug!r}")
    if roles is not None and role.role not in roles:
        raise Forbidden(f"this needs the role {' or '.join(roles)} in park {slug!r}")
    return session.get_one(Park, role.park_id)


def definition_for(session: Session, viewer: Viewer, slug: str, key: str,
                   version: int) -> ProcessDefinition:
    """One deployed version of a procedure in a park the viewer belongs to."""
    park = park_for(session, viewer, slug)
    definition = session.scalars(select(ProcessDefinition).where(
        ProcessDefinition.park_id == park.id, ProcessDefinition.key == key,
        ProcessDefinition.version == version)).one_or_none() if version <= MAX_BIGINT else None
    if definition is None:
        raise NotFound(f"version {version} of procedure {key!r}")
    return definition


def instance_for(session: Session, viewer: Viewer, instance_id: str, *,
                 roles: Iterable[str] | None = None) -> Instance:
    """An application the viewer may see; with ``roles``, one they may act on in that role.

    Holding one of ``roles`` in the application's park is enough to act on it; someone who
    can see it without such a role gets 403, anybody else 404.
    """
    instance = None
    if len(instance_id) <= MAX_ID_LENGTH:
        instance = (held_instance(session, instance_id)
                    or instance_with_relations(session, instance_id))
    role = viewer.parks.get(instance.park_id) if instance is not None else None
    if instance is None or role is None:
        raise NotFound(f"application {instance_id!r}")
    if roles is not None and role.role in roles:
        return instance
    if not _sees_instance(session, viewer, role, instance):
        raise NotFound(f"application {instance_id!r}")
    if roles is not None:
        raise Forbidden(f"this needs the role {' or '.join(roles)} in this park")
    return instance


def task_for(session: Session, viewer: Viewer, task_id: str) -> HumanTask:
    """A task the viewer may see: one of an application they see (enterprises: their own)."""
    task = None
    if len(task_id) <= MAX_ID_LENGTH:
        task = held_task(session, task_id)
        if task is None and (found := task_with_instance(session, task_id)) is not None:
            task = found[0]
    role = viewer.parks.get(task.park_id) if task is not None else None
    if task is None or role is None:
        raise NotFound(f"task {task_id!r}")
    if not _sees_task(session, viewer, role, task):
        # who may follow the application learns that this step is not theirs; anyone else
        # learns nothing, not even that it exists
        if _sees_instance(session, viewer, role, task.instance):
            raise Forbidden(f"“{task.name}” is not yours to work on: it waits for the park's "
                            "reviewers, and you are not among its candidates")
        raise NotFound(f"task {task_id!r}")
    return task


def notification_for(session: Session, viewer: Viewer, notification_id: int) -> Notification:
    """One of the viewer's own notifications."""
    found = (session.get(Notification, notification_id)
             if 0 < notification_id <= MAX_BIGINT else None)
    if found is None or found.user_id != viewer.user_id or found.park_id not in viewer.parks:
        raise NotFound(f"notification {notification_id}")
    return found


def _sees_instance(session: Session, viewer: Viewer, role: ParkRole, instance: Instance, *,
                   copies: bool = True) -> bool:
    """Whether the viewer may read the application; with ``copies``, also as one it was
    copied to (抄送), which lets them read it and nothing more."""
    if role.role == "admin":
        return True
    if role.role == "enterprise":
        return instance.enterprise_id == role.enterprise_id
    involved = select(HumanTask.id).where(HumanTask.instance_id == instance.id,
                                          _involved(session, viewer, role))
    if session.scalar(select(exists(involved))) is True:
        return True
    return copies and _copied(session, viewer, instance.id)


def _copied(session: Session, viewer: Viewer, instance_id: str) -> bool:
    copy = select(InstanceCopy.id).where(InstanceCopy.instance_id == instance_id,
                                         InstanceCopy.user_id == viewer.user_id)
    return session.scalar(select(exists(copy))) is True


def _sees_task(session: Session, viewer: Viewer, role: ParkRole, task: HumanTask) -> bool:
    if role.role == "enterprise":
        return (task.instance.enterprise_id == role.enterprise_id
                and (task.lane in role.applicant_lanes
                     or any(g in role.applicant_lanes for g in task.candidate_groups)))
    # someone on this very task sees it (the usual case), and no query is needed to know
    if (viewer.username in (task.assignee, task.completed_by)
            or viewer.username in task.candidate_users
            or not role.groups.isdisjoint(task.candidate_groups)):
        return True
    # a copy lets one read the application, not its tasks
    return _sees_instance(session, viewer, role, task.instance, copies=False)


# --- lists -------------------------------------------------------------------------------


def visible_instances(session: Session, viewer: Viewer, park: Park) -> ColumnElement[bool]:
    """The condition on ``Instance`` selecting what the viewer sees of the park."""
    role = viewer.parks[park.id]
    in_park = Instance.park_id == park.id
    if role.role == "admin":
        return in_park
    if role.role == "enterprise":
        return and_(in_park, Instance.enterprise_id == role.enterprise_id)
    tasks = select(HumanTask.instance_id).where(HumanTask.park_id == park.id,
                                                _involved(session, viewer, role))
    copied = select(InstanceCopy.instance_id).where(InstanceCopy.park_id == park.id,
                                                    InstanceCopy.user_id == viewer.user_id)
    return and_(in_park, or_(Instance.id.in_(tasks), Instance.id.in_(copied)))


def visible_notifications(viewer: Viewer) -> ColumnElement[bool]:
    """The condition on ``Notification``: the viewer's own, from parks they still belong to."""
    return and_(Notification.user_id == viewer.user_id,
                Notification.park_id.in_(list(viewer.parks)))


def inbox_condition(session: Session, viewer: Viewer, scope: str) -> ColumnElement[bool]:
    """The condition on ``HumanTask`` for the viewer's inbox across all their parks.

    ``mine``: assigned to the viewer; ``groups``: unassigned and waiting for a group (or list
    of people) the viewer is in; ``all``: both. Enterprise users get their enterprise's tasks
    in the applicant lanes; staff never get those.
    """
    parts = [_inbox_in_park(session, viewer, role, scope) for role in viewer.parks.values()]
    return or_(*parts) if parts else false()


def _inbox_in_park(session: Session, viewer: Viewer, role: ParkRole,
                   scope: str) -> ColumnElement[bool]:
    applicant = _applicant(session, role)
    mine = HumanTask.assignee == viewer.username
    if role.role == "enterprise":
        own = HumanTask.instance_id.in_(select(Instance.id).where(
            Instance.park_id == role.park_id, Instance.enterprise_id == role.enterprise_id))
        base = and_(HumanTask.park_id == role.park_id, applicant, own)
        waiting: ColumnElement[bool] = HumanTask.assignee.is_(None)
    else:
        base = and_(HumanTask.park_id == role.park_id, not_(applicant))
        waiting = and_(HumanTask.assignee.is_(None), _candidate(session, viewer, role))
    chosen = {"mine": mine, "groups": waiting}.get(scope, or_(mine, waiting))
    return and_(base, chosen)


def _applicant(session: Session, role: ParkRole) -> ColumnElement[bool]:
    lanes = list(role.applicant_lanes)
    return or_(func.coalesce(HumanTask.lane, "").in_(lanes),
               _overlaps(session, HumanTask.candidate_groups, lanes))


def _candidate(session: Session, viewer: Viewer, role: ParkRole) -> ColumnElement[bool]:
    named = or_(_overlaps(session, HumanTask.candidate_users, [viewer.username]),
                _overlaps(session, HumanTask.candidate_groups, sorted(role.groups)))
    return or_(named, _names_nobody(session)) if role.role == "admin" else named


def _names_nobody(session: Session) -> ColumnElement[bool]:
    """Tasks whose diagram named no lane, assignee or candidates: the administrators' own."""
    length = (func.jsonb_array_length if session.get_bind().dialect.name == "postgresql"
              else func.json_array_length)
    return and_(HumanTask.assignee.is_(None), length(HumanTask.candidate_users) == 0,
                length(HumanTask.candidate_groups) == 0)


def _involved(session: Session, viewer: Viewer, role: ParkRole) -> ColumnElement[bool]:
    return or_(HumanTask.completed_by == viewer.username, HumanTask.assignee == viewer.username,
               _candidate(session, viewer, role))


def _overlaps(session: Session, column: object, values: list[str]) -> ColumnElement[bool]:
    """Whether a JSON array column holds any of ``values`` (jsonb ?| or SQLite json_each)."""
    if not values:
        return false()
    if session.get_bind().dialect.name == "postgresql":
        has_any: ColumnElement[bool] = type_coerce(column, postgresql.JSONB).has_any(
            postgresql.array(values))
        return has_any
    items = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(items).where(items.c.value.in_(values)))
