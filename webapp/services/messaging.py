"""Delivering a thrown message to the application of the same park that waits for it.

A ``message`` job (queued with the step that threw it, :mod:`webapp.services.thrown_messages`)
runs in the transaction that finishes it: the receiving application's step, its projections,
its audit event and the job's end commit together, so a message is delivered once even though
jobs run at least once. A failing delivery (the receiver's step cannot be kept) rolls back and
is retried, then becomes an incident.

Who receives it: an application of the park, other than the thrower, that waits for a message
of that name and whose correlation matches (the engine judges, by the receiver's correlation
properties over the payload). Waits filed under the message's own correlation values are tried
first, then waits without any; a message that carries no correlation values tries every wait
for its name. A message is point to point, as in BPMN: the application that has waited
longest gets it. When none waits, the message starts an application of the park's newest
procedure (by key) whose start event catches it, for the thrower's enterprise. A message
nobody waits for and nothing starts on is not an error: it is recorded in the thrower's audit
trail as unclaimed, and the job ends.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import NotWaiting
from webapp.db import lock_instance
from webapp.models import (
    Instance,
    Job,
    MessageWait,
    Park,
    ProcessDefinition,
)
from webapp.services import audit
from webapp.services.applications import new_instance
from webapp.services.approval_modes import engine_with_people
from webapp.services.engines import engine_for, version_of
from webapp.services.jobs import JobContext
from webapp.services.projections import correlation_key, write_snapshot

# receivers tried per message: each try loads the receiver's state
MAX_TRIES = 50


def deliver_thrown(ctx: JobContext, session: Session, job: Job, now: datetime) -> None:
    """Handle a ``message`` job: continue the application waiting for it, or record that none
    did."""
    name = str(job.payload["name"])
    body = job.payload.get("body")
    correlation: Mapping[str, Any] = job.payload.get("correlation") or {}
    sender = job.payload.get("from")
    received = next(
        (
            reference
            for instance_id in _receivers(session, job, name, correlation)
            if (reference := _deliver(session, instance_id, name, body, sender, now))
        ),
        None,
    )
    started = None if received else _start_one(session, job, name, body, now)
    if received or started:
        # the thrower's trail names where its message went
        audit.record(
            session,
            park_id=job.park_id,
            actor=None,
            action="message.sent",
            instance_id=job.instance_id,
            details={"message": name, "to": received or started, "started": started is not None},
        )
        return None
    audit.record(
        session,
        park_id=job.park_id,
        actor=None,
        action="message.unclaimed",
        instance_id=job.instance_id,
        details={"message": name, "reason": "no application waits for it"},
    )
    return None


def _receivers(
    session: Session, job: Job, name: str, correlation: Mapping[str, Any]
) -> Iterator[str]:
    waits = (
        select(MessageWait.instance_id)
        .where(MessageWait.park_id == job.park_id, MessageWait.message_name == name)
        .order_by(MessageWait.id)
    )
    if job.instance_id is not None:
        waits = waits.where(MessageWait.instance_id != job.instance_id)
    if correlation:
        filed = [
            MessageWait.correlation_key == correlation_key(correlation),
            MessageWait.correlation_key.is_(None),
        ]
        found = [
            iid for where in filed for iid in session.scalars(waits.where(where).limit(MAX_TRIES))
        ]
    else:
        found = list(session.scalars(waits.limit(MAX_TRIES)))
    yield from dict.fromkeys(found)


def _deliver(
    session: Session, instance_id: str, name: str, body: Any, sender: Any, now: datetime
) -> str | None:
    """Deliver the message to one application; its reference, or None if it did not take it."""
    instance = lock_instance(session, instance_id)
    if instance.status in ("completed", "cancelled"):
        return None
    park = instance.park
    version = version_of(instance.definition)
    try:
        snapshot = engine_with_people(session, park, version, engine_for(park)).deliver_message(
            version, instance.state, name, body
        )
    except NotWaiting:
        return None  # its correlation differs, or it moved on since the wait was filed
    write_snapshot(session, instance, park, snapshot, actor=None, now=now)
    audit.record(
        session,
        park_id=park.id,
        actor=None,
        action="message.delivered",
        instance_id=instance.id,
        details={
            "message": name,
            "from": sender,
            "steps": [step.element_id for step in snapshot.steps],
        },
    )
    return instance.reference


def _start_one(session: Session, job: Job, name: str, body: Any, now: datetime) -> str | None:
    """Start an application of the first procedure whose start event catches ``name``; its
    reference, or None when no procedure starts on it."""
    thrower = session.get(Instance, job.instance_id) if job.instance_id else None
    if thrower is None:
        return None
    park = thrower.park
    for definition in _newest_definitions(session, park):
        version = version_of(definition)
        if name not in version.start_messages:
            continue
        engine = engine_with_people(session, park, version, engine_for(park))
        waiting = engine.start(version, {})
        try:
            caught = engine.deliver_message(version, waiting.state, name, body)
        except NotWaiting:
            continue  # its start event correlates otherwise
        snapshot = replace(caught, steps=waiting.steps + caught.steps)
        instance = new_instance(session, park, definition, version, engine,
                                enterprise_id=thrower.enterprise_id,
                                started_by=thrower.started_by, now=now)
        write_snapshot(session, instance, park, snapshot, actor=None, now=now)
        audit.record(
            session,
            park_id=park.id,
            actor=None,
            action="application.started",
            instance_id=instance.id,
            details={
                "process_key": definition.key,
                "version": definition.version,
                "reference": instance.reference,
                "message": name,
                "from": thrower.reference,
            },
        )
        return instance.reference
    return None


def _newest_definitions(session: Session, park: Park) -> list[ProcessDefinition]:
    newest = (
        select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
        .where(ProcessDefinition.park_id == park.id)
        .group_by(ProcessDefinition.key)
        .subquery()
    )
    return list(
        session.scalars(
            select(ProcessDefinition)
            .join(
                newest,
                (ProcessDefinition.key == newest.c.key) & (ProcessDefinition.version == newest.c.v),
            )
            .where(ProcessDefinition.park_id == park.id)
            .order_by(ProcessDefinition.key)
        )
    )


__all__ = ["MAX_TRIES", "deliver_thrown"]
