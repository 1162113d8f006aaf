"""免申即享: enterprises' profiles, the park's policies, and who each policy finds.

A policy names the procedure it is applied for and holds its eligibility as a DMN table
(engine.eligibility). When an enterprise's profile or a policy changes, every enterprise the
table finds gets an offer (``PolicyOffer``): a notice and an application filled in from its
profile, which it only confirms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, BigIntId, JSONType, new_id, one_of, utcnow

# offered: waiting for the enterprise; confirmed: it applied; declined: it said no;
# withdrawn: it no longer matches (its profile or the policy changed) before it answered
OFFER_STATUSES = ("offered", "confirmed", "declined", "withdrawn")


class EnterpriseProfile(Base):
    """What a park knows of an enterprise for its policies: tags and facts."""

    __tablename__ = "enterprise_profiles"

    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"), index=True)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # industry, size, employees, revenue, rd_spend (万元), certifications, founded ...
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class Policy(Base):
    """A policy the park offers to the enterprises its eligibility table finds."""

    __tablename__ = "policies"
    __table_args__ = (UniqueConstraint("park_id", "key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # the procedure an offer applies for (its newest version when confirmed)
    process_key: Mapped[str] = mapped_column(String(255))
    eligibility: Mapped[str] = mapped_column(Text)  # the DMN file
    decision_id: Mapped[str] = mapped_column(String(255))
    # start form field -> profile fact it is filled from, beyond the fields named like a fact
    prefill: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PolicyOffer(Base):
    """A policy offered to one enterprise its table found, with the application filled in."""

    __tablename__ = "policy_offers"
    __table_args__ = (
        one_of("status", OFFER_STATUSES),
        UniqueConstraint("policy_id", "enterprise_id"),
        Index("ix_policy_offers_enterprise", "enterprise_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    policy_id: Mapped[str] = mapped_column(ForeignKey("policies.id"))
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"))
    status: Mapped[str] = mapped_column(String(20), default="offered")
    # the policy's revision the enterprise was found by, and what its application starts with
    policy_revision: Mapped[int] = mapped_column(default=1)
    prefilled: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    answered_by: Mapped[str | None] = mapped_column(String(64))
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("instances.id"))
