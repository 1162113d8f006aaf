"""Decision tables as the park administrator edits them in the browser (dmn-js).

A DMN file is named by its first decision's id. Where a park's decisions live: every deployed
version of a procedure keeps the DMN files it runs (``ProcessDefinition.dmn_xml``), so a
decision's versions are the distinct contents it had in the park's deployments, oldest first;
a table saved in the browser is kept in ``Park.settings["decisions"]`` as
``{decision_id: {"dmn", "saved_at", "saved_by"}}`` until a deployment carries it (the
modeler's deploys and redeploys take the park's decisions, see admin_processes).

Deploying a table from the editor checks it with the engine's deploy checks, saves it and
deploys again the newest version of every procedure calling one of its decisions, so each of
those procedures gets a new version running the edited table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from engine import (
    InvalidProcess,
    Problem,
    called_decisions,
    decision_ids,
    decision_name,
    decision_probe,
    prepare_deployment,
)
from webapp.models import Park, ProcessDefinition
from webapp.services import audit
from webapp.services.admin_processes import deploy_diagram, park_decisions, saved_decisions
from webapp.services.errors import NotFound
from webapp.services.processes import Deployed

DECISIONS_SETTING = "decisions"
DMN_FILE = "decision.dmn"
PROBE_FILE = "probe.bpmn"
BLANK = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" \
xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" \
xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" id="Definitions_{suffix}" \
name="{name}" namespace="urn:parkflow:decisions">
  <decision id="Decision_{suffix}" name="{name}">
    <decisionTable id="DecisionTable_{suffix}" hitPolicy="FIRST">
      <input id="Input_{suffix}" label="Input">
        <inputExpression id="InputExpression_{suffix}" typeRef="string">
          <text>value</text>
        </inputExpression>
      </input>
      <output id="Output_{suffix}" label="Output" name="result" typeRef="string" />
      <rule id="Rule_{suffix}">
        <inputEntry id="UnaryTests_{suffix}"><text>-</text></inputEntry>
        <outputEntry id="LiteralExpression_{suffix}"><text>"ok"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="DMNDiagram_{suffix}">
      <dmndi:DMNShape id="DMNShape_{suffix}" dmnElementRef="Decision_{suffix}">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""


@dataclass(frozen=True)
class DecisionVersion:
    """One content a decision file had in the park's deployments (or saved in the browser)."""

    number: int
    content: str
    since: datetime
    procedures: tuple[str, ...]  # "key v3" of the versions deployed with it


@dataclass(frozen=True)
class ParkDecision:
    """A DMN file of the park: its decisions, who calls them, its versions."""

    decision_id: str
    name: str
    decisions: tuple[str, ...]
    content: str
    used_by: tuple[str, ...]  # keys of procedures whose newest version calls one of them
    versions: tuple[DecisionVersion, ...]
    edited: bool  # saved in the browser and not deployed since


def _name_of(content: str, fallback: str) -> str:
    return decision_name(content.encode("utf-8"), fallback)


def _ids(content: str) -> tuple[str, ...]:
    try:
        return decision_ids(content.encode("utf-8"))
    except InvalidProcess:
        return ()


def _definitions(session: Session, park: Park) -> list[ProcessDefinition]:
    return list(
        session.scalars(
            select(ProcessDefinition)
            .where(ProcessDefinition.park_id == park.id)
            .options(undefer(ProcessDefinition.dmn_xml), undefer(ProcessDefinition.bpmn_xml))
            .order_by(ProcessDefinition.deployed_at, ProcessDefinition.id)
        )
    )


def _called(bpmn_xml: str) -> set[str]:
    """The decisions a diagram's business rule tasks call."""
    return called_decisions(bpmn_xml.encode("utf-8"))


def park_decision_list(session: Session, park: Park) -> list[ParkDecision]:
    """Every DMN file of the park, by the id of its first decision."""
    definitions = _definitions(session, park)
    newest: dict[str, ProcessDefinition] = {}
    for definition in definitions:
        newest[definition.key] = definition
    calls = {key: _called(d.bpmn_xml) for key, d in newest.items()}
    found = []
    for filename, content in park_decisions(session, park).items():
        text = content.decode("utf-8")
        ids = _ids(text)
        first = ids[0] if ids else filename.removesuffix(".dmn")
        versions = tuple(_versions(definitions, park, first))
        found.append(
            ParkDecision(
                decision_id=first,
                name=_name_of(text, first),
                decisions=ids,
                content=text,
                used_by=tuple(sorted(key for key, called in calls.items() if called & set(ids))),
                versions=versions,
                edited=bool(versions) and not versions[-1].procedures,
            )
        )
    return sorted(found, key=lambda d: d.decision_id)


def get_decision(session: Session, park: Park, decision_id: str) -> ParkDecision:
    """One of the park's DMN files, or NotFound."""
    for decision in park_decision_list(session, park):
        if decision.decision_id == decision_id:
            return decision
    raise NotFound(f"decision {decision_id!r}")


def _versions(
    definitions: list[ProcessDefinition], park: Park, decision_id: str
) -> list[DecisionVersion]:
    seen: dict[str, DecisionVersion] = {}
    for definition in definitions:
        for content in definition.dmn_xml or ():
            ids = _ids(content)
            if not ids or ids[0] != decision_id:
                continue
            label = f"{definition.key} v{definition.version}"
            if content in seen:
                old = seen[content]
                seen[content] = DecisionVersion(
                    old.number, content, old.since, (*old.procedures, label)
                )
            else:
                seen[content] = DecisionVersion(
                    len(seen) + 1, content, definition.deployed_at, (label,)
                )
    saved = saved_decisions(park).get(decision_id)
    if saved and saved["dmn"] not in seen:
        seen[saved["dmn"]] = DecisionVersion(
            len(seen) + 1, saved["dmn"], datetime.fromisoformat(saved["saved_at"]), ()
        )
    return list(seen.values())


def blank_decision(suffix: str, name: str) -> str:
    """A new decision table with one input, one output and one rule, to start from."""
    return BLANK.format(suffix=suffix, name=name)


# --- checking and deploying --------------------------------------------------------------


def _probe(ids: tuple[str, ...]) -> bytes:
    """A procedure calling each decision, so the engine checks the table as it would run."""
    return decision_probe(ids)


def check_decision(session: Session, park: Park, dmn_xml: str) -> list[Problem]:
    """Every problem of a DMN file ([] when deployable): the engine's checks of the table,
    with the park's other decisions it may require."""
    content = dmn_xml.encode("utf-8")
    try:
        ids = decision_ids(content)
    except InvalidProcess as exc:
        return list(exc.problems)
    others = {
        name: other
        for name, other in park_decisions(session, park).items()
        if not set(_ids(other.decode("utf-8"))) & set(ids)
    }
    try:
        prepare_deployment({PROBE_FILE: _probe(ids)}, {**others, DMN_FILE: content}, {})
    except InvalidProcess as exc:
        # the probe's own complaints (it has no end, say) are not the table's
        return [
            p
            for p in exc.problems
            if p.file != PROBE_FILE
            and not (p.element_id or "").startswith(("probe", "call_", "pf_decision"))
        ]
    return []


@dataclass(frozen=True)
class DecisionDeployed:
    """What deploying a table did: where it was saved, and the procedures deployed again."""

    decision_id: str
    saved: bool
    deployed: tuple[Deployed, ...]


def deploy_decision(session: Session, park: Park, dmn_xml: str, *, actor: Any) -> DecisionDeployed:
    """Check a DMN file, keep it as the park's, and deploy again every procedure calling it.

    Raises engine.InvalidProcess with the table's problems, or those of a procedure that the
    edited table would break (a decision it calls removed, say).
    """
    problems = check_decision(session, park, dmn_xml)
    if problems:
        raise InvalidProcess(problems)
    ids = decision_ids(dmn_xml.encode("utf-8"))
    first = ids[0]
    stored = saved_decisions(park)
    before = stored.get(first, {}).get("dmn")
    current = {d.decision_id: d for d in park_decision_list(session, park)}.get(first)
    changed = (current.content if current else before) != dmn_xml
    if changed:
        stored = {key: value for key, value in stored.items() if key not in ids or key == first}
        stored[first] = {
            "dmn": dmn_xml,
            "saved_at": datetime.now(UTC).isoformat(),
            "saved_by": actor.username,
        }
        park.settings = {**park.settings, DECISIONS_SETTING: stored}
        session.flush()
        audit.record(
            session,
            park_id=park.id,
            actor=actor.username,
            action="decision.saved",
            details={"decision_id": first, "decisions": list(ids)},
            before={"dmn": current.content} if current else None,
            after={"dmn": dmn_xml},
        )
    deployed: list[Deployed] = []
    users = current.used_by if current else ()
    newest = {d.key: d for d in _definitions(session, park)}
    for key in users:
        for result in deploy_diagram(session, park, newest[key].bpmn_xml, actor=actor):
            if result.key == key:
                deployed.append(result)
    if any(result.created for result in deployed):
        audit.record(
            session,
            park_id=park.id,
            actor=actor.username,
            action="decision.deployed",
            details={
                "decision_id": first,
                "processes": [{"key": r.key, "version": r.version} for r in deployed],
            },
        )
    return DecisionDeployed(first, changed, tuple(deployed))


__all__ = [
    "DecisionDeployed",
    "DecisionVersion",
    "ParkDecision",
    "blank_decision",
    "check_decision",
    "deploy_decision",
    "get_decision",
    "park_decision_list",
]
