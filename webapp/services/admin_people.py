"""The park administrator's people: accounts, roles, groups and enterprises of one park.

Every function acts inside one park: a user, group or enterprise of another park is NotFound.
Refusals are ``Invalid`` with ``details`` mapping each form field to problem codes (see
``CODES``), which the pages put beside the field in the user's language. Every change is
written to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import ROLES, Enterprise, Group, GroupMember, Instance, Membership, Park, User
from webapp.security import hash_password
from webapp.services import accounts, audit
from webapp.services.accounts import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, USERNAME_PATTERN
from webapp.services.errors import AlreadyExists, Forbidden, Invalid, NotFound

# the unified social credit code: 18 digits and capital letters (no I, O, S, V, Z)
CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
MAX_ID_LENGTH = 64
CODES = ("required", "too_long", "taken", "bad_username", "password_short", "password_long",
         "bad_role", "needs_enterprise", "own_role", "unknown", "bad_credit_code", "bad_email")


@dataclass(frozen=True)
class Person:
    """A member of the park as the user list shows them."""

    id: str
    username: str
    display_name: str
    email: str | None
    role: str
    enterprise_id: str | None
    enterprise: str | None
    groups: tuple[str, ...]
    is_active: bool


def refuse(field: str, code: str, message: str) -> Invalid:
    """An Invalid naming one field and its problem code."""
    return Invalid(message, details={field: [code]})


def people(session: Session, park: Park) -> list[Person]:
    """Every member of the park, by username."""
    groups: dict[str, list[str]] = {}
    for user_id, name in session.execute(
            select(GroupMember.user_id, Group.name).join(Group, Group.id == GroupMember.group_id)
            .where(Group.park_id == park.id).order_by(Group.name)):
        groups.setdefault(user_id, []).append(name)
    rows = session.execute(
        select(User, Membership, Enterprise.name)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(Enterprise, Enterprise.id == Membership.enterprise_id)
        .where(Membership.park_id == park.id).order_by(User.username)).all()
    return [Person(user.id, user.username, user.display_name, user.email, membership.role,
                   membership.enterprise_id, enterprise, tuple(groups.get(user.id, ())),
                   user.is_active)
            for user, membership, enterprise in rows]


def member(session: Session, park: Park, user_id: str) -> tuple[User, Membership]:
    """A member of the park and their membership; NotFound for anyone else."""
    user = session.get(User, user_id) if len(user_id) <= MAX_ID_LENGTH else None
    membership = session.get(Membership, (user.id, park.id)) if user is not None else None
    if user is None or membership is None:
        raise NotFound(f"user {user_id!r}")
    return user, membership


def add_user(session: Session, park: Park, *, actor: str, username: str, password: str,
             display_name: str, email: str | None, role: str, group_ids: Iterable[str],
             enterprise_id: str | None) -> User:
    """Create a new account with its role, groups and enterprise in the park."""
    username = username.strip()
    if not username:
        raise refuse("username", "required", "the username is empty")
    if not USERNAME_PATTERN.fullmatch(username):
        raise refuse("username", "bad_username", f"username {username!r} is not valid")
    if accounts.find_user(session, username) is not None:
        # an account of another park is never attached from here: that would reveal it
        raise refuse("username", "taken", f"username {username!r} is taken")
    _check_password(password)
    if email and "@" not in email:
        raise refuse("email", "bad_email", f"e-mail address {email!r} is not valid")
    company = _role_enterprise(session, park, role, enterprise_id)
    groups = [group.name for group in _groups(session, park, group_ids)]
    return accounts.create_user(
        session, actor=actor, username=username, password=password, park_slug=park.slug,
        role=role, groups=groups, enterprise=company.name if company else None,
        display_name=display_name.strip() or username, email=email or None)


def reset_password(session: Session, park: Park, *, actor: str, user_id: str,
                   password: str) -> None:
    """Give a member a new password (only if the actor administers all of their parks)."""
    user, _membership = member(session, park, user_id)
    _check_password(password)
    actor_user = accounts.find_user(session, actor)
    their_parks = set(session.scalars(select(Membership.park_id)
                                      .where(Membership.user_id == user.id)))
    admin_of = set(session.scalars(select(Membership.park_id).where(
        Membership.user_id == (actor_user.id if actor_user else ""), Membership.role == "admin")))
    if not their_parks <= admin_of:
        raise Forbidden("this person also belongs to a park you do not administer")
    user.password_hash = hash_password(password)
    session.flush()
    audit.record(session, park_id=park.id, actor=actor, action="user.password_reset",
                 details={"username": user.username})


def change_role(session: Session, park: Park, *, actor: str, user_id: str, role: str,
                enterprise_id: str | None) -> None:
    """Change a member's role in the park (and their enterprise, for enterprise users)."""
    user, membership = member(session, park, user_id)
    if user.username == actor and role != "admin":
        raise refuse("role", "own_role", "you cannot take away your own administrator role")
    company = _role_enterprise(session, park, role, enterprise_id)
    before = {"role": membership.role, "enterprise_id": membership.enterprise_id}
    membership.role = role
    membership.enterprise_id = company.id if company else None
    session.flush()
    after = {"role": role, "enterprise_id": membership.enterprise_id}
    if before != after:
        audit.record(session, park_id=park.id, actor=actor, action="membership.changed",
                     details={"username": user.username}, before=before, after=after)


def set_groups(session: Session, park: Park, *, actor: str, user_id: str,
               group_ids: Iterable[str]) -> None:
    """Make a member's groups in this park exactly ``group_ids`` (other parks' stay)."""
    user, _membership = member(session, park, user_id)
    chosen = _groups(session, park, group_ids)
    before = sorted(group.name for group in user.groups if group.park_id == park.id)
    user.groups = [g for g in user.groups if g.park_id != park.id] + chosen
    session.flush()
    after = sorted(group.name for group in chosen)
    if before != after:
        audit.record(session, park_id=park.id, actor=actor, action="user.groups_set",
                     details={"username": user.username},
                     before={"groups": before}, after={"groups": after})


def add_group(session: Session, park: Park, *, actor: str, name: str) -> Group:
    """Create a group in the park."""
    name = name.strip()
    if not name:
        raise refuse("name", "required", "the group name is empty")
    if len(name) > 100:
        raise refuse("name", "too_long", "the group name is too long")
    try:
        return accounts.create_group(session, actor=actor, park_slug=park.slug, name=name)
    except AlreadyExists:
        raise refuse("name", "taken", f"group {name!r} already exists") from None


def get_group(session: Session, park: Park, group_id: str) -> Group:
    """A group of the park; NotFound for anyone else's."""
    group = session.get(Group, group_id) if len(group_id) <= MAX_ID_LENGTH else None
    if group is None or group.park_id != park.id:
        raise NotFound(f"group {group_id!r}")
    return group


def enterprises(session: Session, park: Park) -> list[tuple[Enterprise, int, int]]:
    """The park's enterprises with their user and application counts, by name."""
    users = dict(session.execute(
        select(Membership.enterprise_id, func.count()).where(Membership.park_id == park.id)
        .group_by(Membership.enterprise_id)).all())
    applications = dict(session.execute(
        select(Instance.enterprise_id, func.count()).where(Instance.park_id == park.id)
        .group_by(Instance.enterprise_id)).all())
    return [(company, users.get(company.id, 0), applications.get(company.id, 0))
            for company in session.scalars(select(Enterprise).where(
                Enterprise.park_id == park.id).order_by(Enterprise.name))]


def add_enterprise(session: Session, park: Park, *, actor: str, name: str,
                   credit_code: str | None) -> Enterprise:
    """Register an enterprise in the park."""
    name, credit_code = _enterprise_fields(session, park, name, credit_code, None)
    company = Enterprise(park_id=park.id, name=name, credit_code=credit_code)
    session.add(company)
    session.flush()
    audit.record(session, park_id=park.id, actor=actor, action="enterprise.created",
                 details={"name": name, "credit_code": credit_code})
    return company


def rename_enterprise(session: Session, park: Park, *, actor: str, enterprise_id: str,
                      name: str, credit_code: str | None) -> None:
    """Change an enterprise's name or credit code."""
    company = get_enterprise(session, park, enterprise_id)
    name, credit_code = _enterprise_fields(session, park, name, credit_code, company.id)
    before = {"name": company.name, "credit_code": company.credit_code}
    company.name, company.credit_code = name, credit_code
    session.flush()
    after = {"name": name, "credit_code": credit_code}
    if before != after:
        audit.record(session, park_id=park.id, actor=actor, action="enterprise.renamed",
                     details={"enterprise_id": company.id}, before=before, after=after)


def get_enterprise(session: Session, park: Park, enterprise_id: str) -> Enterprise:
    """An enterprise of the park; NotFound for anyone else's."""
    company = session.get(Enterprise, enterprise_id) if len(enterprise_id) <= MAX_ID_LENGTH \
        else None
    if company is None or company.park_id != park.id:
        raise NotFound(f"enterprise {enterprise_id!r}")
    return company


def _enterprise_fields(session: Session, park: Park, name: str, credit_code: str | None,
                       own_id: str | None) -> tuple[str, str | None]:
    name = name.strip()
    if not name:
        raise refuse("name", "required", "the enterprise name is empty")
    if len(name) > 200:
        raise refuse("name", "too_long", "the enterprise name is too long")
    same = session.scalars(select(Enterprise.id).where(
        Enterprise.park_id == park.id, Enterprise.name == name)).first()
    if same is not None and same != own_id:
        raise refuse("name", "taken", f"enterprise {name!r} already exists")
    code = (credit_code or "").strip().upper() or None
    if code is not None and not CREDIT_CODE.fullmatch(code):
        raise refuse("credit_code", "bad_credit_code", f"credit code {code!r} is not valid")
    return name, code


def _role_enterprise(session: Session, park: Park, role: str,
                     enterprise_id: str | None) -> Enterprise | None:
    if role not in ROLES:
        raise refuse("role", "bad_role", f"role {role!r} is not valid")
    if role != "enterprise":
        return None
    if not enterprise_id:
        raise refuse("enterprise", "needs_enterprise", "an enterprise user needs an enterprise")
    try:
        return get_enterprise(session, park, enterprise_id)
    except NotFound:
        raise refuse("enterprise", "unknown", "no such enterprise in this park") from None


def _groups(session: Session, park: Park, group_ids: Iterable[str]) -> list[Group]:
    chosen = []
    for group_id in dict.fromkeys(group_ids):
        try:
            chosen.append(get_group(session, park, group_id))
        except NotFound:
            raise refuse("groups", "unknown", "no such group in this park") from None
    return chosen


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise refuse("password", "password_short", "the password is too short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise refuse("password", "password_long", "the password is too long")


__all__ = [
    "CODES",
    "Person",
    "add_enterprise",
    "add_group",
    "add_user",
    "change_role",
    "enterprises",
    "get_enterprise",
    "get_group",
    "member",
    "people",
    "rename_enterprise",
    "reset_password",
    "set_groups",
]
