"""Deploy-time refusal of everything the engine would otherwise ignore without a word.

SpiffWorkflow skips attributes and extensions it does not know, so a Camunda diagram with a
Java delegate or a listener would deploy and then quietly do less than drawn. Parkflow accepts
an allow-list of ``camunda:`` attributes (decision 1 of the design) and refuses the rest with
the element's id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from lxml import etree

from .bpmn_doc import (
    CAMUNDA_NS,
    SEQUENCE_FLOW,
    Document,
    bpmn,
    camunda,
    local_name,
    problem,
)
from .connectors import HTTP_SERVICE, config_problems
from .errors import Problem
from .services import SERVICES
from .values import END_RESULTS

_USER = frozenset({bpmn("userTask")})
_START = frozenset({bpmn("startEvent")})
_PROCESS = frozenset({bpmn("process")})
_LOOP = frozenset({bpmn("multiInstanceLoopCharacteristics")})
_MESSAGE = frozenset({bpmn("messageEventDefinition")})
_SERVICE = frozenset({bpmn("serviceTask")})

# camunda: attribute -> the elements it may appear on (None: any element). Async and
# exclusive job flags are accepted anywhere because Parkflow's transactions make them moot.
ALLOWED_ATTRIBUTES: dict[str, frozenset[str] | None] = {
    "asyncBefore": None, "asyncAfter": None, "async": None, "exclusive": None,
    "candidateGroups": _USER, "candidateUsers": _USER, "assignee": _USER,
    "dueDate": _USER, "followUpDate": _USER, "priority": _USER,
    "formKey": _USER | _START, "initiator": _START,
    "decisionRef": frozenset({bpmn("businessRuleTask")}),
    "versionTag": _PROCESS, "historyTimeToLive": _PROCESS, "isStartableInTasklist": _PROCESS,
    "collection": _LOOP, "elementVariable": _LOOP,
    # SpiffWorkflow's Camunda parser reads these as a message's payload and target variable.
    "expression": _MESSAGE, "resultVariable": _MESSAGE,
    "calledElementBinding": frozenset({bpmn("callActivity")}),
    # an external service task waits for a worker fetching its topic (engine.external)
    "type": _SERVICE, "topic": _SERVICE,
    # the text Camunda Modeler keeps beside an error's code; nothing in Parkflow reads it
    # (camunda:errorMessageVariable, which would, stays refused)
    "errorMessage": frozenset({bpmn("error")}),
    "calledElementVersion": frozenset({bpmn("callActivity")}),
    "calledElementVersionTag": frozenset({bpmn("callActivity")}),
}
CALL_BINDINGS = frozenset({"deployment", "latest", "version", "versionTag"})
_DELEGATE = "Parkflow runs no Java code; call a registered service with a 'service' property"
HINTS = {
    "class": _DELEGATE,
    "delegateExpression": _DELEGATE,
    "expression": _DELEGATE,
    "resultVariable": "outputs are merged into the process data under their own names",
    "mapDecisionResult": "outputs are merged into the process data under their own names",
    "candidateStarterGroups": "who may start a process is managed in Parkflow, not in the diagram",
    "candidateStarterUsers": "who may start a process is managed in Parkflow, not in the diagram",
    "connector": "call a registered service with a 'service' property instead",
    "field": _DELEGATE,
    "calledElementTenantId": "a park is Parkflow's tenant: a call activity reaches the "
                             "procedures of its own park",
}
# Other engines' extensions: Parkflow would ignore them, so a diagram using them is refused.
FOREIGN_NAMESPACES = {
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
    "http://activiti.org/bpmn": "activiti",
    "http://flowable.org/bpmn": "flowable",
    "http://spiffworkflow.org/bpmn/schema/1.0/core": "spiffworkflow",
    "http://www.jboss.org/drools": "drools",
}
_UNSUPPORTED_ELEMENTS = {
    bpmn("complexGateway"): "complex gateways are not supported",
    bpmn("adHocSubProcess"): "ad-hoc subprocesses are not supported (experimental in the engine)",
    bpmn("compensateEventDefinition"): "compensation is not supported",
    bpmn("linkEventDefinition"): "link events are not supported by the engine",
    bpmn("dataStoreReference"): "data stores are not supported",
    bpmn("dataStore"): "data stores are not supported",
    bpmn("import"): "bpmn:import is not supported: deploy the imported files together instead",
}
_EVENT_DEFINITIONS = frozenset(bpmn(t) for t in (
    "messageEventDefinition", "timerEventDefinition", "errorEventDefinition",
    "escalationEventDefinition", "signalEventDefinition", "cancelEventDefinition",
    "compensateEventDefinition", "conditionalEventDefinition",
))
SCRIPT_FORMATS = frozenset({"", "python", "python3"})
# extension elements Parkflow runs, each checked in full by ``validation_mappings``
MAPPED_EXTENSIONS = frozenset(camunda(t) for t in (
    "inputOutput", "in", "out", "executionListener", "taskListener"))


def check_support(doc: Document) -> Iterator[Problem]:
    """Constructs, attributes and extensions that Parkflow cannot honour."""
    for element in doc.elements():
        message = _UNSUPPORTED_ELEMENTS.get(element.tag)
        if message:
            yield problem(element, message, code="unsupported_element",
                          tag=local_name(element))
        if element.get("isForCompensation") == "true":
            yield problem(element, "compensation is not supported")
        yield from _check_attributes(element)
        if element.tag == bpmn("extensionElements"):
            yield from _check_extensions(element)
    yield from _check_tasks(doc)


def _check_attributes(element: etree._Element) -> Iterator[Problem]:
    for name, value in element.attrib.items():
        qname = etree.QName(name)
        if qname.namespace == CAMUNDA_NS:
            yield from _check_camunda_attribute(element, str(qname.localname), value)
        elif qname.namespace in FOREIGN_NAMESPACES:
            prefix = FOREIGN_NAMESPACES[str(qname.namespace)]
            yield problem(element, f"{prefix}:{qname.localname} is not supported "
                                   "(Parkflow reads camunda: extensions only)")


def _check_camunda_attribute(element: etree._Element, name: str, value: str) -> Iterator[Problem]:
    if name not in ALLOWED_ATTRIBUTES:
        yield problem(element, _not_supported(name), code="unsupported_camunda", name=name)
        return
    allowed_on = ALLOWED_ATTRIBUTES[name]
    if allowed_on is not None and element.tag not in allowed_on:
        yield problem(element, _not_supported(name, f"on a {local_name(element)}"))
    elif name == "type" and value != "external":
        yield problem(element, f"camunda:type '{value}' is not supported: a service task is "
                               "external (camunda:type=\"external\" with a camunda:topic) or "
                               "calls a registered service")
    elif name == "calledElementBinding" and value not in CALL_BINDINGS:
        yield problem(element, f"camunda:calledElementBinding '{value}' is not supported: use "
                               "'deployment', 'latest', 'version' or 'versionTag'")


def _not_supported(name: str, where: str = "") -> str:
    hint = HINTS.get(name)
    text = f"camunda:{name} is not supported" + (f" {where}" if where else "")
    return f"{text}: {hint}" if hint else text


def _check_extensions(extensions: etree._Element) -> Iterator[Problem]:
    for child in extensions.iterchildren(etree.Element):
        qname = etree.QName(child)
        if child.tag == camunda("properties"):
            yield from _check_properties(child)
        elif child.tag in MAPPED_EXTENSIONS or child.tag == camunda("formData"):
            continue  # formData is checked in full by ``formdata``
        elif qname.namespace == CAMUNDA_NS:
            yield problem(child, _not_supported(str(qname.localname)))
        else:
            prefix = child.prefix or FOREIGN_NAMESPACES.get(str(qname.namespace), qname.namespace)
            name = f"{prefix}:{qname.localname}" if prefix else str(qname.localname)
            yield problem(child, f"extension element {name} is not supported")


def _check_properties(properties: etree._Element) -> Iterator[Problem]:
    for child in properties.iterchildren(etree.Element):
        if child.tag != camunda("property"):
            yield problem(child, "camunda:properties may contain camunda:property elements only")
        elif not (child.get("name") or "").strip():
            yield problem(child, "camunda:property needs a name")


def _check_tasks(doc: Document) -> Iterator[Problem]:
    for task in doc.iter(bpmn("serviceTask")):
        name = service_name(task)
        if task.get(camunda("type")) is not None or task.get(camunda("topic")) is not None:
            yield from _check_external(task, name)
        elif not name:
            known = ", ".join(sorted(SERVICES)) or "none"
            yield problem(task, "a service task needs a camunda:properties property 'service' "
                                f"naming a registered service: the registered ones are {known}",
                          code="service_not_named", known=known)
        elif name == HTTP_SERVICE:
            yield from _check_http(task)
        else:
            yield from _check_registered(task, name)
    for task in doc.iter(bpmn("sendTask")):
        # a send task throws its message (messageRef), calls a service, or both
        name = service_name(task)
        if name:
            yield from _check_registered(task, name)
        elif not task.get("messageRef") and task.find(bpmn("messageEventDefinition")) is None:
            yield problem(task, "a send task needs a messageRef naming the message it sends, "
                                "or a camunda:properties property 'service' naming a "
                                "registered service", code="send_task_without_message")
    for task in doc.iter(bpmn("scriptTask")):
        script_format = (task.get("scriptFormat") or "").strip()
        if script_format.casefold() not in SCRIPT_FORMATS:
            yield problem(task, f"scriptFormat '{script_format}' is not supported: "
                                "scripts are Python")
    for event in doc.iter(bpmn("boundaryEvent")):
        if not any(child.tag in _EVENT_DEFINITIONS for child in event):
            yield problem(event, "boundary event has no event definition")
    for gateway in doc.iter(bpmn("eventBasedGateway")):
        yield from _check_event_gateway(gateway, doc)
    for end in doc.iter(bpmn("endEvent")):
        yield from _check_end_result(end)


def _check_external(task: etree._Element, name: str | None) -> Iterator[Problem]:
    if task.get(camunda("type")) != "external":
        if task.get(camunda("type")) is None:
            yield problem(task, 'camunda:topic needs camunda:type="external" on the same task')
        return
    if not (task.get(camunda("topic")) or "").strip():
        yield problem(task, "an external service task needs a camunda:topic its workers fetch",
                      code="external_without_topic")
    if name:
        yield problem(task, f"an external service task calls no registered service: "
                            f"remove the 'service' property '{name}' or camunda:type")


def _check_http(task: etree._Element) -> Iterator[Problem]:
    path = f"{bpmn('extensionElements')}/{camunda('properties')}/{camunda('property')}"
    properties = {prop.get("name") or "": prop.get("value") or "" for prop in task.iterfind(path)}
    for code, message, facts in config_problems(properties):
        found = problem(task, f"HTTP connector: {message}", code=code)
        yield dataclasses.replace(found, params=tuple(facts.items()))


def _check_registered(task: etree._Element, name: str) -> Iterator[Problem]:
    if name not in SERVICES:
        known = ", ".join(sorted(SERVICES)) or "none"
        yield problem(task, f"no service named '{name}' is registered (known: {known})",
                      code="unknown_service", name=name, known=known)


def _check_end_result(end: etree._Element) -> Iterator[Problem]:
    path = f"{bpmn('extensionElements')}/{camunda('properties')}/{camunda('property')}"
    for prop in end.iterfind(path):
        if prop.get("name") == "result" and prop.get("value") not in END_RESULTS:
            yield problem(end, f"an end event's result '{prop.get('value')}' is none of "
                               f"{', '.join(END_RESULTS)}")


def service_name(task: etree._Element) -> str | None:
    """The registered service a service task calls (its ``service`` property), if any."""
    path = f"{bpmn('extensionElements')}/{camunda('properties')}/{camunda('property')}"
    for prop in task.iterfind(path):
        if prop.get("name") == "service":
            value = (prop.get("value") or "").strip()
            return value or None
    return None


def _check_event_gateway(gateway: etree._Element, doc: Document) -> Iterator[Problem]:
    # SpiffWorkflow 3.2 stores one due time for the whole gateway, so with two timers the
    # later one fires at the earlier one's time (or not at all).
    timers = 0
    for flow in gateway.getparent().iterchildren(SEQUENCE_FLOW):
        target = doc.by_id.get(flow.get("targetRef", "")) if flow.get("sourceRef") == \
            gateway.get("id") else None
        if target is not None and target.find(bpmn("timerEventDefinition")) is not None:
            timers += 1
    if timers > 1:
        yield problem(gateway, "an event-based gateway may wait for one timer only")
