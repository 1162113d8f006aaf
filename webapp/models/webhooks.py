"""Outbound webhooks: a park's subscriptions to its events, and each delivery of one event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.db import Base, JSONType, new_id, one_of, utcnow

# the events a park may subscribe to (a contract, like the audit actions)
WEBHOOK_EVENTS = (
    "application.started",
    "step.completed",
    "application.returned",
    "application.finished",
    "task.overdue",
)
# pending: queued or waiting for a retry; delivered: a 2xx; failed: no attempts left;
# skipped: its subscription was disabled or removed before it went out
DELIVERY_STATUSES = ("pending", "delivered", "failed", "skipped")


class WebhookSubscription(Base):
    """A URL that receives the park's events it names, signed with its own secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(255), default="")
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # the HMAC-SHA256 key deliveries are signed with; the receiver keeps a copy
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<WebhookSubscription {self.id} {self.url}>"


class WebhookDelivery(Base):
    """One event sent to one subscription: its body, and how its attempts went."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        one_of("status", DELIVERY_STATUSES),
        # the delivery log: a subscription's deliveries, newest first
        Index("ix_webhook_deliveries_subscription", "subscription_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    park_id: Mapped[str] = mapped_column(ForeignKey("parks.id"))
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("instances.id"))
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.id} {self.event} {self.status}>"
