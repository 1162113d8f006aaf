"""What the park's decision editor needs to know of its files, read here so that the web
layer never parses BPMN or DMN itself: a DMN file's name, the decisions a diagram calls, and
a probe procedure that calls given decisions, so that the deploy checks judge a table exactly
as they would judge it inside a procedure."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from .bpmn_doc import BPMN_NS, CAMUNDA_NS
from .errors import InvalidProcess
from .xmlsafe import parse_xml

PROBE_PROCESS = "pf_decision_probe"


def decision_name(content: bytes, fallback: str) -> str:
    """The name of a DMN file's first decision, ``fallback`` when it has none or cannot be read."""
    try:
        root = parse_xml(content, what="DMN").getroot()
    except InvalidProcess:
        return fallback
    for element in root.iter("{*}decision"):
        return str(element.get("name") or fallback)
    return fallback


def called_decisions(bpmn: bytes) -> set[str]:
    """The decisions a diagram's business rule tasks call (none when it cannot be read)."""
    try:
        root = parse_xml(bpmn, what="BPMN").getroot()
    except InvalidProcess:
        return set()
    return {
        str(task.get(f"{{{CAMUNDA_NS}}}decisionRef"))
        for task in root.iter(f"{{{BPMN_NS}}}businessRuleTask")
        if task.get(f"{{{CAMUNDA_NS}}}decisionRef")
    }


def decision_probe(ids: tuple[str, ...]) -> bytes:
    """A procedure whose business rule tasks call each of ``ids``."""
    tasks = "".join(
        f'<bpmn:businessRuleTask id="call_{i}" camunda:decisionRef={quoteattr(d)} />'
        for i, d in enumerate(ids)
    )
    return (
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:camunda="{CAMUNDA_NS}" '
        'id="probe" targetNamespace="urn:parkflow:probe">'
        f'<bpmn:process id="{PROBE_PROCESS}" isExecutable="true">'
        f'<bpmn:startEvent id="probe_start" />{tasks}</bpmn:process>'
        "</bpmn:definitions>"
    ).encode()
