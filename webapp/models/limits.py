"""Counters of rate limits, shared by every web process (see webapp.ratelimits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base


class RateLimitCounter(Base):
    """Hits of one rate-limit key in its current fixed window, which ends at ``expires_at``."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(index=True)
