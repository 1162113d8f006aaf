"""Parks (tenants), their calendars, people, groups and enterprises."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.db import Base, JSONType, new_id, one_of, utcnow

ROLES = ("admin", "reviewer", "enterprise")
DAY_KINDS = ("workday", "holiday")
DEFAULT_TIMEZONE = "Asia/Shanghai"


class Park(Base):
    """A tenant: one industrial park with its own people, procedures and calendar."""

    __tablename__ = "parks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    # e.g. scripts_enabled, default_escalation_group, webhooks, reference_prefix;
    # reassign the dict to change it: in-place edits are not tracked
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # raised with every change of the calendar entries or the time zone: processes keep the
    # calendar they built for a revision and build a new one when the number moves
    calendar_revision: Mapped[int] = mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<Park {self.slug}>"


class CalendarDay(Base):
    """A park's override of one day: a make-up workday or an extra holiday."""

    __tablename__ = "calendar_days"
    __table_args__ = (one_of("kind", DAY_KINDS),)

    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))


class User(Base):
    """A person who can sign in; what they may do depends on their memberships."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user")
    groups: Mapped[list[Group]] = relationship(secondary="group_members", back_populates="members")

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Enterprise(Base):
    """A company in a park; its users see its applications."""

    __tablename__ = "enterprises"
    __table_args__ = (UniqueConstraint("park_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    name: Mapped[str] = mapped_column(String(200))
    # the 18-character unified social credit code, when known
    credit_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """A user's role in one park (and, for enterprise users, their enterprise)."""

    __tablename__ = "memberships"
    __table_args__ = (
        one_of("role", ROLES),
        CheckConstraint(
            "(role = 'enterprise') = (enterprise_id IS NOT NULL)", name="enterprise_role"
        ),
    )

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))

    user: Mapped[User] = relationship(back_populates="memberships")
    park: Mapped[Park] = relationship()
    enterprise: Mapped[Enterprise | None] = relationship()


class Group(Base):
    """A set of people in a park; lanes and candidate groups resolve to these by name."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("park_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    name: Mapped[str] = mapped_column(String(100))

    members: Mapped[list[User]] = relationship(secondary="group_members", back_populates="groups")


class GroupMember(Base):
    """One user in one group."""

    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApiToken(Base):
    """A bearer token for the REST API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
