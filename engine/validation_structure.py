"""Deploy-time checks of a diagram's shape: executable processes, references, flows, lanes."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from .bpmn_doc import (
    ACTIVITIES,
    FLOW_NODES,
    SEQUENCE_FLOW,
    Deployment,
    Document,
    bpmn,
    camunda,
    is_event_subprocess,
    is_executable,
    local_name,
    problem,
)
from .errors import Problem
from .validation_approval import names_approvers

CONDITIONAL_GATEWAYS = frozenset({bpmn("exclusiveGateway"), bpmn("inclusiveGateway")})
NOBODY = ("no lane, assignee or candidates name who does this task: it goes to the park's "
          "administrators")
NO_START = "has no start event, so nothing in it can run"
_NO_INCOMING_NEEDED = frozenset({bpmn("startEvent"), bpmn("boundaryEvent")})
# BPMN's implicit end: the token of an activity, start or boundary event without outgoing
# flow simply ends there (SpiffWorkflow finishes the branch the same way). Gateways and
# intermediate events exist to pass a token on, so one without outgoing flow is a mistake.
_IMPLICIT_END = ACTIVITIES | frozenset({bpmn("startEvent"), bpmn("boundaryEvent"),
                                        bpmn("endEvent")})
_REFERENCES = (
    ("messageEventDefinition", "messageRef", "message"),
    ("receiveTask", "messageRef", "message"),
    ("sendTask", "messageRef", "message"),
    ("errorEventDefinition", "errorRef", "error"),
    ("escalationEventDefinition", "escalationRef", "escalation"),
    ("signalEventDefinition", "signalRef", "signal"),
)


def check_deployment(deploy: Deployment) -> Iterator[Problem]:
    """Deploy-wide problems: nothing to run, the same process or decision id twice."""
    if not deploy.executable():
        first = next((p for doc in deploy.bpmn for p in doc.processes()), None)
        yield Problem(first.get("id", "") if first is not None else "",
                      first.sourceline if first is not None else None, "no executable process")
    yield from _duplicates([p for doc in deploy.bpmn for p in doc.processes()], "process")
    yield from _duplicates(
        [d for doc in deploy.dmn for d in doc.root.iter("{*}decision")], "decision")
    yield from _call_cycles(deploy)


def _call_cycles(deploy: Deployment) -> Iterator[Problem]:
    """Call activities through which a process ends up calling itself.

    Such an instance would start subprocesses without end; the run-time budget would stop
    it, but the diagram can never work, so it is refused here with every call on the cycle.
    """
    calls = {key: [(call, call.get("calledElement", "")) for call in process.iter(
        bpmn("callActivity")) if call.get("calledElement", "") in deploy.processes]
        for key, process in deploy.processes.items() if is_executable(process)}
    for key, edges in calls.items():
        for call, called in edges:
            path = _call_path(calls, called, key)
            if path is not None:
                chain = " → ".join([key, *path])
                yield problem(call, f"call activity '{call.get('id')}' is part of a call "
                                    f"cycle ({chain}): a process must not call itself, "
                                    "directly or through other call activities",
                              code="call_cycle", call=call.get("id", ""), chain=chain)


def _call_path(calls: dict[str, list[tuple[etree._Element, str]]], start: str,
               goal: str) -> list[str] | None:
    """The shortest chain of called processes from ``start`` to ``goal``, or None."""
    came_from: dict[str, str | None] = {start: None}
    queue = [start]
    for current in queue:
        if current == goal:
            path: list[str] = []
            step: str | None = current
            while step is not None:
                path.append(step)
                step = came_from[step]
            return path[::-1]
        for _, called in calls.get(current, ()):
            if called not in came_from:
                came_from[called] = current
                queue.append(called)
    return None


def _duplicates(elements: list[etree._Element], what: str) -> Iterator[Problem]:
    seen: set[str] = set()
    for element in elements:
        element_id = element.get("id", "")
        if element_id in seen:
            yield problem(element, f"{what} id '{element_id}' is used twice in this deployment",
                          code="duplicate_id", what=what, id=element_id)
        seen.add(element_id)


def check_structure(doc: Document, deploy: Deployment) -> Iterator[Problem]:
    """Dangling references and flow nodes that cannot be reached or cannot be left."""
    for container in doc.containers():
        yield from _check_container(container, doc)
    yield from _check_definition_refs(doc, deploy)
    yield from _check_calls(doc, deploy)
    yield from _check_lane_refs(doc)


def _check_container(container: etree._Element, doc: Document) -> Iterator[Problem]:
    nodes = {n.get("id", ""): n for n in container.iterchildren(*FLOW_NODES)}
    flows = list(container.iterchildren(SEQUENCE_FLOW))
    incoming: dict[str, list[etree._Element]] = {}
    outgoing: dict[str, list[etree._Element]] = {}
    for flow in flows:
        yield from _check_flow_end(flow, "sourceRef", nodes, doc)
        yield from _check_flow_end(flow, "targetRef", nodes, doc)
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow)
        incoming.setdefault(flow.get("targetRef", ""), []).append(flow)
    if container.tag == bpmn("adHocSubProcess"):
        return  # its children need no flows; the construct itself is refused elsewhere
    if not any(node.tag == bpmn("startEvent") for node in nodes.values()):
        # every other node would also be "unreachable": one problem says it all
        yield problem(container, f"{local_name(container)} {NO_START}", code="no_start_event",
                      kind=local_name(container))
        return
    flows_by_id = {flow.get("id", ""): flow for flow in flows}
    for node_id, node in nodes.items():
        yield from _check_node_flows(node, incoming.get(node_id, []), outgoing.get(node_id, []))
        yield from _check_listed_flows(node, flows_by_id)
        yield from _check_default(node, outgoing.get(node_id, []))
        yield from _check_attached(node, nodes)
        yield from _check_gateway_conditions(node, outgoing.get(node_id, []))


def _check_flow_end(
    flow: etree._Element, attribute: str, nodes: dict[str, etree._Element], doc: Document
) -> Iterator[Problem]:
    ref = flow.get(attribute)
    if not ref:
        yield problem(flow, f"sequence flow has no {attribute}")
    elif ref not in nodes:
        target = doc.by_id.get(ref)
        if target is None:
            where = "does not exist"
        elif target.tag in FLOW_NODES:
            where = "is outside this process or subprocess"
        else:
            where = "is not a flow node"
        yield problem(flow, f"{attribute} '{ref}' {where}", code="dangling_flow",
                      attribute=attribute, ref=ref)


def _check_node_flows(
    node: etree._Element, incoming: list[etree._Element], outgoing: list[etree._Element]
) -> Iterator[Problem]:
    if is_event_subprocess(node) or node.get("isForCompensation") == "true":
        return
    kind = local_name(node)
    if not incoming and node.tag not in _NO_INCOMING_NEEDED:
        yield problem(node, f"{kind} has no incoming sequence flow", code="no_incoming_flow",
                      kind=kind)
    if not outgoing and node.tag not in _IMPLICIT_END:
        yield problem(node, f"{kind} has no outgoing sequence flow", code="no_outgoing_flow",
                      kind=kind)


def _check_listed_flows(
    node: etree._Element, flows: dict[str, etree._Element]
) -> Iterator[Problem]:
    for child_tag, end in (("incoming", "targetRef"), ("outgoing", "sourceRef")):
        for listed in node.iterchildren(bpmn(child_tag)):
            flow_id = (listed.text or "").strip()
            flow = flows.get(flow_id)
            if flow is None:
                yield problem(listed, f"{child_tag} lists unknown sequence flow '{flow_id}'")
            elif flow.get(end) != node.get("id"):
                yield problem(listed, f"{child_tag} lists sequence flow '{flow_id}', "
                                      f"whose {end} is '{flow.get(end)}'")


def _check_default(node: etree._Element, outgoing: list[etree._Element]) -> Iterator[Problem]:
    default = node.get("default")
    if default and default not in {f.get("id") for f in outgoing}:
        yield problem(node, f"default flow '{default}' is not an outgoing flow of this element")


def _check_attached(node: etree._Element, nodes: dict[str, etree._Element]) -> Iterator[Problem]:
    if node.tag != bpmn("boundaryEvent"):
        return
    ref = node.get("attachedToRef")
    if not ref:
        yield problem(node, "boundary event has no attachedToRef")
    elif nodes.get(ref) is None or nodes[ref].tag not in ACTIVITIES:
        yield problem(node, f"attachedToRef '{ref}' is not an activity of this process")


def _check_gateway_conditions(
    node: etree._Element, outgoing: list[etree._Element]
) -> Iterator[Problem]:
    # With a single outgoing flow SpiffWorkflow takes it unconditionally; with more, every
    # flow but the default needs a condition or parsing fails.
    if node.tag not in CONDITIONAL_GATEWAYS or len(outgoing) < 2:
        return
    for flow in outgoing:
        if flow.get("id") != node.get("default") and flow.find(bpmn("conditionExpression")) is None:
            yield problem(flow, f"flow from gateway '{node.get('id')}' needs a condition "
                                "(or must be the gateway's default flow)")


def _check_definition_refs(doc: Document, deploy: Deployment) -> Iterator[Problem]:
    for tag, attribute, kind in _REFERENCES:
        known = deploy.definitions.get(kind, set())
        for element in doc.iter(bpmn(tag)):
            ref = element.get(attribute)
            if ref and ref not in known:
                yield problem(element, f"{attribute} '{ref}' names no {kind} of this deployment")
            elif not ref and tag == "signalEventDefinition":
                # SpiffWorkflow would throw and catch a signal without a name: any catch matches
                yield problem(element, "a signal event needs a signalRef naming a bpmn:signal")


def _check_calls(doc: Document, deploy: Deployment) -> Iterator[Problem]:
    for call in doc.iter(bpmn("callActivity")):
        called = call.get("calledElement")
        target = deploy.processes.get(called or "")
        if not called:
            yield problem(call, "call activity has no calledElement")
        elif target is None:
            continue  # a call out of the deployment: engine.library binds it or says why not
        elif not is_executable(target):
            yield problem(call, f"calledElement '{called}' is not executable")


def _check_lane_refs(doc: Document) -> Iterator[Problem]:
    for ref in doc.iter(bpmn("flowNodeRef")):
        process = next(ref.iterancestors(bpmn("process")), None)
        node_id = (ref.text or "").strip()
        node = doc.by_id.get(node_id)
        if node is None or node.tag not in FLOW_NODES or process not in node.iterancestors():
            yield problem(ref, f"lane refers to unknown flow node '{node_id}'")


def check_lanes(doc: Document) -> Iterator[Problem]:
    """Warnings for user tasks that name nobody: the park's administrators will get them."""
    for task in doc.iter(bpmn("userTask")):
        people = [task.get(camunda(a), "").strip()
                  for a in ("candidateGroups", "candidateUsers", "assignee")]
        if not any(people) and doc.lane_name(task) is None and not names_approvers(task):
            yield problem(task, NOBODY, code="task_without_people")
