"""The park's people a reviewer picks from (转办, 委派, 加签, 委托): its staff, searchable."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.models import Group, GroupMember, Membership, Park, User


def search(
    session: Session, park: Park, text: str = "", *, limit: int = 20
) -> list[dict[str, Any]]:
    """Active staff (administrators, reviewers) of ``park`` whose username, name or group
    holds ``text``, by username, with their groups there."""
    wanted = text.strip()
    staff = (
        select(User.id, User.username, User.display_name, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.park_id == park.id, Membership.role != "enterprise", User.is_active)
    )
    if wanted:
        pattern = f"%{_escaped(wanted)}%"
        in_group = (
            select(GroupMember.user_id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.park_id == park.id, Group.name.ilike(pattern, escape="\\"))
        )
        staff = staff.where(
            or_(
                User.username.ilike(pattern, escape="\\"),
                User.display_name.ilike(pattern, escape="\\"),
                User.id.in_(in_group),
            )
        )
    rows = session.execute(staff.order_by(User.username).limit(limit)).all()
    groups = _groups(session, park, [row.id for row in rows])
    return [
        {
            "username": row.username,
            "display_name": row.display_name,
            "role": row.role,
            "groups": groups.get(row.id, []),
        }
        for row in rows
    ]


def _groups(session: Session, park: Park, user_ids: list[str]) -> dict[str, list[str]]:
    if not user_ids:
        return {}
    found: dict[str, list[str]] = {}
    for user_id, name in session.execute(
        select(GroupMember.user_id, Group.name)
        .join(Group, Group.id == GroupMember.group_id)
        .where(Group.park_id == park.id, GroupMember.user_id.in_(user_ids))
        .order_by(Group.name)
    ):
        found.setdefault(user_id, []).append(name)
    return found


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
