"""Outbound webhooks: a park's events posted, signed, to the URLs it subscribed.

Events (``WEBHOOK_EVENTS``): ``application.started``, ``step.completed`` (a person finished
a step), ``application.returned`` (退回), ``application.finished`` and ``task.overdue``.
When a state change produces one, a ``WebhookDelivery`` row and a ``webhook_delivery`` job
per interested subscription are written in the same transaction (so an event is sent if and
only if it happened); the worker posts it and retries with a doubling backoff
(``MAX_ATTEMPTS`` in all), and the delivery log keeps each status code and attempt.

The park keeps the events its enabled subscriptions want in its settings
(``webhook_events``), rewritten whenever a subscription changes; the park row is at hand on
every state change, so a park without subscriptions costs the hot path no query at all.

Each post carries ``X-Parkflow-Event``, ``X-Parkflow-Delivery`` (the delivery id: the same on
a retry, for the receiver to drop duplicates), ``X-Parkflow-Timestamp`` (Unix seconds of the
attempt) and ``X-Parkflow-Signature: sha256=<hex>``, the HMAC-SHA256 with the subscription's
secret of ``<timestamp>.<body>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets as tokens
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import Snapshot
from webapp.db import new_id
from webapp.models import (
    WEBHOOK_EVENTS,
    HumanTask,
    Instance,
    Park,
    WebhookDelivery,
    WebhookSubscription,
)
from webapp.services import audit, jobs
from webapp.services.errors import Invalid, NotFound
from webapp.services.jobs import ClaimedJob, JobContext

JOB = "webhook_delivery"
EVENTS_SETTING = "webhook_events"
MAX_ATTEMPTS = 6
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_MAX = timedelta(hours=1)
MAX_SUBSCRIPTIONS = 50
MAX_URL = 2000
ERROR_TEXT = 2000
RETURN_OUTCOME = "return"
_URL = re.compile(r"https?://[^\s/?#]+[^\s]*")
SIGNATURE_HEADER = "X-Parkflow-Signature"
TIMESTAMP_HEADER = "X-Parkflow-Timestamp"


@dataclass(frozen=True)
class Event:
    """One thing that happened, as subscribers receive it."""

    name: str
    data: Mapping[str, Any]
    task_id: str | None = None


# --- subscriptions -------------------------------------------------------------------------


def subscriptions(session: Session, park: Park) -> list[WebhookSubscription]:
    """The park's subscriptions, oldest first."""
    return list(
        session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.park_id == park.id)
            .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
        )
    )


def subscription(session: Session, park: Park, subscription_id: str) -> WebhookSubscription:
    """One subscription of the park; NotFound for any other id."""
    found = (
        session.get(WebhookSubscription, subscription_id) if len(subscription_id) <= 36 else None
    )
    if found is None or found.park_id != park.id:
        raise NotFound(f"webhook subscription {subscription_id!r}")
    return found


def subscribe(
    session: Session,
    park: Park,
    *,
    actor: str,
    url: str,
    events: Sequence[str],
    description: str = "",
    now: datetime,
) -> WebhookSubscription:
    """Subscribe ``url`` to ``events``; a new signing secret is made for it."""
    if len(subscriptions(session, park)) >= MAX_SUBSCRIPTIONS:
        raise Invalid(
            f"a park has at most {MAX_SUBSCRIPTIONS} webhook subscriptions",
            details={"url": [f"at most {MAX_SUBSCRIPTIONS} subscriptions"]},
        )
    found = WebhookSubscription(
        id=new_id(),
        park_id=park.id,
        url=_checked_url(url),
        events=_checked_events(events),
        description=_checked_description(description),
        secret=new_secret(),
        enabled=True,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(found)
    session.flush()
    _cache_events(session, park)
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="webhook.subscribed",
        details={"subscription_id": found.id, "url": found.url, "events": found.events},
    )
    return found


def change(
    session: Session,
    park: Park,
    subscription_id: str,
    *,
    actor: str,
    url: str | None = None,
    events: Sequence[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
    new_secret_wanted: bool = False,
    now: datetime,
) -> WebhookSubscription:
    """Change what is given (a new secret on request); ``enabled`` False stops deliveries."""
    found = subscription(session, park, subscription_id)
    before = _shown(found)
    if url is not None:
        found.url = _checked_url(url)
    if events is not None:
        found.events = _checked_events(events)
    if description is not None:
        found.description = _checked_description(description)
    if enabled is not None:
        found.enabled = enabled
    if new_secret_wanted:
        found.secret = new_secret()
    after = _shown(found)
    if after == before and not new_secret_wanted:
        return found
    found.updated_at = now
    session.flush()
    _cache_events(session, park)
    action = (
        "webhook.disabled"
        if before["enabled"] and not after["enabled"]
        else "webhook.enabled"
        if after["enabled"] and not before["enabled"]
        else "webhook.changed"
    )
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action=action,
        details={"subscription_id": found.id, "new_secret": new_secret_wanted},
        before=before,
        after=after,
    )
    return found


def new_secret() -> str:
    """A fresh signing secret."""
    return f"whsec_{tokens.token_urlsafe(24)}"


def _cache_events(session: Session, park: Park) -> None:
    wanted = sorted(
        {event for sub in subscriptions(session, park) if sub.enabled for event in sub.events}
    )
    if (park.settings.get(EVENTS_SETTING) or []) != wanted:
        park.settings = {**park.settings, EVENTS_SETTING: wanted}
        session.flush()


def _shown(found: WebhookSubscription) -> dict[str, Any]:
    return {
        "url": found.url,
        "events": list(found.events),
        "description": found.description,
        "enabled": found.enabled,
    }


def _checked_url(url: str) -> str:
    text = (url or "").strip()
    if len(text) > MAX_URL or not _URL.fullmatch(text):
        raise Invalid(
            f"{text!r} is not an http(s) address", details={"url": ["is not an http(s) address"]}
        )
    return text


def _checked_events(events: Sequence[str]) -> list[str]:
    chosen = [event for event in WEBHOOK_EVENTS if event in set(events)]
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown or not chosen:
        raise Invalid(
            "choose one or more of " + ", ".join(WEBHOOK_EVENTS),
            details={"events": [f"one or more of {', '.join(WEBHOOK_EVENTS)}"]},
        )
    return chosen


def _checked_description(text: str) -> str:
    cleaned = (text or "").strip()
    if len(cleaned) > 255:
        raise Invalid(
            "the description is longer than 255 characters",
            details={"description": ["is at most 255 characters"]},
        )
    return cleaned


# --- events: queued with the change that made them -----------------------------------------


def wanted(park: Park) -> frozenset[str]:
    """The events some enabled subscription of the park wants (no query: the park's row)."""
    return frozenset(park.settings.get(EVENTS_SETTING) or ())


def snapshot_events(instance: Instance, snapshot: Snapshot, *, started: bool) -> list[Event]:
    """The events a state change of ``instance`` makes (call only when the park wants any)."""
    found = []
    if started:
        found.append(Event("application.started", {}))
    for step in snapshot.steps:
        if step.completed_by is None:
            continue  # timers, gateways, services: no person finished a step
        found.append(
            Event(
                "step.completed",
                {
                    "task_id": step.task_id,
                    "element_id": step.element_id,
                    "name": step.name,
                    "completed_by": step.completed_by,
                    "outcome": step.outcome,
                    "completed_at": step.completed_at.isoformat(),
                },
                task_id=step.task_id,
            )
        )
        if step.outcome == RETURN_OUTCOME:
            data = step.data or {}
            found.append(
                Event(
                    "application.returned",
                    {
                        "task_id": step.task_id,
                        "element_id": step.element_id,
                        "name": step.name,
                        "returned_to": data.get("return_to"),
                        "reasons": list(data.get("return_reasons") or []),
                    },
                    task_id=step.task_id,
                )
            )
    if snapshot.status == "completed" and instance.ended_at is None:
        found.append(Event("application.finished", {"status": snapshot.status}))
    return found


def on_snapshot(
    session: Session,
    instance: Instance,
    park: Park,
    snapshot: Snapshot,
    *,
    started: bool,
    now: datetime,
) -> list[dict[str, Any]]:
    """Deliveries (and their jobs, returned for the caller to queue) of a state change."""
    events = wanted(park)
    if not events:
        return []
    happened = [
        event
        for event in snapshot_events(instance, snapshot, started=started)
        if event.name in events
    ]
    result = snapshot.status
    return queue(session, park, instance, happened, now, status=result)


def on_overdue(session: Session, task: HumanTask, now: datetime) -> None:
    """Queue ``task.overdue`` for a task that just ran over its due time."""
    instance = task.instance
    park = instance.park
    if "task.overdue" not in wanted(park):
        return
    event = Event(
        "task.overdue",
        {
            "task_id": task.id,
            "element_id": task.element_id,
            "name": task.name,
            "assignee": task.assignee,
            "due_at": task.due_at.isoformat() if task.due_at else None,
        },
        task_id=task.id,
    )
    jobs.enqueue(session, queue(session, park, instance, [event], now, status=instance.status))


def queue(
    session: Session,
    park: Park,
    instance: Instance | None,
    events: Iterable[Event],
    now: datetime,
    *,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """One delivery row per event and interested subscription; their jobs."""
    events = list(events)
    if not events:
        return []
    subs = [sub for sub in subscriptions(session, park) if sub.enabled]
    rows = []
    for event in events:
        for sub in subs:
            if event.name not in sub.events:
                continue
            delivery_id = new_id()
            session.add(
                WebhookDelivery(
                    id=delivery_id,
                    subscription_id=sub.id,
                    park_id=park.id,
                    instance_id=instance.id if instance is not None else None,
                    event=event.name,
                    payload=_body(delivery_id, event, park, instance, now, status),
                    status="pending",
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            rows.append(_job(park.id, delivery_id, instance, now))
    return rows


def _job(
    park_id: str, delivery_id: str, instance: Instance | None, now: datetime
) -> dict[str, Any]:
    return jobs.job_row(
        kind=JOB,
        park_id=park_id,
        due_at=now,
        instance_id=instance.id if instance is not None else None,
        payload={"delivery_id": delivery_id},
        dedupe_key=f"webhook:{delivery_id}",
    )


def _body(
    delivery_id: str,
    event: Event,
    park: Park,
    instance: Instance | None,
    now: datetime,
    status: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": delivery_id,
        "event": event.name,
        "occurred_at": now.isoformat(),
        "park": park.slug,
    }
    if instance is not None:
        body["application"] = {
            "id": instance.id,
            "reference": instance.reference,
            "process_key": instance.definition.key,
            "status": status or instance.status,
        }
    body["data"] = dict(event.data)
    return body


# --- the delivery log ----------------------------------------------------------------------


def deliveries(
    session: Session, park: Park, *, subscription_id: str | None = None, limit: int = 100
) -> list[WebhookDelivery]:
    """The park's deliveries (of one subscription), newest first."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.park_id == park.id)
    if subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    return list(
        session.scalars(
            stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id).limit(limit)
        )
    )


def redeliver(
    session: Session, park: Park, delivery_id: str, *, actor: str, now: datetime
) -> WebhookDelivery:
    """Send a delivery again, now, with fresh attempts (same id, same body)."""
    found = session.get(WebhookDelivery, delivery_id) if len(delivery_id) <= 36 else None
    if found is None or found.park_id != park.id:
        raise NotFound(f"webhook delivery {delivery_id!r}")
    before = {"status": found.status, "attempts": found.attempts}
    found.status, found.attempts, found.next_attempt_at = "pending", 0, now
    session.flush()
    # a job of its own: the first delivery's job may still be finishing
    jobs.enqueue(
        session,
        [
            jobs.job_row(
                kind=JOB,
                park_id=park.id,
                due_at=now,
                instance_id=found.instance_id,
                payload={"delivery_id": found.id},
            )
        ],
    )
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="webhook.redelivered",
        instance_id=found.instance_id,
        details={
            "delivery_id": found.id,
            "event": found.event,
            "subscription_id": found.subscription_id,
        },
        before=before,
        after={"status": "pending", "attempts": 0},
    )
    return found


# --- delivering (the worker) ---------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def deliver(ctx: JobContext, job: ClaimedJob, now: datetime) -> datetime | None:
    """Handle a ``webhook_delivery`` job: post once; done, or the time of the next attempt."""
    delivery_id = str(job.payload.get("delivery_id") or "")
    with ctx.db.read() as session:
        found = session.get(WebhookDelivery, delivery_id)
        if found is None or found.status != "pending":
            return None
        sub = session.get(WebhookSubscription, found.subscription_id)
        target = None if sub is None or not sub.enabled else (sub.url, sub.secret)
        body = json.dumps(found.payload, ensure_ascii=False, separators=(",", ":")).encode()
        event = found.event
    if target is None:
        _record(
            ctx, delivery_id, now, status="skipped", code=None, error="the subscription is disabled"
        )
        return None
    code, error = post(target[0], target[1], event, delivery_id, body, ctx.http_timeout)
    if error is None:
        _record(ctx, delivery_id, now, status="delivered", code=code, error=None)
        return None
    return _record(ctx, delivery_id, now, status=None, code=code, error=error)


def post(
    url: str, secret: str, event: str, delivery_id: str, body: bytes, timeout: float
) -> tuple[int | None, str | None]:
    """POST one signed body: (status code, None) on a 2xx, else (code or None, the error)."""
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 -- the scheme is checked on subscribing
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Parkflow-Webhook",
            "X-Parkflow-Event": event,
            "X-Parkflow-Delivery": delivery_id,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read(65536)
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"answered {exc.code}"
    except OSError as exc:  # refused, reset, timed out
        return None, str(getattr(exc, "reason", exc))[:ERROR_TEXT]


def _record(
    ctx: JobContext,
    delivery_id: str,
    now: datetime,
    *,
    status: str | None,
    code: int | None,
    error: str | None,
) -> datetime | None:
    with ctx.db.write() as session:
        found = session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if found is None or found.status != "pending":
            return None
        found.last_attempt_at = now
        found.last_status_code = code
        found.last_error = error
        if status == "skipped":
            found.status, found.next_attempt_at = "skipped", None
            return None
        found.attempts += 1
        if status == "delivered":
            found.status, found.delivered_at, found.next_attempt_at = "delivered", now, None
            return None
        if found.attempts >= MAX_ATTEMPTS:
            found.status, found.next_attempt_at = "failed", None
            return None
        later = now + backoff(found.attempts)
        found.next_attempt_at = later
        return later


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 10 s, 20 s, 40 s, ... at most an hour."""
    return min(BACKOFF_FIRST * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


__all__ = [
    "EVENTS_SETTING",
    "JOB",
    "MAX_ATTEMPTS",
    "Event",
    "backoff",
    "change",
    "deliver",
    "deliveries",
    "new_secret",
    "on_overdue",
    "on_snapshot",
    "post",
    "queue",
    "redeliver",
    "sign",
    "snapshot_events",
    "subscribe",
    "subscription",
    "subscriptions",
    "wanted",
]
