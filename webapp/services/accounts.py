"""Parks, groups, users, enterprises and calendar overrides: creating and finding them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from functools import cache
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import (
    DAY_KINDS,
    DEFAULT_TIMEZONE,
    ROLES,
    CalendarDay,
    Enterprise,
    Group,
    Membership,
    Park,
    User,
)
from webapp.security import hash_password
from webapp.services import audit
from webapp.services.calendars import calendar_changed
from webapp.services.errors import AlreadyExists, Invalid, NotFound

SLUG_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
# \w admits Chinese names as well as ASCII ones
USERNAME_PATTERN = re.compile(r"[\w.@+-]{2,64}")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024


def get_park(session: Session, slug: str) -> Park:
    """Return the park with this slug, or raise NotFound."""
    park = session.scalars(select(Park).where(Park.slug == slug)).one_or_none()
    if park is None:
        raise NotFound(f"park {slug!r}")
    return park


def find_user(session: Session, username: str) -> User | None:
    """Return the user with this username, if there is one."""
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def get_group(session: Session, park: Park, name: str) -> Group:
    """Return the park's group with this name, or raise NotFound."""
    group = session.scalars(
        select(Group).where(Group.park_id == park.id, Group.name == name)
    ).one_or_none()
    if group is None:
        raise NotFound(f"group {name!r} in park {park.slug!r}")
    return group


def create_park(
    session: Session, *, actor: str | None, slug: str, name: str, timezone: str = DEFAULT_TIMEZONE
) -> Park:
    """Add a park (tenant) with its time zone."""
    if not SLUG_PATTERN.fullmatch(slug):
        raise Invalid(
            f"park slug {slug!r} is not valid: use 2-40 lowercase letters, digits and hyphens"
        )
    name = _clean_name("park name", name, 200)
    _check_timezone(timezone)
    if session.scalars(select(Park.id).where(Park.slug == slug)).first() is not None:
        raise AlreadyExists(f"park {slug!r}")
    park = Park(slug=slug, name=name, timezone=timezone, settings={})
    session.add(park)
    session.flush()
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="park.created",
        details={"slug": slug, "name": name, "timezone": timezone},
    )
    return park


def create_group(session: Session, *, actor: str | None, park_slug: str, name: str) -> Group:
    """Add a group to a park; lanes and candidate groups of that name route to it."""
    name = _clean_name("group name", name, 100)
    park = get_park(session, park_slug)
    existing = select(Group.id).where(Group.park_id == park.id, Group.name == name)
    if session.scalars(existing).first() is not None:
        raise AlreadyExists(f"group {name!r} in park {park_slug!r}")
    group = Group(park_id=park.id, name=name)
    session.add(group)
    session.flush()
    audit.record(
        session, park_id=park.id, actor=actor, action="group.created", details={"name": name}
    )
    return group


def create_user(
    session: Session,
    *,
    actor: str | None,
    username: str,
    password: str | None,
    park_slug: str,
    role: str,
    groups: Iterable[str] = (),
    enterprise: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
) -> User:
    """Give a user a role in a park, creating the user and the enterprise if new.

    An existing user keeps their password and profile; they only gain the membership.
    """
    _check_membership_args(username, role, enterprise)
    park = get_park(session, park_slug)
    group_rows = [get_group(session, park, name) for name in dict.fromkeys(groups)]
    user = find_user(session, username)
    if user is None:
        user = _new_user(session, actor, park, username, password, display_name, email)
    elif session.get(Membership, (user.id, park.id)) is not None:
        raise AlreadyExists(f"user {username!r} in park {park_slug!r}")
    company = _get_or_create_enterprise(session, actor, park, enterprise) if enterprise else None
    session.add(
        Membership(
            user_id=user.id,
            park_id=park.id,
            role=role,
            enterprise_id=company.id if company else None,
        )
    )
    user.groups.extend(group for group in group_rows if group not in user.groups)
    session.flush()
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="membership.created",
        details={
            "username": username,
            "role": role,
            "groups": [group.name for group in group_rows],
            "enterprise": enterprise,
        },
    )
    return user


def set_calendar_day(
    session: Session, *, actor: str | None, park_slug: str, day: date, kind: str
) -> CalendarDay:
    """Mark one day of a park's calendar as a workday or a holiday, whatever it was."""
    if kind not in DAY_KINDS:
        raise Invalid(f"day kind {kind!r} is not valid: use one of {', '.join(DAY_KINDS)}")
    park = get_park(session, park_slug)
    entry = session.get(CalendarDay, (park.id, day))
    before = {"kind": entry.kind} if entry else None
    if entry is None:
        entry = CalendarDay(park_id=park.id, day=day, kind=kind)
        session.add(entry)
    entry.kind = kind
    session.flush()
    calendar_changed(session, park)
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="calendar.day_set",
        details={"day": day.isoformat(), "kind": kind},
        before=before,
        after={"kind": kind},
    )
    return entry


def _check_membership_args(username: str, role: str, enterprise: str | None) -> None:
    if not USERNAME_PATTERN.fullmatch(username):
        raise Invalid(f"username {username!r} is not valid: use 2-64 letters, digits and . _ @ + -")
    if role not in ROLES:
        raise Invalid(f"role {role!r} is not valid: use one of {', '.join(ROLES)}")
    if role == "enterprise" and not enterprise:
        raise Invalid("an enterprise user needs an enterprise")
    if role != "enterprise" and enterprise:
        raise Invalid(f"only enterprise users belong to an enterprise, not a {role}")


def _new_user(
    session: Session,
    actor: str | None,
    park: Park,
    username: str,
    password: str | None,
    display_name: str | None,
    email: str | None,
) -> User:
    password = _checked_password(password)
    if email is not None and "@" not in email:
        raise Invalid(f"e-mail address {email!r} is not valid")
    user = User(
        username=username,
        password_hash=hash_password(password),
        display_name=_clean_name("display name", display_name or username, 100),
        email=email,
        is_active=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session, park_id=park.id, actor=actor, action="user.created", details={"username": username}
    )
    return user


def _checked_password(password: str | None) -> str:
    if not password:
        raise Invalid("a new user needs a password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"the password is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"the password is too long: use at most {MAX_PASSWORD_LENGTH} characters")
    return password


def _get_or_create_enterprise(
    session: Session, actor: str | None, park: Park, name: str
) -> Enterprise:
    name = _clean_name("enterprise name", name, 200)
    company = session.scalars(
        select(Enterprise).where(Enterprise.park_id == park.id, Enterprise.name == name)
    ).one_or_none()
    if company is not None:
        return company
    company = Enterprise(park_id=park.id, name=name)
    session.add(company)
    session.flush()
    audit.record(
        session, park_id=park.id, actor=actor, action="enterprise.created", details={"name": name}
    )
    return company


def _clean_name(what: str, name: str, max_length: int) -> str:
    name = name.strip()
    if not name:
        raise Invalid(f"the {what} is empty")
    if len(name) > max_length:
        raise Invalid(f"the {what} is too long: use at most {max_length} characters")
    return name


def _check_timezone(name: str) -> None:
    # the list, not ZoneInfo(name): that also accepts files like "localtime" and "posixrules"
    if name not in _known_timezones():
        raise Invalid(f"time zone {name!r} is not known: use an IANA name such as Asia/Shanghai")


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())
