"""Inbox filters a person saved under a name, to open again with one click."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, JSONType, new_id, utcnow


class SavedFilter(Base):
    """One person's named inbox filter in one park.

    ``query`` holds the filter and its order as the inbox reads them: ``scope``,
    ``process_key``, ``q``, ``overdue`` and ``sort`` (see webapp.services.saved_filters).
    """

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "park_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    name: Mapped[str] = mapped_column(String(40))
    query: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
