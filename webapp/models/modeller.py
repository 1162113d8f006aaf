"""Drafts of the browser's editors: a diagram or decision table saved as it is drawn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, new_id, utcnow


class ModellerDraft(Base):
    """One administrator's unsaved work in the modeler, per procedure (or new diagram).

    ``target`` names what is being edited: ``process:<key>`` for a deployed procedure,
    ``process:`` for a new diagram. The XML is the editor's, as the browser last sent it; it
    is no deployment and nothing runs it.
    """

    __tablename__ = "modeller_drafts"
    __table_args__ = (UniqueConstraint("park_id", "user_id", "target"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    target: Mapped[str] = mapped_column(String(300))
    xml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
