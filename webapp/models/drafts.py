"""Applications saved unfinished (暂存): what was typed and uploaded, not yet an application."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, JSONType, new_id, utcnow


class Draft(Base):
    """One person's unfinished application form for a procedure.

    A draft is no application: it has no reference, no clock and no history. ``values`` are the
    form as the browser sent it (file fields hold the ids of the person's pending uploads, which
    stay on the server, pending, until the application is sent).
    """

    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_owner", "park_id", "user_id", "updated_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    process_key: Mapped[str] = mapped_column(String(255))
    values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
