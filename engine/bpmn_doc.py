"""A read-only index over parsed BPMN/DMN documents, shared by the deploy-time checks.

Every check reports a ``Problem`` located by element id and source line; this module knows
how to find both for any element, which elements belong to executable processes, and which
lane a flow node sits in (the same way SpiffWorkflow decides it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .errors import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


def bpmn(tag: str) -> str:
    """The Clark name (``{namespace}tag``) of a BPMN element."""
    return f"{{{BPMN_NS}}}{tag}"


def camunda(name: str) -> str:
    """The Clark name of a ``camunda:`` attribute or element."""
    return f"{{{CAMUNDA_NS}}}{name}"


def local_name(element: etree._Element) -> str:
    """The tag without its namespace."""
    return str(etree.QName(element).localname)


EVENTS = frozenset(bpmn(t) for t in (
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
))
GATEWAYS = frozenset(bpmn(t) for t in (
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
    "complexGateway",
))
SUBPROCESSES = frozenset(bpmn(t) for t in ("subProcess", "transaction", "adHocSubProcess"))
ACTIVITIES = SUBPROCESSES | frozenset(bpmn(t) for t in (
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask",
    "sendTask", "receiveTask", "callActivity",
))
FLOW_NODES = EVENTS | GATEWAYS | ACTIVITIES
CONTAINERS = SUBPROCESSES | {bpmn("process")}
SEQUENCE_FLOW = bpmn("sequenceFlow")


def owner_id(element: etree._Element) -> str:
    """The id of the element, or of its nearest ancestor that has one."""
    node: etree._Element | None = element
    while node is not None:
        found = node.get("id")
        if found:
            return str(found)
        node = node.getparent()
    return ""


def problem(element: etree._Element, message: str, line: int | None = None, *,
            code: str | None = None, **params: object) -> Problem:
    """A problem located at ``element`` (its own or its nearest ancestor's id).

    ``code`` and ``params`` let a user interface word it in the user's language.
    """
    return Problem(owner_id(element), line if line is not None else element.sourceline, message,
                   code=code, params=tuple((k, str(v)) for k, v in params.items()))


def is_executable(process: etree._Element) -> bool:
    """Parkflow runs a process only when the diagram says so explicitly."""
    return bool(process.get("isExecutable") == "true")


def promote_only_process(roots: Iterable[etree._Element]) -> etree._Element | None:
    """Mark a deployment's only process executable when the diagram left it unmarked.

    bpmn-js writes ``isExecutable="false"`` on a new diagram and Camunda Modeler leaves it to
    the modeller; a deployment drawn as one process means to run it. The attribute is set on
    the parsed tree only, so deploy-time checks, versions and the engine's parser agree while
    the stored diagram stays as drawn. Returns the promoted process, if any.
    """
    processes = [p for root in roots for p in root.iter(bpmn("process"))]
    # any other value is a typo the schema check reports
    if len(processes) != 1 or processes[0].get("isExecutable") not in (None, "false"):
        return None
    processes[0].set("isExecutable", "true")
    return processes[0]


def is_event_subprocess(element: etree._Element) -> bool:
    """A subprocess started by an event rather than by a sequence flow."""
    return element.tag in SUBPROCESSES and element.get("triggeredByEvent") == "true"


@dataclass
class Document:
    """One parsed file with its id index and its lane assignments."""

    filename: str
    tree: etree._ElementTree
    by_id: dict[str, etree._Element] = field(default_factory=dict)
    lanes: dict[str, etree._Element] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for element in self.root.iter(etree.Element):
            element_id = element.get("id")
            if element_id:
                self.by_id.setdefault(element_id, element)
        # Document order puts a lane's own refs before its child lanes', so the innermost lane
        # wins, as in SpiffWorkflow.
        for ref in self.root.iter(bpmn("flowNodeRef")):
            if ref.text and ref.text.strip():
                self.lanes[ref.text.strip()] = ref.getparent()

    @property
    def root(self) -> etree._Element:
        """The document element."""
        return self.tree.getroot()

    def processes(self) -> list[etree._Element]:
        """Every process of the document, executable or not."""
        return list(self.root.iter(bpmn("process")))

    def elements(self) -> Iterator[etree._Element]:
        """Every element except those inside non-executable processes (documentation only)."""
        yield self.root
        for child in self.root.iterchildren(etree.Element):
            if child.tag == bpmn("process") and not is_executable(child):
                continue
            yield from child.iter(etree.Element)

    def iter(self, tag: str) -> Iterator[etree._Element]:
        """The in-scope elements with the given Clark tag."""
        return (element for element in self.elements() if element.tag == tag)

    def containers(self) -> Iterator[etree._Element]:
        """Executable processes and the subprocesses inside them."""
        return (element for element in self.elements() if element.tag in CONTAINERS)

    def line_of(self, element_id: str) -> int | None:
        """The source line of the element with that id, if there is one."""
        element = self.by_id.get(element_id)
        return element.sourceline if element is not None else None

    def lane_name(self, node: etree._Element) -> str | None:
        """The lane a flow node runs in; an enclosing subprocess's lane takes precedence."""
        chain = [a for a in node.iterancestors() if a.tag in SUBPROCESSES]
        for element in [*reversed(chain), node]:
            lane = self.lanes.get(element.get("id", ""))
            name = lane.get("name") if lane is not None else None
            if name:
                return str(name).strip()
        return None


@dataclass
class Deployment:
    """All documents of one deploy, with the ids that references may point to."""

    bpmn: list[Document]
    dmn: list[Document]
    forms: Mapping[str, Any]
    processes: dict[str, etree._Element] = field(default_factory=dict)
    decisions: dict[str, etree._Element] = field(default_factory=dict)
    definitions: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for doc in self.bpmn:
            for process in doc.processes():
                self.processes.setdefault(process.get("id", ""), process)
            # SpiffWorkflow keeps these in one table per parser, so a reference may cross files.
            for kind in ("message", "error", "escalation", "signal"):
                ids = {el.get("id", "") for el in doc.root.iter(bpmn(kind))}
                self.definitions.setdefault(kind, set()).update(ids)
        for doc in self.dmn:
            for decision in doc.root.iter("{*}decision"):
                self.decisions.setdefault(decision.get("id", ""), decision)

    def executable(self) -> list[str]:
        """Ids of the processes Parkflow will run."""
        return [key for key, process in self.processes.items() if is_executable(process)]

    def file_of(self, element_id: str) -> str | None:
        """The first BPMN or DMN file of the deploy that has an element with that id."""
        for doc in [*self.bpmn, *self.dmn]:
            if element_id and element_id in doc.by_id:
                return doc.filename
        return None

    def line_of(self, element_id: str) -> int | None:
        """The first source line of that id in any BPMN or DMN document of the deploy."""
        for doc in [*self.bpmn, *self.dmn]:
            line = doc.line_of(element_id)
            if line is not None:
                return line
        return None
