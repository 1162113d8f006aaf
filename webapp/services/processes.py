"""Deploying procedures: validated, versioned by content, immutable once stored."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer

from engine import (
    CallableProcess,
    InvalidProcess,
    Problem,
    ProcessVersion,
    external_calls,
    prepare_deployment,
    version_tag_of,
)
from webapp.models import Park, ProcessDefinition
from webapp.services import audit
from webapp.services.errors import NotFound


@dataclass(frozen=True)
class Deployed:
    """The outcome of deploying one process: its key, version and whether it is new."""

    key: str
    version: int
    name: str
    created: bool
    # what the deploy accepted but the park should look at (engine.Problem values)
    warnings: tuple[Problem, ...] = ()


def deploy(
    session: Session,
    *,
    park: Park,
    actor: str | None,
    actor_id: str | None = None,
    bpmn: Mapping[str, bytes],
    dmn: Mapping[str, bytes] | None = None,
    forms: Mapping[str, Any] | None = None,
) -> list[Deployed]:
    """Deploy every executable process in ``bpmn``; raises engine.InvalidProcess."""
    versions = prepare_deployment(bpmn, dmn or {}, forms or {},
                                  library=callable_processes(session, park, bpmn))
    return [replace(_store(session, park, version, actor, actor_id), warnings=version.warnings)
            for version in versions]


def callable_processes(session: Session, park: Park,
                       bpmn: Mapping[str, bytes]) -> dict[str, list[CallableProcess]]:
    """The park's deployed versions of the processes ``bpmn`` calls but does not define.

    The engine binds each such call activity to one of them (latest, a version number or a
    version tag) and keeps its BPMN with the caller's version.
    """
    try:
        keys = external_calls(bpmn)
    except InvalidProcess:
        return {}  # unreadable XML: the deploy checks say why
    if not keys:
        return {}
    found: dict[str, list[CallableProcess]] = {}
    for definition in session.scalars(select(ProcessDefinition).where(
            ProcessDefinition.park_id == park.id, ProcessDefinition.key.in_(sorted(keys)))
            .options(undefer(ProcessDefinition.called_bpmn_xml), undefer(ProcessDefinition.forms))):
        content = definition.bpmn_xml.encode("utf-8")
        found.setdefault(definition.key, []).append(CallableProcess(
            key=definition.key, version=definition.version, bpmn=content,
            called=tuple(c.encode("utf-8") for c in definition.called_bpmn_xml or ()),
            version_tag=version_tag_of(content, definition.key),
            forms=dict(definition.forms or {})))
    return found


def deploy_warnings(results: list[Deployed]) -> list[Problem]:
    """The warnings of a deployment, once each (its processes share them)."""
    return list(dict.fromkeys(w for result in results for w in result.warnings))


def _store(session: Session, park: Park, version: ProcessVersion, actor: str | None,
           actor_id: str | None) -> Deployed:
    latest = latest_definition(session, park, version.key)
    if latest is not None and latest.content_hash == version.content_hash:
        return Deployed(latest.key, latest.version, latest.name, created=False)
    definition = ProcessDefinition(
        park_id=park.id,
        key=version.key,
        version=(latest.version + 1) if latest else 1,
        name=version.name,
        content_hash=version.content_hash,
        bpmn_xml=version.bpmn.decode("utf-8"),
        dmn_xml=[content.decode("utf-8") for content in version.dmn],
        called_bpmn_xml=[content.decode("utf-8") for content in version.called],
        forms=dict(version.forms),
        promised_duration=version.promised_duration,
        deployed_by=actor_id,
    )
    session.add(definition)
    session.flush()
    audit.record(session, park_id=park.id, actor=actor, action="process.deployed",
                 details={"key": definition.key, "version": definition.version,
                          "content_hash": definition.content_hash})
    return Deployed(definition.key, definition.version, definition.name, created=True)


def latest_definition(session: Session, park: Park, key: str) -> ProcessDefinition | None:
    """The newest deployed version of ``key`` in the park, if any."""
    newest = (select(func.max(ProcessDefinition.version))
              .where(ProcessDefinition.park_id == park.id, ProcessDefinition.key == key)
              .scalar_subquery())
    return session.scalars(select(ProcessDefinition).where(
        ProcessDefinition.park_id == park.id, ProcessDefinition.key == key,
        ProcessDefinition.version == newest)).one_or_none()


def get_latest(session: Session, park: Park, key: str) -> ProcessDefinition:
    """The newest version of ``key``, or NotFound."""
    definition = latest_definition(session, park, key)
    if definition is None:
        raise NotFound(f"procedure {key!r} in park {park.slug!r}")
    return definition


__all__ = ["Deployed", "InvalidProcess", "deploy", "deploy_warnings", "get_latest",
           "latest_definition"]
