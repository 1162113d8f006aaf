"""Deployed process definitions: immutable BPMN/DMN/forms content, versioned per key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, JSONType, new_id, utcnow


class ProcessDefinition(Base):
    """One deployed version of a procedure; never changed once deployed."""

    __tablename__ = "process_definitions"
    __table_args__ = (
        UniqueConstraint("park_id", "key", "version"),
        # redeploying unchanged content finds the existing version through this
        Index("ix_process_definitions_content", "park_id", "key", "content_hash"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    # the BPMN process id
    key: Mapped[str] = mapped_column(String(255))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    # the sources are loaded only when a version is parsed (once per process, then cached)
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    dmn_xml: Mapped[list[str]] = mapped_column(JSONType, default=list, deferred=True)
    # the other BPMN files of its deployment that its call activities reach
    called_bpmn_xml: Mapped[list[str]] = mapped_column(JSONType, default=list, deferred=True)
    # formKey -> JSON Schema
    forms: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, deferred=True)
    # ISO 8601 duration or working days ("5WD") from start to the promised answer
    promised_duration: Mapped[str | None] = mapped_column(String(40))
    deployed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    deployed_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ProcessDefinition {self.key} v{self.version}>"
