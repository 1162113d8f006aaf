"""Procedures as the park administrator edits them: the park's forms and decisions, checking
and deploying a diagram from the browser modeler, and the versions of each procedure.

Where a park's forms live: every deployed version keeps the forms it runs on
(``ProcessDefinition.forms``), and forms edited in the browser are kept in
``Park.settings["forms"]`` as ``{formKey: {"schema", "saved_at", "saved_by"}}``. The park's
current form of a key is the newer of the two: the one of the most recently deployed version
using it, or the one saved in the browser after that. Only edited forms are copied into the
settings, so the park row stays small, and no migration was needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer

from engine import InvalidProcess, Problem, decision_ids, is_generated_form, prepare_deployment
from webapp.models import Instance, Park, ProcessDefinition, User
from webapp.services import processes
from webapp.services.errors import NotFound
from webapp.services.processes import Deployed

FORMS_SETTING = "forms"
DECISIONS_SETTING = "decisions"
RUNNING = ("active", "error")
# the version column is a 32-bit integer: a larger number names nothing
MAX_VERSION = 2**31 - 1


@dataclass(frozen=True)
class ParkForm:
    """The park's current form of one key, and where it comes from."""

    key: str
    schema: dict[str, Any]
    changed_at: datetime
    changed_by: str | None
    edited: bool  # saved in the browser since it was last deployed


@dataclass(frozen=True)
class VersionRow:
    """One deployed version of a procedure, as the process list shows it."""

    key: str
    version: int
    name: str
    deployed_at: datetime
    deployed_by: str | None
    running: int


@dataclass(frozen=True)
class Procedure:
    """A procedure with all its versions, newest first."""

    key: str
    name: str
    versions: tuple[VersionRow, ...]

    @property
    def latest(self) -> VersionRow:
        """The newest version."""
        return self.versions[0]

    @property
    def running(self) -> int:
        """Applications still running on any version."""
        return sum(row.running for row in self.versions)


# --- the park's forms and decisions ------------------------------------------------------


def _latest_definitions(session: Session, park: Park) -> list[ProcessDefinition]:
    """The newest version of each procedure, oldest deployment first, sources loaded."""
    newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
              .where(ProcessDefinition.park_id == park.id)
              .group_by(ProcessDefinition.key).subquery())
    return list(session.scalars(
        select(ProcessDefinition)
        .join(newest, (ProcessDefinition.key == newest.c.key)
              & (ProcessDefinition.version == newest.c.v))
        .where(ProcessDefinition.park_id == park.id)
        .options(undefer(ProcessDefinition.forms), undefer(ProcessDefinition.dmn_xml))
        .order_by(ProcessDefinition.deployed_at, ProcessDefinition.id)))


def park_forms(session: Session, park: Park) -> dict[str, ParkForm]:
    """The park's current form of every key, by key."""
    found: dict[str, ParkForm] = {}
    for definition in _latest_definitions(session, park):
        for key, schema in _file_forms(definition):
            found[key] = ParkForm(key, schema, definition.deployed_at, None, edited=False)
    for key, saved in edited_forms(park).items():
        saved_at = datetime.fromisoformat(saved["saved_at"])
        if key not in found or saved_at >= found[key].changed_at:
            found[key] = ParkForm(key, saved["schema"], saved_at, saved.get("saved_by"),
                                  edited=True)
    return dict(sorted(found.items()))


def _file_forms(definition: ProcessDefinition) -> list[tuple[str, Any]]:
    """A version's forms that are the park's to edit: not those its diagram draws itself
    (``camunda:formData``), which are made from the diagram at every deploy."""
    return [(key, schema) for key, schema in (definition.forms or {}).items()
            if not is_generated_form(key)]


def edited_forms(park: Park) -> dict[str, dict[str, Any]]:
    """The forms saved in the browser, as stored in the park's settings."""
    stored = park.settings.get(FORMS_SETTING)
    return dict(stored) if isinstance(stored, Mapping) else {}


@dataclass(frozen=True)
class FormUse:
    """A procedure whose newest version runs on a form, and whether on its current schema."""

    process_key: str
    process_name: str
    version: int
    current: bool


def form_usage(session: Session, park: Park) -> dict[str, list[FormUse]]:
    """formKey -> the procedures whose newest version uses it."""
    current = form_schemas(session, park)
    found: dict[str, list[FormUse]] = {}
    for definition in _latest_definitions(session, park):
        for key, schema in _file_forms(definition):
            found.setdefault(key, []).append(FormUse(
                definition.key, definition.name, definition.version, current.get(key) == schema))
    return found


def form_schemas(session: Session, park: Park) -> dict[str, Any]:
    """formKey -> JSON Schema: what a deploy from the browser runs with."""
    return {key: form.schema for key, form in park_forms(session, park).items()}


def park_decisions(session: Session, park: Park) -> dict[str, bytes]:
    """The DMN of every decision the park's procedures use, newest deployment winning.

    A file may hold several decisions; it is kept while it is the newest for any of them.
    """
    newest: dict[str, str] = {}
    since: dict[str, datetime] = {}
    for definition in _latest_definitions(session, park):
        for content in definition.dmn_xml or ():
            newest.update(dict.fromkeys(_decision_ids(content), content))
            since.update(dict.fromkeys(_decision_ids(content), definition.deployed_at))
    # a table saved in the decision editor wins until a deployment brings a newer one
    for decision, saved in saved_decisions(park).items():
        saved_at = datetime.fromisoformat(saved["saved_at"])
        if decision not in since or saved_at >= _aware(since[decision]):
            for other in _decision_ids(saved["dmn"]):
                newest[other] = saved["dmn"]
    files = {content: decision for decision, content in sorted(newest.items(), reverse=True)}
    return {f"{decision or 'decision'}.dmn": content.encode("utf-8")
            for content, decision in sorted(files.items(), key=lambda item: item[1])}


def saved_decisions(park: Park) -> dict[str, dict[str, Any]]:
    """The decision tables saved in the browser's editor, as stored in the park's settings:
    ``{first decision id: {"dmn", "saved_at", "saved_by"}}`` (webapp.services.admin_decisions)."""
    stored = park.settings.get(DECISIONS_SETTING)
    return dict(stored) if isinstance(stored, Mapping) else {}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _decision_ids(content: str) -> list[str]:
    return list(decision_ids(content.encode("utf-8"))) or [""]


# --- checking and deploying --------------------------------------------------------------


def check_diagram(session: Session, park: Park,
                  bpmn_xml: str) -> tuple[list[Problem], list[Problem]]:
    """Every problem of a diagram with the park's forms and decisions ([] when deployable),
    and every warning a deploy would give."""
    try:
        files = {"diagram.bpmn": bpmn_xml.encode("utf-8")}
        versions = prepare_deployment(files, park_decisions(session, park),
                                      form_schemas(session, park),
                                      library=processes.callable_processes(session, park, files))
    except InvalidProcess as exc:
        return list(exc.problems), list(exc.warnings)
    # every version of one deploy carries the deploy's warnings
    return [], list(versions[0].warnings) if versions else []


def deploy_diagram(session: Session, park: Park, bpmn_xml: str, *, actor: User) -> list[Deployed]:
    """Deploy a diagram with the park's forms and decisions; raises engine.InvalidProcess."""
    return processes.deploy(session, park=park, actor=actor.username, actor_id=actor.id,
                            bpmn={"diagram.bpmn": bpmn_xml.encode("utf-8")},
                            dmn=park_decisions(session, park),
                            forms=form_schemas(session, park))


def redeploy(session: Session, park: Park, key: str, *, actor: User) -> Deployed:
    """Deploy the newest diagram of ``key`` again with the park's current forms."""
    definition = processes.get_latest(session, park, key)
    for deployed in deploy_diagram(session, park, definition.bpmn_xml, actor=actor):
        if deployed.key == key:
            return deployed
    raise NotFound(f"procedure {key!r} in its own diagram")


# --- versions ------------------------------------------------------------------------------


def procedures(session: Session, park: Park) -> list[Procedure]:
    """Every procedure of the park with its versions, most recently deployed first."""
    running = dict(session.execute(
        select(Instance.definition_id, func.count())
        .where(Instance.park_id == park.id, Instance.status.in_(RUNNING))
        .group_by(Instance.definition_id)).all())
    rows = session.execute(
        select(ProcessDefinition.id, ProcessDefinition.key, ProcessDefinition.version,
               ProcessDefinition.name, ProcessDefinition.deployed_at, User.display_name)
        .outerjoin(User, User.id == ProcessDefinition.deployed_by)
        .where(ProcessDefinition.park_id == park.id)
        .order_by(ProcessDefinition.key, ProcessDefinition.version.desc())).all()
    grouped: dict[str, list[VersionRow]] = {}
    for def_id, key, version, name, deployed_at, deployer in rows:
        grouped.setdefault(key, []).append(
            VersionRow(key, version, name, deployed_at, deployer, running.get(def_id, 0)))
    found = [Procedure(key, versions[0].name, tuple(versions))
             for key, versions in grouped.items()]
    return sorted(found, key=lambda p: p.latest.deployed_at, reverse=True)


def get_version(session: Session, park: Park, key: str, version: int) -> ProcessDefinition:
    """One deployed version of a procedure in the park, or NotFound."""
    if not 0 < version <= MAX_VERSION:
        raise NotFound(f"version {version} of procedure {key!r}")
    definition = session.scalars(select(ProcessDefinition).where(
        ProcessDefinition.park_id == park.id, ProcessDefinition.key == key,
        ProcessDefinition.version == version)).one_or_none()
    if definition is None:
        raise NotFound(f"version {version} of procedure {key!r}")
    return definition


__all__ = [
    "FormUse",
    "ParkForm",
    "Procedure",
    "VersionRow",
    "check_diagram",
    "deploy_diagram",
    "edited_forms",
    "form_schemas",
    "form_usage",
    "get_version",
    "park_decisions",
    "park_forms",
    "procedures",
    "redeploy",
    "saved_decisions",
]
