"""Two versions of a procedure compared element by element, by BPMN element id.

An element is compared on what changes how it runs: its tag, name and documentation, every
``camunda:*`` attribute, a flow's source, target and condition, an event's definitions and
timer values, a gateway's default flow, a boundary event's host, a lane's members, a script,
and ``camunda:properties``. The diagram's layout (bpmndi) is not compared: moving a shape
changes nothing that runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .xmlsafe import parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
# parts of an element folded into the element that holds them, never compared on their own
FOLDED = {"definitions", "laneSet", "conditionExpression", "documentation", "script",
          "extensionElements", "timeDuration", "timeDate", "timeCycle", "incoming", "outgoing",
          "flowNodeRef", "loopCardinality", "completionCondition"}
PLAIN_ATTRIBUTES = ("sourceRef", "targetRef", "default", "attachedToRef", "cancelActivity",
                    "isExecutable", "processRef", "calledElement", "isInterrupting",
                    "scriptFormat", "isSequential")
TIMER_PARTS = ("timeDuration", "timeDate", "timeCycle")
# what an absent attribute means: writing the default out is no change
DEFAULTS = {"cancelActivity": "true", "isInterrupting": "true", "isSequential": "false"}
# aspects that are sets of ids: their change is shown as what left and what joined
SETS = ("members",)


@dataclass(frozen=True)
class Change:
    """One compared aspect of an element: its value before and after."""

    aspect: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ElementDiff:
    """An element added, removed or changed between two versions."""

    element_id: str
    kind: str  # added | removed | changed
    tag: str
    name: str
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class VersionDiff:
    """Everything that differs between two versions: elements and forms."""

    elements: tuple[ElementDiff, ...]
    forms_added: tuple[str, ...]
    forms_removed: tuple[str, ...]
    forms_changed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """Whether the two versions run the same diagram with the same forms."""
        return not (self.elements or self.forms_added or self.forms_removed
                    or self.forms_changed)


def diff_versions(before_xml: str, after_xml: str, before_forms: Mapping[str, Any],
                  after_forms: Mapping[str, Any]) -> VersionDiff:
    """Compare two versions' BPMN and forms."""
    before, after = elements_of(before_xml), elements_of(after_xml)
    found: list[ElementDiff] = []
    for element_id, facts in after.items():
        if element_id not in before:
            found.append(ElementDiff(element_id, "added", facts["tag"], facts.get("name") or ""))
            continue
        changes = _changes(before[element_id], facts)
        if changes:
            found.append(ElementDiff(element_id, "changed", facts["tag"],
                                     facts.get("name") or before[element_id].get("name") or "",
                                     changes))
    for element_id, facts in before.items():
        if element_id not in after:
            found.append(ElementDiff(element_id, "removed", facts["tag"],
                                     facts.get("name") or ""))
    order = {"removed": 0, "changed": 1, "added": 2}
    found.sort(key=lambda item: (order[item.kind], item.element_id))
    return VersionDiff(
        elements=tuple(found),
        forms_added=tuple(sorted(set(after_forms) - set(before_forms))),
        forms_removed=tuple(sorted(set(before_forms) - set(after_forms))),
        forms_changed=tuple(sorted(key for key in set(before_forms) & set(after_forms)
                                   if before_forms[key] != after_forms[key])))


def _changes(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[Change, ...]:
    found = []
    for aspect in sorted(set(before) | set(after)):
        old, new = before.get(aspect), after.get(aspect)
        if old == new:
            continue
        if aspect in SETS:
            left = set((old or "").split(", ")) - {""}
            joined = set((new or "").split(", ")) - {""}
            found.append(Change(aspect, ", ".join(sorted(left - joined)) or None,
                                ", ".join(sorted(joined - left)) or None))
        else:
            found.append(Change(aspect, old, new))
    return tuple(found)


def elements_of(bpmn_xml: str) -> dict[str, dict[str, str]]:
    """element id -> the compared aspects of that element, for every BPMN element."""
    root = parse_xml(bpmn_xml).getroot()
    return {element.get("id", ""): _facts(element) for element in _compared(root)}


def _compared(root: etree._Element) -> Iterator[etree._Element]:
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        name = etree.QName(element).localname
        if (not element.get("id") or name in FOLDED or name.endswith("EventDefinition")
                or _inside_extension(element)):
            continue
        yield element


def _inside_extension(element: etree._Element) -> bool:
    parent = element.getparent()
    while parent is not None:
        if etree.QName(parent).localname == "extensionElements":
            return True
        parent = parent.getparent()
    return False


def _facts(element: etree._Element) -> dict[str, str]:
    facts = {"tag": etree.QName(element).localname}
    for attribute in ("name", *PLAIN_ATTRIBUTES):
        value = element.get(attribute)
        if value is not None and DEFAULTS.get(attribute) != value:
            facts[attribute] = str(value)
    for attribute, value in element.attrib.items():
        qname = etree.QName(attribute)
        if qname.namespace == CAMUNDA_NS:
            facts[f"camunda:{qname.localname}"] = str(value)
    for child in element:
        if not isinstance(child.tag, str):
            continue
        child_name = etree.QName(child).localname
        if child_name in ("documentation", "conditionExpression", "script",
                          "loopCardinality", "completionCondition"):
            facts[child_name] = _text(child)
        elif child_name.endswith("EventDefinition"):
            facts.update(_event_definition(child))
        elif child_name == "flowNodeRef":
            continue
        elif child_name.endswith("LoopCharacteristics"):
            facts["loop"] = child_name
    members = [_text(ref) for ref in element.iterfind(f"{{{BPMN_NS}}}flowNodeRef")]
    if members:
        facts["members"] = ", ".join(sorted(members))
    properties = _camunda_properties(element)
    if properties:
        facts["camunda:properties"] = properties
    return facts


def _event_definition(definition: etree._Element) -> dict[str, str]:
    name = etree.QName(definition).localname
    facts = {"event": name}
    for attribute in ("messageRef", "errorRef", "signalRef", "escalationRef"):
        if definition.get(attribute):
            facts[attribute] = str(definition.get(attribute))
    for part in TIMER_PARTS:
        found = definition.find(f"{{{BPMN_NS}}}{part}")
        if found is not None:
            facts[part] = _text(found)
    return facts


def _camunda_properties(element: etree._Element) -> str:
    path = (f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}properties/"
            f"{{{CAMUNDA_NS}}}property")
    return "; ".join(f"{prop.get('name', '')}={prop.get('value', '')}"
                     for prop in element.iterfind(path))


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())


__all__ = ["Change", "ElementDiff", "VersionDiff", "diff_versions", "elements_of"]
